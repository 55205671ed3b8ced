import type { Admin } from 'kafkajs';
import { createTopicsWithLeaders, everyPartitionLed } from '../../../chaos/kafka-topics';

type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;
const led = (name: string, leaders: number[]): Metadata['topics'][number] =>
  ({ name, partitions: leaders.map((leader, partitionId) => ({ partitionId, leader, replicas: [], isr: [], offlineReplicas: [], partitionErrorCode: 0 })) }) as Metadata['topics'][number];

/** An admin whose metadata answers come from a script: an error to throw, or the metadata. */
function scriptedAdmin(answers: (Error | Metadata)[]): { admin: Admin; created: unknown[]; asked: () => number } {
  const created: unknown[] = [];
  let n = 0;
  const admin = {
    createTopics: async (o: unknown) => {
      created.push(o);
      return true;
    },
    fetchTopicMetadata: async () => {
      const a = answers[Math.min(n++, answers.length - 1)] as Error | Metadata;
      if (a instanceof Error) throw a;
      return a;
    },
  } as unknown as Admin;
  return { admin, created, asked: () => n };
}

describe('everyPartitionLed', () => {
  it('holds only when every topic named is there with partitions that all have a leader', () => {
    expect(everyPartitionLed(['a', 'b'], { topics: [led('a', [1, 2]), led('b', [3])] })).toBe(true);
    expect(everyPartitionLed(['a', 'b'], { topics: [led('a', [1, 2])] })).toBe(false);
    expect(everyPartitionLed(['a'], { topics: [led('a', [1, -1])] })).toBe(false);
    expect(everyPartitionLed(['a'], { topics: [led('a', [])] })).toBe(false);
  });
});

describe('createTopicsWithLeaders', () => {
  it('takes "does not host this topic-partition" from a node that does not know the topic yet as "not yet"', async () => {
    const notHosted = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
    const { admin, created, asked } = scriptedAdmin([notHosted, { topics: [led('t', [-1, 2])] }, { topics: [led('t', [1, 2])] }]);
    await createTopicsWithLeaders(admin, [{ topic: 't', numPartitions: 2 }]);
    // Not kafkajs's own wait, which gives up on that answer: it is on unless turned off.
    expect(created).toEqual([{ topics: [{ topic: 't', numPartitions: 2 }], waitForLeaders: false }]);
    expect(asked()).toBe(3);
  });

  it('times out with the last answer in the message when a leader never comes', async () => {
    const { admin } = scriptedAdmin([new Error('This server does not host this topic-partition')]);
    await expect(createTopicsWithLeaders(admin, [{ topic: 't' }], { timeoutMs: 300 })).rejects.toThrow(/a leader for every partition of t.*does not host this topic-partition/);
  });

  it('creates nothing for no topics', async () => {
    const { admin, created, asked } = scriptedAdmin([]);
    await createTopicsWithLeaders(admin, []);
    expect(created).toEqual([]);
    expect(asked()).toBe(0);
  });
});
