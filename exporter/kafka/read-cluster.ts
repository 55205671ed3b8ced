import { AssignerProtocol } from 'kafkajs';
import type { Kafka } from 'kafkajs';
import type { Admin, GroupDescription } from 'kafkajs';
import { errorMessage } from '@eda-harness/core';
import { parseOffset } from '../lag';
import { mapLimit } from '../map-limit';
import type { Settled } from '../map-limit';
import type { NameFilter } from '../name-filter';
import { createClusterAccess } from './cluster-access';
import type { ClusterAccess, CommittedOffsets, PartitionFetch, TopicPartitions } from './cluster-access';
import { fetchRounds, topicsToWatch } from './cluster-read';
import { looksLikeConsumerProtocolGroup } from './consumer-group-describe';
import type { ConsumerGroupDescribed } from './consumer-group-describe';
import type { ClusterRead, GroupDescriptionRead, GroupRead, KafkaSelection, RecordRead } from './cluster-read';
import { partitionKey, recordKey } from './partition-history';

/**
 * Everything the Kafka collector reads from the cluster, through kafkajs's admin client and the
 * internal cluster access (batched ListOffsets and Fetch). Offsets are read in the order that
 * keeps lag honest: committed offsets first, watermarks after, so a commit landing in between
 * makes lag slightly high, not negative. One group whose offsets cannot be read is a warning;
 * only a failure to list groups, topics or watermarks fails the read.
 */

export interface KafkaConnection {
  readonly admin: Admin;
  /** Undefined when this kafkajs version does not expose its internal cluster. */
  readonly cluster: ClusterAccess | undefined;
}

export interface ReadClusterOptions {
  readonly groups: NameFilter;
  readonly selection: KafkaSelection;
  /** Groups whose offsets are fetched at once. */
  readonly concurrency: number;
}

/** Consumer groups: kafkajs/Java consumers say `consumer`; offset-only (assign + commit) groups say ``. */
const CONSUMER_PROTOCOL_TYPES = new Set(['consumer', '']);
/** Groups described per DescribeGroups call (kafkajs sends one request per coordinator). */
const DESCRIBE_CHUNK = 100;

export async function openConnection(kafka: Kafka): Promise<KafkaConnection> {
  const admin = kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } });
  const cluster = createClusterAccess(kafka);
  try {
    await admin.connect();
    await cluster?.connect();
  } catch (err) {
    await closeConnection({ admin, cluster });
    throw err;
  }
  return { admin, cluster };
}

export async function closeConnection(connection: KafkaConnection): Promise<void> {
  await Promise.allSettled([connection.admin.disconnect(), connection.cluster?.disconnect()]);
}

export async function readCluster({ admin, cluster }: KafkaConnection, options: ReadClusterOptions): Promise<ClusterRead> {
  const warnings: string[] = [];
  // With the internal cluster: one Metadata request (every topic) serves the topic list, the
  // partitions and the leaders; groups are listed per broker in parallel, described in one request
  // per coordinator and their offsets asked of the coordinator directly (kafkajs's admin refreshes
  // the full metadata in listGroups and listTopics, and asks FindCoordinator for every group in
  // describeGroups and again in fetchOffsets: three full metadata reads and two requests per group
  // more per collection).
  const allTopics = await cluster?.allTopics?.();
  const { groups: listed } = cluster?.listGroups ? { groups: await cluster.listGroups() } : await admin.listGroups();
  const selected = listed.filter((g) => CONSUMER_PROTOCOL_TYPES.has(g.protocolType) && options.groups(g.groupId));
  const listedType = new Map(selected.map((g) => [g.groupId, g.protocolType]));
  const groupIds = selected.map((g) => g.groupId).sort();

  const descriptions = new Map<string, GroupDescriptionRead>();
  const describe = async (chunk: string[]): Promise<void> => {
    const groups = cluster?.describeGroups ? await cluster.describeGroups(chunk) : (await admin.describeGroups(chunk)).groups;
    for (const g of groups) descriptions.set(g.groupId, { state: g.state, members: g.members.length, assigned: assignmentOf(g), protocolType: g.protocolType });
  };
  for (let i = 0; i < groupIds.length; i += DESCRIBE_CHUNK) {
    const chunk = groupIds.slice(i, i + DESCRIBE_CHUNK);
    try {
      await describe(chunk);
    } catch {
      // kafkajs fails the whole call when one group fails (not authorised, a protocol it cannot
      // decode): described one by one, only that group goes without a description (ERR).
      const one = await mapLimit(chunk, options.concurrency, (group) => describe([group]));
      one.forEach((r, j) => {
        if (!r.ok) warnings.push(`describeGroups(${chunk[j]}): ${errorMessage(r.error)}`);
      });
    }
  }

  await describeConsumerProtocolGroups(cluster, groupIds, listedType, descriptions, warnings);

  // 1. Committed offsets (before the watermarks, see above).
  const committedOf = (topics: CommittedOffsets): Map<string, Map<number, number>> => {
    const byTopic = new Map<string, Map<number, number>>();
    for (const t of topics) {
      if (!options.selection.topics(t.topic)) continue;
      for (const p of t.partitions) {
        const offset = parseOffset(p.offset);
        if (offset === undefined) continue;
        let byPartition = byTopic.get(t.topic);
        if (!byPartition) byTopic.set(t.topic, (byPartition = new Map()));
        byPartition.set(p.partition, offset);
      }
    }
    return byTopic;
  };
  let committed: Settled<Map<string, Map<number, number>>>[];
  if (cluster?.fetchCommittedMany) {
    const many = await cluster.fetchCommittedMany(groupIds, options.concurrency);
    committed = groupIds.map((g) => {
      const r = many.get(g) ?? { ok: false, error: new Error('no answer for this group') };
      return r.ok ? { ok: true, value: committedOf(r.value) } : r;
    });
  } else {
    committed = await mapLimit(groupIds, options.concurrency, async (group) => committedOf(await admin.fetchOffsets({ groupId: group })));
  }
  const groups = groupIds.map((group, i): GroupRead => {
    const result = committed[i]!;
    if (!result.ok) warnings.push(`fetchOffsets(${group}): ${errorMessage(result.error)}`);
    return { group, description: descriptions.get(group), committed: result.ok ? result.value : undefined };
  });

  // 2. Watermarks of the topics that matter.
  const topics = allTopics ? [...allTopics.keys()] : await admin.listTopics();
  const watched = topicsToWatch(topics, groups, options.selection);
  const { high, low, stable } = await readWatermarks(admin, cluster, watched, warnings, allTopics);
  return { groups, topics, high, low, ...(stable ? { stable } : {}), warnings };
}

