import type { Admin, ITopicConfig } from 'kafkajs';
import { waitFor } from '../../core/wait-for';

/**
 * createTopics, then metadata asked again until every partition of every topic has a leader.
 * kafkajs's own `waitForLeaders` gives up on the first "does not host this topic-partition" from
 * a node of a three-node cluster that has not learned of a new topic yet (two CI runs of
 * 2026-12-03 failed so).
 */
export async function createTopicsWithLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ topics });
  const names = topics.map((t) => t.topic);
  await waitFor(
    async () => {
      try {
        const metadata = await admin.fetchTopicMetadata({ topics: names });
        return names.every((name) => {
          const found = metadata.topics.find((t) => t.name === name);
          return found !== undefined && found.partitions.length > 0 && found.partitions.every((p) => p.leader >= 0);
        });
      } catch {
        return false;
      }
    },
    { description: `a leader for every partition of ${names.join(', ')}`, timeoutMs },
  );
}
