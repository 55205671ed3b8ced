import { Kafka, logLevel } from 'kafkajs';
import { Environment, type StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { uniqueName } from '../../support/names';
import { createTopicsWithLeaders } from '../../support/topics';

/**
 * Three combined KRaft nodes on one host (replication factor 3, min.insync.replicas 2), clients
 * through Toxiproxy. The failover test SIGKILLs the partition leader mid-stream: with acks -1,
 * everything the producer saw acknowledged must be consumed afterwards.
 */
let env: StartedEnvironment;
let kafka: Kafka;

beforeAll(async () => {
  env = await new Environment().withKafka({ nodes: 3 }).withToxiproxy().start();
  kafka = new Kafka({
    clientId: 'cluster-test',
    brokers: env.getKafkaBrokers(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 10_000,
    retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 3000 },
  });
}, 240_000);

afterAll(async () => {
  await env?.stop();
});

it('runs three nodes with replication factor 3 and min.insync.replicas 2', async () => {
  expect(env.kafka?.nodes.map((n) => n.nodeId)).toEqual([1, 2, 3]);
  const topic = uniqueName('rf');
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsWithLeaders(admin, [{ topic, numPartitions: 3 }]);
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  for (const p of meta.topics[0]?.partitions ?? []) expect(p.replicas).toHaveLength(3);
  const cfg = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
  expect(cfg.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');
  await admin.disconnect();
});

it('round-trips messages with acks -1', async () => {
  const topic = uniqueName('acks');
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` })) });
  await producer.disconnect();
  const got = new Set<string>();
  const consumer = kafka.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void got.add(message.value?.toString() ?? '') });
  await waitFor(() => got.size === 50, { description: '50 messages consumed', timeoutMs: 60_000 });
  await consumer.disconnect();
});

it('keeps every acknowledged message when the partition leader is SIGKILLed mid-stream', async () => {
  const topic = uniqueName('failover');
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsWithLeaders(admin, [{ topic, numPartitions: 1, replicationFactor: 3 }]);
  await admin.disconnect();
  const leader = await env.kafka!.leaderOf(topic, 0);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked: string[] = [];
  const failed: string[] = [];
  let seq = 0;
  let stop = false;
  const pump = (async () => {
    while (!stop) {
      const value = `m${seq++}`;
      try {
        await producer.send({ topic, acks: -1, messages: [{ value }] });
        acked.push(value);
      } catch {
        failed.push(value);
      }
    }
  })();

  await waitFor(() => acked.length >= 100, { description: '100 acknowledged sends before the fault', timeoutMs: 60_000 });
  const beforeKill = acked.length;
  await leader.kill();
  expect(leader.running).toBe(false);
  // The producer continues after failover: more sends are acknowledged with the old leader dead.
  await waitFor(() => acked.length >= beforeKill + 100, { description: '100 more acknowledged sends after the leader died', timeoutMs: 90_000 });
  stop = true;
  await pump;
  await producer.disconnect();
  const newLeader = await env.kafka!.leaderOf(topic, 0);
  expect(newLeader.nodeId).not.toBe(leader.nodeId);

  const consumed = new Set<string>();
  const consumer = kafka.consumer({ groupId: uniqueName('verify'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void consumed.add(message.value?.toString() ?? '') });
  await waitFor(() => acked.every((v) => consumed.has(v)), {
    description: `all ${acked.length} acknowledged messages to be consumed`,
    timeoutMs: 60_000,
  });
  await consumer.disconnect();

  // The killed node rejoins with its data.
  await leader.start();
  expect(leader.running).toBe(true);
  console.log(`failover: ${acked.length} acknowledged, ${failed.length} failed sends, leader ${leader.nodeId} → ${newLeader.nodeId}`);
});
