import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createExporter } from '../../../exporter/exporter';
import type { Exporter } from '../../../exporter/exporter';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { createTopicsWithLeaders } from '../../support/topics';

/**
 * One partition made leaderless on the three-node cluster: a topic with replication factor 1 whose
 * partitions are placed one per node, then the node holding partition 2 is stopped. Only that
 * partition's series may go stale, meaning absent from /metrics (no lag, no high watermark: a
 * value that cannot be read is not exported, never a frozen or made-up one); the other partitions
 * of its topic stay exported, another topic's lag keeps following new commits, the target stays
 * up, and the failed request is counted in eda_exporter_partial_failures_total{request="list_offsets"}.
 * When the node is back, the partition's series come back.
 *
 * kafkajs's Metadata answer throws its first partition error (LEADER_NOT_AVAILABLE), so with a
 * leaderless partition anywhere in the cluster a metadata refresh through kafkajs fails: the
 * exporter must read metadata with partition errors kept as data (exporter/kafka/cluster-access.ts).
 */
let env: StartedEnvironment;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let exporter: Exporter | undefined;
const registry = new Registry();
const logged: string[] = [];

beforeAll(async () => {
  env = await new Environment().withKafka({ nodes: 3 }).withToxiproxy(false).start();
  kafka = new Kafka({
    clientId: 'leaderless-it',
    brokers: env.getKafkaBrokers(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
}, 240_000);

afterAll(async () => {
  await exporter?.stop();
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

type Labels = Record<string, string>;

async function series(name: string, labels: Labels): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
}

async function produce(topic: string, partition: number, count: number): Promise<void> {
  await producer.send({ topic, acks: 1, messages: Array.from({ length: count }, (_, i) => ({ value: `m${i}`, partition })) });
}

/** Commits `offset` for the (memberless) group on the given partitions. */
async function commit(groupId: string, topic: string, partitions: number[], offset: number): Promise<void> {
  await admin.setOffsets({ groupId, topic, partitions: partitions.map((partition) => ({ partition, offset: String(offset) })) });
}

/** Progress, in the failure message of a wait. */
function step(what: string): void {
  logged.push(`step ${what}`);
}

/** A failed wait, with what the exporter said: its targets' health and its log. */
function explain(err: unknown): never {
  const k = exporter?.latest.kafka;
  const partitions = k?.partitions.map((p) => `${p.topic.slice(-2)}/${p.partition} ${p.committedOffset}/${p.highWatermark}`).join(', ');
  const health = exporter?.health().map((h) => ({ ...h, partialFailures: Object.fromEntries(h.partialFailures ?? []) }));
  throw new Error(`${String(err)}; health ${JSON.stringify(health)}; partitions at ${k?.atMs}: ${partitions}; warnings ${k?.warnings.join(' | ')}; log ${logged.join(' | ')}`);
}

it('a partition made leaderless stales only its own series while the rest keep updating', async () => {
  // Topic `t`: one partition per node, replication factor 1, so partition 2 lives only on node 3.
  // Topic `u` lives on nodes 1 and 2 and keeps its traffic. (kafkajs clients cannot produce to or
  // commit on a topic while one of its partitions has no leader, so new traffic goes to `u`.)
  const t = uniqueName('leaderless');
  const u = `${t}-u`;
  const group = `${t}-g`;
  // Not kafkajs's waitForLeaders: see createTopicsWithLeaders.
  await createTopicsWithLeaders(admin, [
    { topic: t, replicaAssignment: [0, 1, 2].map((partition) => ({ partition, replicas: [partition + 1] })) },
    { topic: u, replicaAssignment: [0, 1].map((partition) => ({ partition, replicas: [partition + 1] })) },
  ]);
  for (const p of [0, 1, 2]) await produce(t, p, 10);
  for (const p of [0, 1]) await produce(u, p, 10);
  await commit(group, t, [0, 1, 2], 5);
  await commit(group, u, [0, 1], 5);

  exporter = createExporter({
    registry,
    logger: { info: (m) => void logged.push(`info ${m}`), warn: (m) => void logged.push(`warn ${m}`) },
    config: {
      intervalSeconds: 1,
      collectTimeoutSeconds: 20,
      kafka: { brokers: env.getKafkaBrokers(), groups: { allow: [group] }, topics: { allow: [`${t}*`] }, requestTimeoutMs: 3_000 },
    },
  });
  exporter.start();
  const lag = (topic: string, partition: number) => series(METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name, { group, topic, partition: String(partition) });
  const high = (topic: string, partition: number) => series(METRIC.KAFKA_PARTITION_HIGH_WATERMARK.name, { topic, partition: String(partition) });
  const listOffsetFailures = async () => (await series(METRIC.EXPORTER_PARTIAL_FAILURES.name, { target: 'kafka', request: 'list_offsets' })) ?? 0;
  const lags = async (topic: string, partitions: number[]) => Promise.all(partitions.map((p) => lag(topic, p)));
  await waitFor(async () => [...(await lags(t, [0, 1, 2])), ...(await lags(u, [0, 1]))].every((v) => v === 5), {
    description: 'lag 5 on every partition',
    timeoutMs: 30_000,
  }).catch(explain);
  expect(await listOffsetFailures()).toBe(0);

  // Stopping node 3 leaves t/2 without a leader.
  step('stopping node 3');
  await env.kafka!.node(3).stop();
  step('node 3 stopped');
  await waitFor(async () => (await lag(t, 2)) === undefined && (await high(t, 2)) === undefined, { description: 't/2 stale (absent)', timeoutMs: 60_000 }).catch(explain);
  // Only its own series: the other partitions of its topic are still read and exported.
  expect(await lags(t, [0, 1])).toEqual([5, 5]);
  expect([await high(t, 0), await high(t, 1)]).toEqual([10, 10]);

  // The rest keeps updating: new messages and new commits on u, through a fresh client (a kafkajs
  // client that ever used t refreshes t's metadata with every request, which now fails).
  const fresh = new Kafka({ clientId: 'leaderless-it-u', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2_000 } });
  const freshProducer = fresh.producer();
  const freshAdmin = fresh.admin();
  try {
    await freshProducer.connect();
    await freshAdmin.connect();
    for (const p of [0, 1]) await freshProducer.send({ topic: u, acks: 1, messages: Array.from({ length: 5 }, (_, i) => ({ value: `n${i}`, partition: p })) });
    await freshAdmin.setOffsets({ groupId: group, topic: u, partitions: [0, 1].map((partition) => ({ partition, offset: '8' })) });
  } finally {
    await freshProducer.disconnect().catch(() => undefined);
    await freshAdmin.disconnect().catch(() => undefined);
  }
  await waitFor(async () => (await lags(u, [0, 1])).every((v) => v === 7), { description: 'lag 7 on u after the new commits', timeoutMs: 60_000 }).catch(explain);
  step('u updated');
  const failuresBefore = await listOffsetFailures();
  expect(failuresBefore).toBeGreaterThan(0);
  // Collections go on succeeding, each counting t/2's failed request again.
  await waitFor(async () => (await listOffsetFailures()) > failuresBefore, { description: 'more list_offsets partial failures', timeoutMs: 30_000 }).catch(explain);
  expect(await series(METRIC.EXPORTER_UP.name, { target: 'kafka' })).toBe(1);
  expect(await lag(t, 2)).toBeUndefined();
  expect(await series(METRIC.EXPORTER_COLLECTED_OBJECTS.name, { target: 'kafka', object: 'partitions' })).toBe(4);

  // Back: the partition's series return with its own numbers.
  step('starting node 3');
  await env.kafka!.node(3).start();
  step('node 3 started');
  await waitFor(async () => (await lag(t, 2)) === 5 && (await high(t, 2)) === 10, { description: 't/2 back', timeoutMs: 90_000 }).catch(explain);
  expect(await series(METRIC.EXPORTER_UP.name, { target: 'kafka' })).toBe(1);
}, 300_000);
