import { createRequire } from 'node:module';
import type { GroupDescription, Kafka } from 'kafkajs';
import { mapLimit } from '../map-limit';
import type { Settled } from '../map-limit';
import { CONSUMER_GROUP_DESCRIBE_API_KEY, CONSUMER_GROUP_DESCRIBE_VERSION, decodeConsumerGroupDescribe, encodeConsumerGroupDescribe } from './consumer-group-describe';
import type { ConsumerGroupDescribed } from './consumer-group-describe';
import { decodeListOffsets, encodeListOffsets, LIST_OFFSETS_API_KEY, LIST_OFFSETS_VERSION } from './list-offsets-request';
import { batchGroupError, decodeOffsetFetchBatch, encodeOffsetFetchBatch, OFFSET_FETCH_API_KEY, OFFSET_FETCH_BATCH_VERSION } from './offset-fetch-batch';
import type { BatchGroup } from './offset-fetch-batch';
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

/** A listed group: its id and protocol type (`consumer`, `` for offset-only groups, `connect`…). */
export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
}

/** Committed offsets of one group as the broker gives them (offset `-1`: no commit). */
export type CommittedOffsets = { topic: string; partitions: { partition: number; offset: string }[] }[];

/**
 * Which offset ListOffsets returns: `high` the log end, `low` the log start, `stable` the last
 * stable offset (the end as a read_committed consumer sees it: below the first open transaction).
 */
export type OffsetKind = 'high' | 'low' | 'stable';

