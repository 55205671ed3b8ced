import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createKafkaCollector, createSecuredKafkaClient } from '../../../exporter/kafka/collector';
import { closeConnection, openConnection, readCluster } from '../../../exporter/kafka/read-cluster';
import { createNameFilter } from '../../../exporter/name-filter';
import { renderSamples } from '../../../exporter/render-samples';
import type { Collector, KafkaSnapshot } from '../../../exporter/types';
import { uniqueName } from '../../support/names';

/** A transactional producer and a caught-up read_committed consumer: not behind, whatever the markers. */

let env: StartedEnvironment;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let consumer: Consumer;
let collector: Collector<KafkaSnapshot>;
const prefix = uniqueName('tx');

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  kafka = new Kafka({ clientId: 'tx-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer({ transactionalId: `${prefix}-producer`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  collector = createKafkaCollector({ config: { brokers: env.getKafkaBrokers(), groups: { allow: [`${prefix}*`] }, topics: { allow: [`${prefix}*`] } } });
}, 180_000);

afterAll(async () => {
  await collector?.close();
  await consumer?.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

it('a caught-up read_committed consumer of a transactional producer has lag 0 (the commit marker is not a message)', async () => {
  const topic = `${prefix}-t`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  for (let i = 0; i < 3; i++) {
    const tx = await producer.transaction();
    await tx.send({ topic, messages: [{ value: `a${i}` }, { value: `b${i}` }] });
    await tx.commit();
  }
  const group = `${prefix}-reader`;
  consumer = kafka.consumer({ groupId: group, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let consumed = 0;
  await consumer.run({ eachMessage: async () => void consumed++ });
  // kafkajs commits the offset after the last data record: the last commit marker stays "unread".
  await waitFor(async () => (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions[0]?.offset === '8' && consumed === 6, {
    description: 'the consumer to read the 6 committed messages and commit offset 8',
    timeoutMs: 30_000,
  });
  const highs: number[] = [];
  const lags: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await collector.collect();
    const p = s.partitions.find((x) => x.group === group && x.topic === topic);
    highs.push(p?.highWatermark ?? -1);
    lags.push(p?.lagMessages ?? -1, p?.lagSeconds ?? -1);
  }
  expect(highs).toEqual([9, 9, 9]);
  expect(lags).toEqual([0, 0, 0, 0, 0, 0]);
}, 90_000);

it('reads the last stable offset: below an open transaction, at the end once it commits', async () => {
  const topic = `${prefix}-lso`;
  const group = `${prefix}-lso-reader`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const committed = await producer.transaction();
  await committed.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
  await committed.commit(); // offsets 0, 1, marker 2
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '0' }] });
  const open = await producer.transaction();
  await open.send({ topic, messages: [{ value: 'c' }, { value: 'd' }] }); // offsets 3, 4, not committed
  const connection = await openConnection(createSecuredKafkaClient({ brokers: env.getKafkaBrokers() }));
  const read = async (): Promise<{ high: number | undefined; stable: number | undefined }> => {
    const r = await readCluster(connection, {
      groups: createNameFilter({ allow: [group] }),
      selection: { topics: createNameFilter({ allow: [topic] }), dlqPatterns: [] },
      concurrency: 4,
    });
    return { high: r.high.get(topic)?.get(0), stable: r.stable?.get(topic)?.get(0) };
  };
  // What the exporter exports: the rendered high watermark and last stable offset gauges.
  const rendered = async (): Promise<{ high: number | undefined; stable: number | undefined }> => {
    const samples = renderSamples({ granularity: 'partition', kafka: await collector.collect(), rabbitmq: undefined, health: [] });
    const of = (key: string) => samples.find((x) => x.key === key && x.labels['topic'] === topic && x.labels['partition'] === '0')?.value;
    return { high: of('KAFKA_PARTITION_HIGH_WATERMARK'), stable: of('KAFKA_PARTITION_LAST_STABLE_OFFSET') };
  };
  try {
    expect(await read()).toEqual({ high: 5, stable: 3 });
    expect(await rendered()).toEqual({ high: 5, stable: 3 });
    await open.commit(); // marker 5
    await waitFor(async () => (await read()).stable === 6, { description: 'the last stable offset to reach the end after the commit', timeoutMs: 15_000 });
    expect(await read()).toEqual({ high: 6, stable: 6 });
    expect(await rendered()).toEqual({ high: 6, stable: 6 });
  } finally {
    await closeConnection(connection);
  }
}, 90_000);
