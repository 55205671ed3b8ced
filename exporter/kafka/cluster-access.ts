import type { Kafka } from 'kafkajs';
import { partitionKey } from './partition-history';

/**
 * Two things the exporter needs are not in kafkajs's public admin API: a ListOffsets request
 * covering many topics at once (admin.fetchTopicOffsets is one topic per call, and every new topic
 * triggers a full metadata refresh, quadratic with thousands of topics), and a plain Fetch of one
 * record at a given offset (the only public way to read a record is a consumer, which must join a
 * group: seconds per collection). kafkajs builds both for its own consumer on an internal
 * `Cluster`; this module borrows that object through the client's private factory, checks the
 * handful of methods it uses, and reports `undefined` when the shape differs (another kafkajs
 * version). The collector then falls back to the public API and interpolated lag seconds.
 *
 * kafkajs is pinned to 2.2.4 in package.json, and an integration test exercises this path.
 */

export interface FetchedRecord {
  readonly offset: number;
  readonly timestampMs: number;
  /** First data record at or after the offset asked for (control records skipped); the log end when only control records follow. */
  readonly nextDataOffset?: number;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface PartitionFetch {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface ClusterAccess {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Partition ids per topic from (refreshed) metadata; topics that do not exist are absent. */
  partitionsOf(topics: readonly string[]): Promise<Map<string, number[]>>;
  /** High (log end) or low (log start) offsets of many partitions, one request per leader broker. */
  listOffsets(topics: readonly TopicPartitions[], which: 'high' | 'low'): Promise<Map<string, Map<number, number>>>;
  /**
   * The first record at or after each requested offset, one Fetch per leader broker, keyed by
   * {@link partitionKey}. Partitions whose record did not come back (truncated response, error)
   * are simply missing from the result.
   */
  fetchRecords(requests: readonly PartitionFetch[]): Promise<Map<string, FetchedRecord>>;
}

interface InternalMessage {
  readonly offset: string;
  readonly timestamp: string;
  readonly isControlRecord?: boolean;
}
interface InternalBroker {
  fetch(request: {
    replicaId?: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number; highWatermark: string; messages: InternalMessage[] }[] }[] }>;
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<InternalBroker>;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

const REQUIRED_METHODS = [
  'connect',
  'disconnect',
  'addMultipleTargetTopics',
  'refreshMetadata',
  'findTopicPartitionMetadata',
  'findLeaderForPartitions',
  'findBroker',
  'fetchTopicsOffset',
] as const;

const READ_UNCOMMITTED = 0;
/** Partitions per Fetch request: keeps one response well under the broker's 50 MB default. */
const FETCH_CHUNK = 50;
/** Bytes asked per partition: room for real (compressed, large) batches. */
const FETCH_PARTITION_BYTES = 1024 * 1024;
/** Cap of one response. */
const FETCH_MAX_BYTES = 32 * 1024 * 1024;

export function createClusterAccess(kafka: Kafka): ClusterAccess | undefined {
  const factorySymbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (factorySymbol === undefined) return undefined;
  const factory = (kafka as unknown as Record<symbol, unknown>)[factorySymbol];
  if (typeof factory !== 'function') return undefined;
  let cluster: InternalCluster;
  try {
    cluster = (factory as (o: object) => InternalCluster)({ allowAutoTopicCreation: false, isolationLevel: READ_UNCOMMITTED });
  } catch {
    return undefined;
  }
  const record = cluster as unknown as Record<string, unknown>;
  if (!REQUIRED_METHODS.every((m) => typeof record[m] === 'function')) return undefined;

  const partitionsOf = async (topics: readonly string[]): Promise<Map<string, number[]>> => {
    // addMultipleTargetTopics refreshes metadata once for all new topics; a refresh also runs
    // each collection so moved leaders and new partitions are picked up.
    await cluster.addMultipleTargetTopics([...topics]);
    await cluster.refreshMetadata();
    const result = new Map<string, number[]>();
    for (const topic of topics) {
      const ids = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      if (ids.length > 0) result.set(topic, ids.sort((a, b) => a - b));
    }
    return result;
  };

  return {
    connect: () => cluster.connect(),
    disconnect: () => cluster.disconnect(),
    partitionsOf,
    async listOffsets(topics, which) {
      const result = new Map<string, Map<number, number>>();
      if (topics.length === 0) return result;
      const response = await cluster.fetchTopicsOffset(
        topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((partition) => ({ partition })), fromBeginning: which === 'low' })),
      );
      for (const t of response) {
        const byPartition = new Map<number, number>();
        for (const p of t.partitions) {
          const offset = Number(p.offset);
          if (Number.isSafeInteger(offset) && offset >= 0) byPartition.set(p.partition, offset);
        }
        result.set(t.topic, byPartition);
      }
      return result;
    },
    async fetchRecords(requests) {
      const result = new Map<string, FetchedRecord>();
      const wanted = new Map(requests.map((r) => [partitionKey(r.topic, r.partition), r.offset]));
      // Group by leader, then chunk: one Fetch per chunk, chunks of different brokers in parallel.
      const byLeader = new Map<string, PartitionFetch[]>();
      const byTopic = new Map<string, PartitionFetch[]>();
      for (const r of requests) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      for (const [topic, list] of byTopic) {
        const leaders = cluster.findLeaderForPartitions(
          topic,
          list.map((r) => r.partition),
        );
        for (const [nodeId, partitions] of Object.entries(leaders)) {
          const bucket = byLeader.get(nodeId) ?? [];
          for (const r of list) if (partitions.includes(r.partition)) bucket.push(r);
          byLeader.set(nodeId, bucket);
        }
      }
      await Promise.all(
        [...byLeader].map(async ([nodeId, list]) => {
          const broker = await cluster.findBroker({ nodeId });
          for (let i = 0; i < list.length; i += FETCH_CHUNK) {
            const chunk = list.slice(i, i + FETCH_CHUNK);
            const topics = new Map<string, { partition: number; fetchOffset: string; maxBytes: number }[]>();
            for (const r of chunk) {
              topics.set(r.topic, [...(topics.get(r.topic) ?? []), { partition: r.partition, fetchOffset: String(r.offset), maxBytes: FETCH_PARTITION_BYTES }]);
            }
            try {
              const { responses } = await broker.fetch({
                isolationLevel: READ_UNCOMMITTED,
                // Only partitions known to hold data are asked for, so there is nothing to wait for.
                maxWaitTime: 0,
                minBytes: 1,
                maxBytes: FETCH_MAX_BYTES,
                topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
              });
              for (const t of responses) {
                for (const p of t.partitions) {
                  const key = partitionKey(t.topicName, p.partition);
                  const from = wanted.get(key);
                  if (from === undefined) continue;
                  // A batch is returned whole, so it may start before the offset asked for.
                  const after = p.messages.filter((m) => Number(m.offset) >= from);
                  const first = after.find((m) => !m.isControlRecord);
                  const high = Number(p.highWatermark);
                  if (!first) {
                    // Only transaction markers up to the end: say so (the consumer is caught up).
                    const last = after[after.length - 1];
                    if (last && Number(last.offset) + 1 >= high) result.set(key, { offset: from, timestampMs: Number(last.timestamp), nextDataOffset: high });
                    continue;
                  }
                  const ts = Number(first.timestamp);
                  if (Number.isFinite(ts) && ts > 0) result.set(key, { offset: Number(first.offset), timestampMs: ts, nextDataOffset: Number(first.offset) });
                }
              }
            } catch {
              // One failed chunk (a partition moved, a record deleted by retention) must not lose
              // the others: its partitions are missing from the result and get interpolated.
            }
          }
        }),
      );
      return result;
    },
  };
}