export interface ClusterAccess {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Partition ids per topic from (refreshed) metadata; topics that do not exist are absent. */
  partitionsOf(topics: readonly string[]): Promise<Map<string, number[]>>;
  /** Log end, log start or last stable offsets of many partitions, one request per leader broker. */
  listOffsets(topics: readonly TopicPartitions[], which: OffsetKind): Promise<Map<string, Map<number, number>>>;
  /**
   * Every topic with its partition ids, from one Metadata request (kept for the leader lookups
   * of the other calls, so a collection that starts with it reads metadata once). Optional: the
   * reads fall back to the admin client without it.
   */
  allTopics?(): Promise<Map<string, number[]>>;
  /** The groups of every broker, one ListGroups per broker, in parallel. */
  listGroups?(): Promise<ListedGroup[]>;
  /**
   * DescribeGroups, one request per group coordinator. Fails as a whole when one group fails
   * (as kafkajs's admin does), so the caller can describe a failing batch one by one.
   */
  describeGroups?(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /**
   * ConsumerGroupDescribe (KIP-848) of groups whose members use the consumer protocol, one request
   * per coordinator; undefined for a coordinator that does not speak it (before Kafka 3.7/4).
   */
  describeConsumerGroups?(groupIds: readonly string[]): Promise<ConsumerGroupDescribed[] | undefined>;
  /** OffsetFetch of every topic a group committed on, sent straight to its coordinator. */
  fetchCommitted?(groupId: string): Promise<CommittedOffsets>;
  /**
   * The committed offsets of many groups: one OffsetFetch (version 8) per coordinator and chunk
   * of groups where the broker speaks it; a group it fails for (and every group on an older
   * broker) is asked alone through {@link fetchCommitted}, at most `concurrency` at once.
   */
  fetchCommittedMany?(groupIds: readonly string[], concurrency: number): Promise<Map<string, Settled<CommittedOffsets>>>;
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
interface InternalPartitionMetadata {
  readonly partitionId: number;
  readonly leader: number;
}
interface InternalTopicMetadata {
  readonly topic: string;
  readonly partitionMetadata: readonly InternalPartitionMetadata[];
}
interface InternalGroupBroker extends InternalBroker {
  listOffsets(request: {
    isolationLevel: number;
    topics: { topic: string; partitions: { partition: number; timestamp: number }[] }[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string }[] }[] }>;
  listGroups(): Promise<{ groups: { groupId: string; protocolType: string }[] }>;
  describeGroups(request: { groupIds: string[] }): Promise<{ groups: GroupDescription[] }>;
  offsetFetch(request: { groupId: string; topics: [] }): Promise<{ responses: CommittedOffsets }>;
  /** Api key → versions the broker speaks (read at connection). */
  readonly versions?: Record<number, { minVersion: number; maxVersion: number } | undefined>;
  readonly connectionPool?: { send(request: unknown): Promise<unknown> };
}
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<InternalGroupBroker>;
  findGroupCoordinatorMetadata(options: { groupId: string; coordinatorType?: number }): Promise<{ coordinator: { nodeId: number } }>;
  readonly brokerPool?: { readonly metadata?: { readonly topicMetadata?: readonly InternalTopicMetadata[] } };
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
  'findGroupCoordinatorMetadata',
] as const;

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
/** ListOffsets timestamps: the log end (-1) and the log start (-2). */
const LATEST = -1;
const EARLIEST = -2;
/** The topic whose partitions' leaders coordinate the consumer groups. */
const OFFSETS_TOPIC = '__consumer_offsets';
const METADATA_API_KEY = 3;

/**
 * Java's String.hashCode, over UTF-16 code units as Java strings are: the broker places a group
 * on the `__consumer_offsets` partition `abs(hashCode(groupId)) % partitions` (Kafka's Utils.abs
 * maps Integer.MIN_VALUE to 0), and that partition's leader is the group's coordinator.
 */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The `__consumer_offsets` partition of a group. */
export function offsetsPartitionOf(groupId: string, partitions: number): number {
  const h = javaStringHash(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

/** Topic → partition → leader node id, from metadata; partitions without a leader are absent. */
export type LeaderIndex = ReadonlyMap<string, ReadonlyMap<number, number>>;

export function leaderIndex(topics: readonly InternalTopicMetadata[]): Map<string, Map<number, number>> {
  const index = new Map<string, Map<number, number>>();
  for (const t of topics) {
    const byPartition = new Map<number, number>();
    for (const p of t.partitionMetadata) if (Number.isInteger(p.leader) && p.leader >= 0) byPartition.set(p.partitionId, p.leader);
    index.set(t.topic, byPartition);
  }
  return index;
}

/**
 * The requests per leader: each partition under its leader's node id, grouped by topic in input
 * order. Partitions whose leader is unknown are returned apart (`leaderless`).
 */
export function byLeader<R extends { topic: string; partition: number }>(
  requests: readonly R[],
  leaders: LeaderIndex,
): { perBroker: Map<number, Map<string, R[]>>; leaderless: R[] } {
  const perBroker = new Map<number, Map<string, R[]>>();
  const leaderless: R[] = [];
  for (const r of requests) {
    const leader = leaders.get(r.topic)?.get(r.partition);
    if (leader === undefined) {
      leaderless.push(r);
      continue;
    }
    let topics = perBroker.get(leader);
    if (!topics) perBroker.set(leader, (topics = new Map()));
    let list = topics.get(r.topic);
    if (!list) topics.set(r.topic, (list = []));
    list.push(r);
  }
  return { perBroker, leaderless };
}
/** Groups per batched OffsetFetch request. */
const OFFSET_FETCH_CHUNK = 500;
/** Partitions per Fetch request: keeps one response well under the broker's 50 MB default. */
const FETCH_CHUNK = 50;
/** Bytes asked per partition: room for real (compressed, large) batches. */
const FETCH_PARTITION_BYTES = 1024 * 1024;
/** Cap of one response. */
const FETCH_MAX_BYTES = 32 * 1024 * 1024;

interface MetadataAnswer {
  readonly brokers: readonly { nodeId: number; host: string; port: number }[];
  readonly topicMetadata: readonly (InternalTopicMetadata & { topicErrorCode?: number })[];
}
type RequestDefinition = { protocol(options: { version: number }): (args: object) => { request: unknown; response: { decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown> } } };

/** kafkajs's Metadata request definition (its encoders and decoders per version), or undefined. */
function metadataDefinition(): RequestDefinition | undefined {
  try {
    const definition = createRequire(require.resolve('kafkajs'))('./src/protocol/requests/metadata') as RequestDefinition;
    return typeof definition?.protocol === 'function' ? definition : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One Metadata request for every topic that accepts partition errors. kafkajs refuses a whole
 * Metadata answer when one partition has an error, so a single partition without a leader (its
 * only replica's broker down) failed every collection: here the partition comes back with leader
 * -1 and only its own reads fail (see listOffsets). Undefined when kafkajs's internals differ.
 */
async function tolerantMetadata(
  broker: { lookupRequest?: (apiKey: number, definition: RequestDefinition) => (args: object) => { request: unknown; response: { decode(b: Buffer): Promise<unknown> } }; connectionPool?: { send(r: unknown): Promise<unknown> } },
  definition: RequestDefinition,
): Promise<MetadataAnswer | undefined> {
  if (typeof broker.lookupRequest !== 'function' || typeof broker.connectionPool?.send !== 'function') return undefined;
  const { request, response } = broker.lookupRequest(METADATA_API_KEY, definition)({ topics: [], allowAutoTopicCreation: false });
  // Same request and decoder as kafkajs; only the all-or-nothing error check is left out.
  return (await broker.connectionPool.send({ request, response: { decode: response.decode, parse: async (data: unknown) => data } })) as MetadataAnswer;
}

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

  const pool = cluster.brokerPool as
    | { refreshMetadata?: (topics: string[]) => Promise<void>; brokers?: Record<string, unknown>; metadata?: { topicMetadata?: readonly InternalTopicMetadata[] } }
    | undefined;
  // Topic → partition → leader (-1: none), from the last metadata this access read.
  let leaders: LeaderIndex = new Map();
  // Coordinators asked of the brokers (when `__consumer_offsets` is not in the metadata, e.g.
  // not authorised to describe it), kept until a request to one fails.
  const coordinators = new Map<string, number>();
  const indexMetadata = (): readonly InternalTopicMetadata[] => {
    const topics = pool?.metadata?.topicMetadata ?? [];
    leaders = leaderIndex(topics);
    return topics;
  };

  const partitionsOf = async (topics: readonly string[]): Promise<Map<string, number[]>> => {
    // addMultipleTargetTopics refreshes metadata once for all new topics; a refresh also runs
    // each collection so moved leaders and new partitions are picked up.
    await cluster.addMultipleTargetTopics([...topics]);
    await cluster.refreshMetadata();
    indexMetadata();
    const result = new Map<string, number[]>();
    for (const topic of topics) {
      const ids = [...(leaders.get(topic)?.keys() ?? [])];
      if (ids.length > 0) result.set(topic, ids.sort((a, b) => a - b));
    }
    return result;
  };

  const coordinatorOf = async (groupId: string, ask = false): Promise<number> => {
    if (!ask) {
      const offsets = leaders.get(OFFSETS_TOPIC);
      if (offsets && offsets.size > 0) {
        const leader = offsets.get(offsetsPartitionOf(groupId, offsets.size));
        if (leader !== undefined && leader >= 0) return leader;
      }
      const known = coordinators.get(groupId);
      if (known !== undefined) return known;
    }
    const { coordinator } = await cluster.findGroupCoordinatorMetadata({ groupId });
    coordinators.set(groupId, coordinator.nodeId);
    return coordinator.nodeId;
  };
  const brokerOf = (nodeId: number): Promise<InternalGroupBroker> => cluster.findBroker({ nodeId: String(nodeId) });

  const access: ClusterAccess = {
    connect: () => cluster.connect(),
    disconnect: () => cluster.disconnect(),
    partitionsOf,
    async listOffsets(topics, which) {
      const result = new Map<string, Map<number, number>>();
      if (topics.length === 0) return result;
      const requests = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
      const { perBroker, leaderless } = byLeader(requests, leaders);
      if (leaderless.length > 0) {
        const names = leaderless.slice(0, 5).map((r) => `${r.topic}/${r.partition}`);
        throw new Error(`no leader for ${leaderless.length} partition(s) (${names.join(', ')}${leaderless.length > 5 ? ', …' : ''})`);
      }
      const timestamp = which === 'low' ? EARLIEST : LATEST;
      // The last stable offset is the latest offset a read_committed reader is given.
      const isolationLevel = which === 'stable' ? READ_COMMITTED : READ_UNCOMMITTED;
      const answers = await Promise.all(
        [...perBroker].map(async ([nodeId, byTopic]) => {
          const broker = await brokerOf(nodeId);
          const versions = broker.versions?.[LIST_OFFSETS_API_KEY];
          if (versions && versions.minVersion <= LIST_OFFSETS_VERSION && versions.maxVersion >= LIST_OFFSETS_VERSION && typeof broker.connectionPool?.send === 'function') {
            const body = encodeListOffsets(
              [...byTopic].map(([topic, list]) => ({ topic, partitions: list.map((r) => r.partition) })),
              isolationLevel,
              timestamp,
            );
            return (await broker.connectionPool.send({
              request: { apiKey: LIST_OFFSETS_API_KEY, apiVersion: LIST_OFFSETS_VERSION, apiName: 'ListOffsets', encode: async () => ({ buf: body, buffer: body }) },
              response: { decode: async (payload: Buffer) => decodeListOffsets(payload), parse: async (offsets: unknown) => offsets },
            })) as Map<string, Map<number, number>>;
          }
          const { responses } = await broker.listOffsets({
            isolationLevel,
            topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list.map((r) => ({ partition: r.partition, timestamp })) })),
          });
          const offsets = new Map<string, Map<number, number>>();
          for (const t of responses) {
            const byPartition = new Map<number, number>();
            for (const p of t.partitions) {
              const offset = Number(p.offset);
              if (Number.isSafeInteger(offset) && offset >= 0) byPartition.set(p.partition, offset);
            }
            offsets.set(t.topic, byPartition);
          }
          return offsets;
        }),
      );
      for (const offsets of answers) {
        for (const [topic, byPartition] of offsets) {
          const into = result.get(topic);
          if (!into) result.set(topic, byPartition);
          else for (const [p, o] of byPartition) into.set(p, o);
        }
      }
      return result;
    },
    async fetchRecords(requests) {
      const result = new Map<string, FetchedRecord>();
      const wanted = new Map(requests.map((r) => [partitionKey(r.topic, r.partition), r.offset]));
      // Group by leader, then chunk: one Fetch per chunk, chunks of different brokers in parallel.
      // Partitions without a known leader are left out (missing from the result).
      const { perBroker } = byLeader(requests, leaders);
      await Promise.all(
        [...perBroker].map(async ([nodeId, byTopic]) => {
          const list = [...byTopic.values()].flat();
          const broker = await brokerOf(nodeId);
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
  if (typeof pool?.refreshMetadata !== 'function' || typeof pool.brokers !== 'object') return access;
  const refreshAll = pool.refreshMetadata.bind(pool);
  const definition = metadataDefinition();
  const connectedBroker = (pool as { findConnectedBroker?: () => Promise<Parameters<typeof tolerantMetadata>[0]> }).findConnectedBroker?.bind(pool);
  return {
    ...access,
    async allTopics() {
      // An empty topic list asks the broker for every topic (kafkajs sends it as null).
      let answer: MetadataAnswer | undefined;
      if (definition && connectedBroker) answer = await tolerantMetadata(await connectedBroker(), definition);
      let topics: readonly InternalTopicMetadata[];
      if (answer) {
        // kafkajs's own refresh keeps its broker list (addresses for findBroker) current: run it
        // when a broker it does not know appears (a broker that left does no harm there). It may
        // fail while a partition has no leader; the old list then stays for this collection.
        // It is asked for one topic whose partitions all have leaders (kafkajs refuses the answer
        // otherwise; the broker list comes whole with any topic).
        const known = pool.brokers ?? {};
        if (answer.brokers.some((b) => !(String(b.nodeId) in known))) {
          const healthy = answer.topicMetadata.find((t) => !t.topicErrorCode && t.partitionMetadata.length > 0 && t.partitionMetadata.every((p) => p.leader >= 0));
          await refreshAll(healthy ? [healthy.topic] : []).catch(() => undefined);
        }
        topics = answer.topicMetadata.filter((t) => !t.topicErrorCode);
        leaders = leaderIndex(topics);
      } else {
        await refreshAll([]);
        topics = indexMetadata();
      }
      const result = new Map<string, number[]>();
      for (const t of topics) result.set(t.topic, t.partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b));
      return result;
    },
    async listGroups() {
      const nodeIds = Object.keys(pool.brokers ?? {});
      // Listing no broker would report no groups at all, silently.
      if (nodeIds.length === 0) throw new Error('no broker known to list the groups of (metadata not loaded)');
      const lists = await Promise.all(nodeIds.map(async (nodeId) => (await cluster.findBroker({ nodeId })).listGroups()));
      return lists.flatMap((l) => l.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })));
    },
    async describeGroups(groupIds) {
      const perCoordinator = new Map<number, string[]>();
      for (const groupId of groupIds) {
        const nodeId = await coordinatorOf(groupId);
        perCoordinator.set(nodeId, [...(perCoordinator.get(nodeId) ?? []), groupId]);
      }
      const described = await Promise.all(
        [...perCoordinator].map(async ([nodeId, ids]) => {
          try {
            return (await (await brokerOf(nodeId)).describeGroups({ groupIds: ids })).groups;
          } catch (err) {
            for (const id of ids) coordinators.delete(id);
            throw err;
          }
        }),
      );
      return described.flat();
    },
    async describeConsumerGroups(groupIds) {
      const perCoordinator = new Map<number, string[]>();
      for (const groupId of groupIds) {
        const nodeId = await coordinatorOf(groupId);
        perCoordinator.set(nodeId, [...(perCoordinator.get(nodeId) ?? []), groupId]);
      }
      const described = await Promise.all(
        [...perCoordinator].map(async ([nodeId, ids]) => {
          const broker = await brokerOf(nodeId);
          const versions = broker.versions?.[CONSUMER_GROUP_DESCRIBE_API_KEY];
          if (!versions || versions.minVersion > CONSUMER_GROUP_DESCRIBE_VERSION || typeof broker.connectionPool?.send !== 'function') return undefined;
          const body = encodeConsumerGroupDescribe(ids);
          return (await broker.connectionPool.send({
            request: {
              apiKey: CONSUMER_GROUP_DESCRIBE_API_KEY,
              apiVersion: CONSUMER_GROUP_DESCRIBE_VERSION,
              apiName: 'ConsumerGroupDescribe',
              encode: async () => ({ buf: body, buffer: body }),
            },
            response: { decode: async (payload: Buffer) => decodeConsumerGroupDescribe(payload), parse: async (groups: unknown) => groups },
          })) as ConsumerGroupDescribed[];
        }),
      );
      if (described.every((d) => d === undefined)) return undefined;
      return described.flatMap((d) => d ?? []);
    },
    fetchCommitted,
    async fetchCommittedMany(groupIds, concurrency) {
      const result = new Map<string, Settled<CommittedOffsets>>();
      const alone: string[] = [];
      const perCoordinator = new Map<number, string[]>();
      for (const groupId of groupIds) {
        try {
          const nodeId = await coordinatorOf(groupId);
          perCoordinator.set(nodeId, [...(perCoordinator.get(nodeId) ?? []), groupId]);
        } catch (error) {
          result.set(groupId, { ok: false, error });
        }
      }
      await Promise.all(
        [...perCoordinator].map(async ([nodeId, ids]) => {
          const broker = await brokerOf(nodeId);
          const max = broker.versions?.[OFFSET_FETCH_API_KEY]?.maxVersion;
          if (max === undefined || max < OFFSET_FETCH_BATCH_VERSION || typeof broker.connectionPool?.send !== 'function') {
            alone.push(...ids);
            return;
          }
          for (let i = 0; i < ids.length; i += OFFSET_FETCH_CHUNK) {
            const chunk = ids.slice(i, i + OFFSET_FETCH_CHUNK);
            let groups: BatchGroup[];
            try {
              groups = await sendOffsetFetchBatch(broker, chunk);
            } catch {
              // The batch as a whole failed (connection lost…): each group is asked alone below.
              alone.push(...chunk);
              continue;
            }
            const answered = new Set<string>();
            for (const g of groups) {
              answered.add(g.groupId);
              // A moved coordinator, a group not authorised…: asked alone, which says what failed.
              if (batchGroupError(g) !== undefined) alone.push(g.groupId);
              else result.set(g.groupId, { ok: true, value: g.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map(({ partition, offset }) => ({ partition, offset })) })) });
            }
            for (const id of chunk) if (!answered.has(id)) alone.push(id);
          }
        }),
      );
      const single = await mapLimit(alone, concurrency, fetchCommitted);
      alone.forEach((id, i) => result.set(id, single[i]!));
      return result;
    },
  };

