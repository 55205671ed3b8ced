import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createKafkaCollector } from '../../../exporter/kafka/collector';
import type { KafkaSnapshotDetail } from '../../../exporter/kafka/snapshot';
import type { Collector, KafkaSnapshot } from '../../../exporter/types';
import { uniqueName } from '../../support/names';

/**
 * Consumer status on a real broker, for what the broker does: an offset reset (the committed
 * offset moving backwards, as `kafka-consumer-groups --reset-offsets` or a replay leaves it) is
 * REWIND while inside the status window. The rules themselves are unit-tested over plain objects
 * (test/unit/exporter/consumer-status.test.ts, kafka-snapshot.test.ts).
 */

const WINDOW_SECONDS = 4;
let env: StartedEnvironment;
let admin: Admin;
let producer: Producer;
let collector: Collector<KafkaSnapshot>;
const prefix = uniqueName('status');

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  const kafka = new Kafka({ clientId: 'consumer-status-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
  collector = createKafkaCollector({
    config: { brokers: env.getKafkaBrokers(), groups: { allow: [`${prefix}*`] }, topics: { allow: [`${prefix}*`] }, statusWindowSeconds: WINDOW_SECONDS },
  });
}, 180_000);

afterAll(async () => {
  await collector?.close();
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

const collect = async (): Promise<KafkaSnapshotDetail> => (await collector.collect()) as KafkaSnapshotDetail;

describe('REWIND', () => {
  it('an offset reset of a group shows as REWIND (and in rewound) for one status window, then the usual rules', async () => {
    const topic = `${prefix}-reset`;
    const group = `${prefix}-reset-g`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `m${i}`, partition: 0 })) });
    const setOffset = (offset: number) => admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: String(offset) }] });

    await setOffset(20);
    await waitFor(async () => (await collect()).groups.find((g) => g.group === group)?.status === 'OK', { description: 'the caught-up group seen OK' });

    await setOffset(5);
    const rewound = await waitFor(
      async () => {
        const s = await collect();
        return s.groups.find((g) => g.group === group)?.status === 'REWIND' ? s : undefined;
      },
      { description: 'status REWIND after the reset', timeoutMs: 15_000 },
    );
    const resetSeenAt = Date.now();
    expect(rewound.rewound).toContain(group);
    expect(rewound.partitions.find((p) => p.group === group)?.lagMessages).toBe(15);

    // Offsets that do not move under waiting messages, no members: once the reset has left the
    // window it is STALL (an offset-only group, judged by offset movement), no longer REWIND.
    const after = await waitFor(
      async () => {
        const s = await collect();
        const status = s.groups.find((g) => g.group === group)?.status;
        return status !== 'REWIND' ? { s, status } : undefined;
      },
      { description: 'REWIND to end after one status window', timeoutMs: 30_000 },
    );
    expect(Date.now() - resetSeenAt).toBeGreaterThanOrEqual(WINDOW_SECONDS * 1000 - 1_000);
    expect(after.status).toBe('STALL');
    expect(after.s.rewound).not.toContain(group);
  }, 90_000);
});
