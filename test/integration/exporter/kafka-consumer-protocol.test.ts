import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { ensureKafka } from '../../../environment/provision';
import { waitFor } from '../../../core/wait-for';
import { createSecuredKafkaClient } from '../../../exporter/kafka/collector';
import { closeConnection, openConnection, readCluster } from '../../../exporter/kafka/read-cluster';
import type { KafkaConnection } from '../../../exporter/kafka/read-cluster';
import type { ClusterRead } from '../../../exporter/kafka/cluster-read';
import { createNameFilter } from '../../../exporter/name-filter';
import { uniqueName } from '../../support/names';

/**
 * A group of the Kafka 4 consumer protocol (KIP-848), which the classic DescribeGroups reports as
 * "Dead, no members": described through ConsumerGroupDescribe with its state, member and
 * assignment, next to a classic group described in the same collection, and its lag read.
 */

let env: StartedEnvironment;
let admin: Admin;
let connection: KafkaConnection;
let javaConsumer: ChildProcess | undefined;
const prefix = uniqueName('kip848');
const topic = `${prefix}-t`;
const newGroup = `${prefix}-new`;
const classicGroup = `${prefix}-classic`;
/** Each partition's end offset after the set-up's sends: what the Java consumer commits once it has read everything. */
let endOffsets = new Map<number, number>();

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  const kafka = new Kafka({ clientId: 'kip848-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  // Idempotent: a send retried on a loaded machine must not write its batch twice (one CI run
  // found 20 records on two partitions where 10 were sent, and waited for offset 10 in vain).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: `m${i}`, partition: i % 3 })) });
  await producer.disconnect();
  endOffsets = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.setOffsets({ groupId: classicGroup, topic, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '4' })) });
  connection = await openConnection(createSecuredKafkaClient({ brokers: env.getKafkaBrokers() }));
}, 180_000);

afterAll(async () => {
  javaConsumer?.kill('SIGTERM');
  if (connection) await closeConnection(connection);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

const read = (): Promise<ClusterRead> =>
  readCluster(connection, {
    groups: createNameFilter({ allow: [`${prefix}-*`] }),
    selection: { topics: createNameFilter({ allow: [topic] }), dlqPatterns: [] },
    concurrency: 4,
  });

it('describes a consumer-protocol group (state, member, assignment) beside a classic group, with both groups\' offsets', async () => {
  const runtime = await ensureKafka();
  const source = join(__dirname, 'fixtures', 'NewProtocolConsumer.java');
  javaConsumer = spawn(runtime.java, ['-cp', runtime.classpath, source, env.getKafkaBrokers().join(','), newGroup, topic, '170'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  javaConsumer.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  javaConsumer.stderr?.on('data', (d: Buffer) => (output += d.toString()));

  let last: ClusterRead | undefined;
  const shown = (r: ClusterRead | undefined): string =>
    JSON.stringify(r?.groups.map((x) => ({ group: x.group, ...x.description, assigned: [...(x.description?.assigned ?? [])].map(([t, ps]) => [t, [...ps]]), committed: [...(x.committed?.get(topic) ?? [])] })));
  await waitFor(
    async () => {
      last = await read();
      const g = last.groups.find((x) => x.group === newGroup);
      const committed = g?.committed?.get(topic);
      return g?.description?.state === 'Stable' && committed?.size === 3 && [...endOffsets].every(([p, end]) => committed.get(p) === end);
    },
    { description: `the Java consumer-protocol group to be Stable with its offsets at the end of the 3 partitions (${JSON.stringify([...endOffsets])})`, timeoutMs: 120_000 },
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last read ${shown(last)}; warnings ${JSON.stringify(last?.warnings)}; consumer output: ${output.slice(-800)}`);
  });
  expect([...endOffsets.values()]).toEqual([10, 10, 10]);
  const g = last!.groups.find((x) => x.group === newGroup)!;
  expect(g.description).toEqual({ state: 'Stable', members: 1, assigned: new Map([[topic, new Set([0, 1, 2])]]), protocolType: 'consumer' });
  const classic = last!.groups.find((x) => x.group === classicGroup)!;
  expect(classic.description?.state).toBe('Empty');
  expect(classic.description?.protocolType).toBe('consumer');
  expect([...(classic.committed?.get(topic)?.values() ?? [])]).toEqual([4, 4, 4]);
  expect(last!.warnings).toEqual([]);
}, 200_000);
