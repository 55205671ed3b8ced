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
 * The Kafka numbers for consumers other than "one group per topic, subscribed": several groups at
 * different positions on one topic, a group that lost messages to retention, a manual-assignment
 * (offset-only) group. Driven through the collector on a real broker; the snapshot is what the
 * exporter renders.
 */

let env: StartedEnvironment;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let collector: Collector<KafkaSnapshot>;
const prefix = uniqueName('every');

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  kafka = new Kafka({ clientId: 'every-consumer-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
  collector = createKafkaCollector({ config: { brokers: env.getKafkaBrokers(), groups: { allow: [`${prefix}*`] }, topics: { allow: [`${prefix}*`] }, statusWindowSeconds: 4 } });
}, 180_000);

afterAll(async () => {
  await collector?.close();
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

const collect = async (): Promise<KafkaSnapshotDetail> => (await collector.collect()) as KafkaSnapshotDetail;
const partitionOf = (s: KafkaSnapshot, group: string, topic: string) => s.partitions.find((p) => p.group === group && p.topic === topic && p.partition === 0);

async function createTopic(name: string, configEntries: { name: string; value: string }[] = []): Promise<string> {
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 1, configEntries }], waitForLeaders: true });
  return name;
}

/** Sends records to partition 0 with the given CreateTimes, returning the offset of each. */
async function sendAt(topic: string, timestamps: readonly number[]): Promise<Map<number, number>> {
  const [meta] = await producer.send({ topic, messages: timestamps.map((ts, i) => ({ value: `m${i}`, partition: 0, timestamp: String(ts) })) });
  const base = Number(meta!.baseOffset);
  return new Map(timestamps.map((ts, i) => [base + i, ts]));
}

/** Commits an offset for a group with no members (an offset-only group, as assign() + commit leaves it). */
const commit = (groupId: string, topic: string, offset: number) => admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: String(offset) }] });

describe('lag in seconds for every group on a topic', () => {
  it('two groups at different positions each get their own record age, within max(2 s, 5 %), at every collection', async () => {
    const topic = await createTopic(`${prefix}-two`);
    const start = Date.now() - 200_000;
    // One record per second of CreateTime, 200 s ago to now: offset i was "written" at start + i s.
    const times = await sendAt(
      topic,
      Array.from({ length: 200 }, (_, i) => start + i * 1_000),
    );
    const behind = `${prefix}-behind`;
    const near = `${prefix}-near`;
    await commit(behind, topic, 20);
    await commit(near, topic, 150);

    const errors: string[] = [];
    for (let i = 0; i < 6; i++) {
      // The behind group moves between collections, the near one does not: the cache must follow both.
      if (i === 3) await commit(behind, topic, 40);
      const s = await collect();
      for (const group of [behind, near]) {
        const p = partitionOf(s, group, topic);
        const ts = p === undefined ? undefined : times.get(p.committedOffset);
        if (p === undefined || ts === undefined) {
          errors.push(`collection ${i}: ${group} has no sample`);
          continue;
        }
        const truth = (s.atMs - ts) / 1000;
        if (!(Math.abs(p.lagSeconds - truth) <= Math.max(2, 0.05 * truth))) {
          errors.push(`collection ${i}: ${group} at ${p.committedOffset}: ${p.lagSeconds} s (${p.lagSecondsSource}), truth ${truth.toFixed(1)} s`);
        }
      }
    }
    expect(errors).toEqual([]);
  }, 60_000);
});

describe('retention', () => {
  it('messages deleted before a group read them are exported as lost, with the log start', async () => {
    const topic = await createTopic(`${prefix}-retention`);
    const now = Date.now();
    await sendAt(
      topic,
      Array.from({ length: 50 }, () => now),
    );
    const group = `${prefix}-late`;
    await commit(group, topic, 10);
    // What retention does to an old segment, on demand: the log start moves to 30.
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '30' }] });
    const s = await waitFor(
      async () => {
        const snap = await collect();
        return snap.retentionLoss.find((l) => l.group === group && l.topic === topic);
      },
      { timeoutMs: 15_000, description: 'retention loss reported' },
    );
    expect(s).toEqual({ group, topic, partition: 0, messages: 20 });
    const snap = await collect();
    expect(snap.lowWatermarks.find((w) => w.topic === topic)).toEqual({ topic, partition: 0, low: 30 });
    expect(partitionOf(snap, group, topic)?.lagMessages).toBe(40);
  }, 60_000);
});

describe('manual-assignment groups', () => {
  it('an offset-only group (commits, no members) is marked manual from its first move, has no member count and stays OK while it moves', async () => {
    const topic = await createTopic(`${prefix}-manual`);
    const now = Date.now();
    await sendAt(
      topic,
      Array.from({ length: 100 }, () => now),
    );
    const group = `${prefix}-manual`;
    const statuses: string[] = [];
    // Kafka 4 lists it as an empty "consumer" group: its first sighting cannot tell it from a
    // subscribed group whose consumers left. Its offsets moving without members does.
    await commit(group, topic, 5);
    await collect();
    // For longer than the 4 s status window, the offset moves at every collection and lag stays.
    const until = Date.now() + 6_000;
    for (let offset = 10; Date.now() < until; offset = Math.min(offset + 1, 90)) {
      await commit(group, topic, offset);
      const s = await collect();
      const g = s.groups.find((x) => x.group === group);
      expect(g?.members).toBeUndefined();
      expect(s.assignment.get(group)).toBe('manual');
      statuses.push(g!.status);
    }
    expect(statuses.every((x) => x === 'OK')).toBe(true);
  }, 60_000);
});