/**
 * The records asked for, each keyed by {@link recordKey} at the offset it was asked for (none
 * without the internal cluster), and how many did not come back. One Fetch names a partition once, so partitions that several
 * groups read at different offsets take several rounds (each one batched Fetch per broker). A
 * failed round is a warning; the others still count.
 */
export async function readRecords(
  cluster: ClusterAccess | undefined,
  requests: readonly PartitionFetch[],
): Promise<{ records: Map<string, RecordRead>; warnings: string[]; missing: number }> {
  const records = new Map<string, RecordRead>();
  const warnings: string[] = [];
  if (!cluster || requests.length === 0) return { records, warnings, missing: 0 };
  let missing = 0;
  for (const round of fetchRounds(requests)) {
    try {
      const fetched = await cluster.fetchRecords(round);
      for (const r of round) {
        const record: RecordRead | undefined = fetched.get(partitionKey(r.topic, r.partition));
        if (!record) {
          missing++;
          continue;
        }
        const { nextDataOffset } = record;
        records.set(recordKey(r.topic, r.partition, r.offset), { offset: r.offset, timestampMs: record.timestampMs, ...(nextDataOffset === undefined ? {} : { nextDataOffset }) });
      }
    } catch (err) {
      missing += round.length;
      warnings.push(`fetching record timestamps: ${errorMessage(err)}`);
    }
  }
  // Not silent: a record that did not come back (a batch truncated by the fetch size, a moved
  // leader, a record deleted meanwhile) leaves its partition without record time this collection.
  if (missing > 0) warnings.push(`record timestamps: ${missing} of ${requests.length} records not returned (truncated batch, moved leader or deleted record)`);
  return { records, warnings, missing };
}

/**
 * Groups of the consumer protocol (KIP-848, `group.protocol=consumer`): the classic DescribeGroups
 * answers "Dead, no protocol type, no members" for them, so they are described again through
 * ConsumerGroupDescribe. Without it (an older broker, no internal cluster) or when it fails, the
 * group keeps what DescribeGroups said and a warning says why; its offsets and lag are read anyway.
 */
async function describeConsumerProtocolGroups(
  cluster: ClusterAccess | undefined,
  groupIds: readonly string[],
  listedType: ReadonlyMap<string, string>,
  descriptions: Map<string, GroupDescriptionRead>,
  warnings: string[],
): Promise<void> {
  const ids = groupIds.filter((g) => looksLikeConsumerProtocolGroup(listedType.get(g), descriptions.get(g)));
  if (ids.length === 0) return;
  let described: ConsumerGroupDescribed[] | undefined;
  try {
    described = await cluster?.describeConsumerGroups?.(ids);
  } catch (err) {
    warnings.push(`consumerGroupDescribe(${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}): ${errorMessage(err)}`);
    return;
  }
  if (!described) {
    warnings.push(`${ids.length} consumer-protocol group(s) (${ids.slice(0, 5).join(', ')}) could not be described: the broker or client does not offer ConsumerGroupDescribe`);
    return;
  }
  for (const g of described) {
    // GROUP_ID_NOT_FOUND: deleted between the listing and now, and Dead is the truth.
    if (g.errorCode === 69) continue;
    if (g.errorCode !== 0) {
      warnings.push(`consumerGroupDescribe(${g.groupId}): error ${g.errorCode}${g.errorMessage ? ` ${g.errorMessage}` : ''}`);
      continue;
    }
    const assigned = new Map<string, Set<number>>();
    for (const m of g.members) {
      for (const t of m.assignment) {
        const set = assigned.get(t.topic) ?? new Set<number>();
        for (const p of t.partitions) set.add(p);
        assigned.set(t.topic, set);
      }
    }
    descriptions.set(g.groupId, { state: g.state, members: g.members.length, assigned, protocolType: 'consumer' });
  }
}

