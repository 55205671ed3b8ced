import type { Admin, ITopicConfig } from 'kafkajs';
import { createTopicsWithLeaders as create } from '../../chaos/kafka-topics';

/** The chaos package's createTopicsWithLeaders (see there: why not kafkajs's waitForLeaders). */
export async function createTopicsWithLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await create(admin, topics, { timeoutMs });
}