  async function fetchCommitted(groupId: string): Promise<CommittedOffsets> {
    const nodeId = await coordinatorOf(groupId);
    try {
      return (await (await brokerOf(nodeId)).offsetFetch({ groupId, topics: [] })).responses;
    } catch (err) {
      // A moved coordinator (NOT_COORDINATOR, a broker restarting): ask where the group is now.
      const now = await coordinatorOf(groupId, true);
      if (now === nodeId) throw err;
      return (await (await brokerOf(now)).offsetFetch({ groupId, topics: [] })).responses;
    }
  }
}

/** One OffsetFetch v8 on the broker's connection, framed by kafkajs (see offset-fetch-batch.ts). */
async function sendOffsetFetchBatch(broker: InternalGroupBroker, groupIds: readonly string[]): Promise<BatchGroup[]> {
  const body = encodeOffsetFetchBatch(groupIds);
  const groups = await broker.connectionPool!.send({
    request: {
      apiKey: OFFSET_FETCH_API_KEY,
      apiVersion: OFFSET_FETCH_BATCH_VERSION,
      apiName: 'OffsetFetch',
      // kafkajs appends the body to the header it writes: an object with the bytes as `buf` and `buffer` is what it reads.
      encode: async () => ({ buf: body, buffer: body }),
    },
    response: { decode: async (payload: Buffer) => decodeOffsetFetchBatch(payload), parse: async (groups: BatchGroup[]) => groups },
  });
  return groups as BatchGroup[];
}