/** Topic → assigned partitions over all members, decoded from the consumer protocol assignment. */
function assignmentOf(description: GroupDescription): Map<string, Set<number>> {
  const result = new Map<string, Set<number>>();
  if (description.protocolType !== 'consumer') return result;
  for (const member of description.members) {
    try {
      const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
        const set = result.get(topic) ?? new Set<number>();
        for (const p of partitions) set.add(p);
        result.set(topic, set);
      }
    } catch {
      // An assignment in a format we cannot read only costs the uncommitted-partition count.
    }
  }
  return result;
}

type OffsetMap = Map<string, Map<number, number>>;
type Watermarks = { high: OffsetMap; low: OffsetMap; stable?: OffsetMap };

async function readWatermarks(
  admin: Admin,
  cluster: ClusterAccess | undefined,
  topics: readonly string[],
  warnings: string[],
  allTopics: ReadonlyMap<string, number[]> | undefined,
): Promise<Watermarks> {
  if (topics.length === 0) return { high: new Map(), low: new Map(), ...(cluster ? { stable: new Map() } : {}) };
  if (cluster) {
    let partitions: Map<string, number[]> | undefined;
    try {
      partitions = allTopics ? new Map(topics.flatMap((t) => (allTopics.has(t) ? [[t, allTopics.get(t)!] as const] : []))) : await cluster.partitionsOf(topics);
    } catch (err) {
      warnings.push(`metadata of ${topics.length} topics, reading offsets through the admin client: ${errorMessage(err)}`);
    }
    if (partitions) return readPartitionOffsets(cluster, [...partitions].map(([topic, ids]) => ({ topic, partitions: ids })), warnings);
  }
  return readTopicOffsets(admin, topics, warnings);
}

/**
 * High, low and last stable offsets through the batched ListOffsets. One partition's error (offline, no
 * leader, NOT_LEADER during a rolling restart) fails a whole request, so a failed request is
 * split, topic by topic, then partition by partition: only the failing partitions go without
 * watermarks (their series go stale), the rest of the collection keeps its numbers.
 */
async function readPartitionOffsets(cluster: ClusterAccess, list: readonly TopicPartitions[], warnings: string[]): Promise<Watermarks> {
  const result: Required<Watermarks> = { high: new Map(), low: new Map(), stable: new Map() };
  const merge = (into: Map<string, Map<number, number>>, from: Map<string, Map<number, number>>): void => {
    for (const [topic, byPartition] of from) {
      // The maps read are fresh: taken as they are unless a split read adds to a topic.
      const target = into.get(topic);
      if (target === undefined) into.set(topic, byPartition);
      else for (const [p, o] of byPartition) target.set(p, o);
    }
  };
  const attempt = async (part: readonly TopicPartitions[]): Promise<void> => {
    try {
      const [high, low, stable] = await Promise.all([cluster.listOffsets(part, 'high'), cluster.listOffsets(part, 'low'), cluster.listOffsets(part, 'stable')]);
      merge(result.high, high);
      merge(result.low, low);
      merge(result.stable, stable);
    } catch (err) {
      const partitions = part.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partitions: [p] })));
      if (partitions.length <= 1) {
        warnings.push(`listOffsets(${part.map((t) => `${t.topic}/${t.partitions.join(',')}`).join(' ')}): ${errorMessage(err)}`);
        return;
      }
      // Topic by topic when several topics failed together, else partition by partition.
      const pieces = part.length > 1 ? part.map((t) => [t]) : partitions.map((p) => [p]);
      await mapLimit(pieces, 8, attempt);
    }
  };
  await attempt(list.filter((t) => t.partitions.length > 0));
  return result;
}

/** Without the internal cluster: one admin call per topic (a failing topic costs only itself). */
async function readTopicOffsets(admin: Admin, topics: readonly string[], warnings: string[]): Promise<Watermarks> {
  const high = new Map<string, Map<number, number>>();
  const low = new Map<string, Map<number, number>>();
  const results = await mapLimit(topics, 8, (topic) => admin.fetchTopicOffsets(topic));
  results.forEach((r, i) => {
    if (!r.ok) {
      warnings.push(`fetchTopicOffsets(${topics[i]}): ${errorMessage(r.error)}`);
      return;
    }
    const topic = topics[i]!;
    const h = new Map<number, number>();
    const l = new Map<number, number>();
    for (const p of r.value) {
      const hi = parseOffset(p.high);
      const lo = parseOffset(p.low);
      if (hi !== undefined) h.set(p.partition, hi);
      if (lo !== undefined) l.set(p.partition, lo);
    }
    high.set(topic, h);
    low.set(topic, l);
  });
  return { high, low };
}
