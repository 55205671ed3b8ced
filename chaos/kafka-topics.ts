import type { Admin, ITopicConfig } from 'kafkajs';
import { waitFor } from '@eda-harness/core';

/** How the harness waits, after creating topics, for every partition to have a leader. */
export interface LeaderWaitOptions {
  readonly timeoutMs?: number;
}

/** True once the metadata lists every topic named, each with partitions that all have a leader. */
export function everyPartitionLed(names: readonly string[], metadata: { topics: readonly { name: string; partitions: readonly { leader: number }[] }[] }): boolean {
  return names.every((name) => {
    const found = metadata.topics.find((t) => t.name === name);
    return found !== undefined && found.partitions.length > 0 && found.partitions.every((p) => p.leader >= 0);
  });
}

/**
 * Creates topics, then asks for their metadata again until every partition has a leader.
 *
 * Not kafkajs's `createTopics({ waitForLeaders: true })`: on a cluster of several nodes its metadata
 * request can reach a node that has not learned of the new topic yet, which answers "This server
 * does not host this topic-partition", and kafkajs gives up on that answer. Here such an answer
 * means "not yet", and the wait ends only when the leaders are there or `timeoutMs` has passed
 * (the last answer is kept in the timeout's message).
 */
export async function createTopicsWithLeaders(admin: Admin, topics: readonly ITopicConfig[], options: LeaderWaitOptions = {}): Promise<void> {
  if (topics.length === 0) return;
  // waitForLeaders defaults to true in kafkajs: it must be turned off, not left out.
  await admin.createTopics({ topics: [...topics], waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  await waitFor(async () => everyPartitionLed(names, await admin.fetchTopicMetadata({ topics: names })), {
    description: `a leader for every partition of ${names.join(', ')}`,
    timeoutMs: options.timeoutMs ?? 30_000,
    intervalMs: 200,
  });
}
