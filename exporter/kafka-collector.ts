import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import type { Admin, GroupDescription } from 'kafkajs';
import { errorMessage } from '@eda-harness/core';
import { DLQ_SOURCE_UNKNOWN } from '@eda-harness/semconv';
import { createClusterAccess, recordKey } from './kafka-cluster-access';
import type { ClusterAccess, FetchedRecord, PartitionFetch } from './kafka-cluster-access';
import { evaluatePartitionStatus, groupStatus } from './consumer-status';
import type { ConsumerStatus } from './consumer-status';
import { ageSeconds, parseOffset, partitionLag } from './lag';
import { mapLimit } from './map-limit';
import { createNameFilter, matchDlqPattern } from './name-filter';
import { estimateWriteTime } from './offset-time-index';
import { commitKey, createPartitionHistory, partitionKey } from './partition-history';
import type { CommitHistory } from './partition-history';
import type {
  Collector,
  CountSample,
  DlqSample,
  GroupSample,
  HighWatermarkSample,
  KafkaSnapshot,
  KafkaTargetConfig,
  PartitionLagSample,
} from './types';

export const DEFAULT_KAFKA_DLQ_PATTERNS: readonly string[] = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT'];
export const DEFAULT_STATUS_WINDOW_SECONDS = 600;

export interface KafkaCollectorDeps {
  readonly config: KafkaTargetConfig;
  /** Wall clock (ms); tests pass their own. */
  readonly now?: () => number;
  /** Builds the kafkajs client; tests may pass an instrumented one. */
  readonly createKafka?: (config: KafkaTargetConfig) => Kafka;
}

/** Consumer groups: kafkajs/Java consumers say `consumer`; offset-only (assign + commit) groups say ``. */
const CONSUMER_PROTOCOL_TYPES = new Set(['consumer', '']);
/** Groups described per DescribeGroups call (kafkajs sends one request per coordinator). */
const DESCRIBE_CHUNK = 100;

interface Connection {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly cluster: ClusterAccess | undefined;
}

interface GroupOffsets {
  readonly group: string;
  /** topic → partition → committed offset (only partitions with a commit). */
  readonly committed: Map<string, Map<number, number>>;
}

/**
 * Collects consumer lag, group state and dead-letter topics from Kafka. Offsets are read in the
 * order that keeps lag honest: committed offsets first, high watermarks after, so a commit that
 * lands in between makes lag slightly high, not negative (and a residual negative is clamped and
 * counted). One group whose offsets cannot be read is reported as ERR with its last known lag;
 * only a failure to list groups or watermarks fails the collection.
 */
export function createKafkaCollector(deps: KafkaCollectorDeps): Collector<KafkaSnapshot> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const windowMs = (config.statusWindowSeconds ?? DEFAULT_STATUS_WINDOW_SECONDS) * 1000;
  const concurrency = Math.max(1, config.concurrency ?? 16);
  const groupFilter = createNameFilter(config.groups);
  const topicFilter = createNameFilter(config.topics);
  const dlqPatterns = config.dlqPatterns ?? DEFAULT_KAFKA_DLQ_PATTERNS;
  const history = createPartitionHistory({ windowMs });
  const createKafka = deps.createKafka ?? defaultKafka;

  let connection: Connection | undefined;
  /** Timestamp of the record at an offset, per partition: re-read only when the offset moves. */
  const recordCache = new Map<string, FetchedRecord>();
  const lastPartitionsByGroup = new Map<string, PartitionLagSample[]>();
  const clamps = new Map<string, { group: string; topic: string; count: number }>();
  const dlqInflow = new Map<string, { dlq: string; source: string; count: number }>();
  const lastDlqHigh = new Map<string, number>();

  const connect = async (): Promise<Connection> => {
    if (connection) return connection;
    const kafka = createKafka(config);
    const admin = kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } });
    const cluster = createClusterAccess(kafka);
    try {
      await admin.connect();
      await cluster?.connect();
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      await cluster?.disconnect().catch(() => undefined);
      throw err;
    }
    connection = { kafka, admin, cluster };
    return connection;
  };

  /** Drops the connection after a failed collection: the next one starts from fresh metadata. */
  const reset = async (): Promise<void> => {
    const c = connection;
    connection = undefined;
    if (!c) return;
    await Promise.allSettled([c.admin.disconnect(), c.cluster?.disconnect()]);
  };

  const collect = async (): Promise<KafkaSnapshot> => {
    const current = await connect();
    try {
      return await collectOnce(current);
    } catch (err) {
      await reset();
      throw err;
    } finally {
      // Reset while this collection was still running (it timed out): kafkajs reconnects lazily,
      // so the requests it made after the reset may have opened new sockets. Close them too.
      if (connection !== current) await Promise.allSettled([current.admin.disconnect(), current.cluster?.disconnect()]);
    }
  };

  const collectOnce = async ({ admin, cluster }: Connection): Promise<KafkaSnapshot> => {
    const warnings: string[] = [];
    const { groups: listed } = await admin.listGroups();
    const groupIds = listed
      .filter((g) => CONSUMER_PROTOCOL_TYPES.has(g.protocolType) && groupFilter(g.groupId))
      .map((g) => g.groupId)
      .sort();

    const descriptions = new Map<string, GroupDescription>();
    for (let i = 0; i < groupIds.length; i += DESCRIBE_CHUNK) {
      const chunk = groupIds.slice(i, i + DESCRIBE_CHUNK);
      try {
        const { groups } = await admin.describeGroups(chunk);
        for (const g of groups) descriptions.set(g.groupId, g);
      } catch (err) {
        warnings.push(`describeGroups(${chunk.length} groups): ${errorMessage(err)}`);
      }
    }

    // 1. Committed offsets (before the watermarks, see above).
    const offsetResults = await mapLimit(groupIds, concurrency, async (group): Promise<GroupOffsets> => {
      const topics = await admin.fetchOffsets({ groupId: group });
      const committed = new Map<string, Map<number, number>>();
      for (const t of topics) {
        if (!topicFilter(t.topic)) continue;
        for (const p of t.partitions) {
          const offset = parseOffset(p.offset);
          if (offset === undefined) continue;
          let byPartition = committed.get(t.topic);
          if (!byPartition) committed.set(t.topic, (byPartition = new Map()));
          byPartition.set(p.partition, offset);
        }
      }
      return { group, committed };
    });
    const failedGroups = new Set<string>();
    const offsets: GroupOffsets[] = [];
    offsetResults.forEach((r, i) => {
      if (r.ok) offsets.push(r.value);
      else {
        failedGroups.add(groupIds[i]!);
        warnings.push(`fetchOffsets(${groupIds[i]}): ${errorMessage(r.error)}`);
      }
    });

    // 2. Which topics to read watermarks of: every committed topic that still exists, plus DLQs.
    const existing = new Set(await admin.listTopics());
    const dlqTopics = [...existing].filter((t) => topicFilter(t) && matchDlqPattern(dlqPatterns, t) !== undefined).sort();
    const assigned = new Map<string, Map<string, Set<number>>>();
    for (const group of groupIds) assigned.set(group, assignmentOf(descriptions.get(group)));
    const watched = new Set<string>(dlqTopics);
    for (const o of offsets) for (const t of o.committed.keys()) if (existing.has(t)) watched.add(t);
    for (const a of assigned.values()) for (const t of a.keys()) if (existing.has(t) && topicFilter(t)) watched.add(t);

    // 3. Watermarks.
    const { high, low } = await readWatermarks(admin, cluster, [...watched].sort());
    const atMs = now();
    const seenPartitions = new Set<string>();
    const watermarks: HighWatermarkSample[] = [];
    for (const [topic, byPartition] of high) {
      for (const [partition, offset] of byPartition) {
        watermarks.push({ topic, partition, high: offset });
        history.sampleWatermark(topic, partition, offset, atMs);
        seenPartitions.add(partitionKey(topic, partition));
      }
    }

    // 4. Lag in messages; collect the records whose timestamps give lag in seconds.
    interface Pending {
      readonly group: string;
      readonly topic: string;
      readonly partition: number;
      readonly committed: number;
      readonly high: number;
      readonly lag: number;
    }
    const pending: Pending[] = [];
    const toFetch = new Map<string, PartitionFetch>();
    const wantRecord = (topic: string, partition: number, offset: number): void => {
      const key = recordKey(topic, partition);
      const cached = recordCache.get(key);
      if (cached && cached.offset === offset) return;
      const already = toFetch.get(key);
      if (!already || already.offset > offset) toFetch.set(key, { topic, partition, offset });
    };
    const lowOf = (topic: string, partition: number): number => low.get(topic)?.get(partition) ?? 0;
    for (const o of offsets) {
      for (const [topic, byPartition] of o.committed) {
        const highs = high.get(topic);
        if (!highs) continue;
        for (const [partition, committed] of byPartition) {
          const hw = highs.get(partition);
          if (hw === undefined) continue;
          const lag = partitionLag(committed, hw);
          if (lag.clamped) {
            const key = `${o.group}\u0000${topic}`;
            const entry = clamps.get(key) ?? { group: o.group, topic, count: 0 };
            clamps.set(key, { ...entry, count: entry.count + 1 });
          }
          pending.push({ group: o.group, topic, partition, committed, high: hw, lag: lag.messages });
          // Records before the log start are gone: the oldest unconsumed one is the first kept.
          if (lag.messages > 0) wantRecord(topic, partition, Math.max(committed, lowOf(topic, partition)));
        }
      }
    }

    // DLQ depth: messages after the slowest consuming group's offset, or the whole log.
    const dlqStarts = new Map<string, Map<number, number>>();
    for (const topic of dlqTopics) {
      const starts = new Map<number, number>();
      for (const [partition, hw] of high.get(topic) ?? []) {
        let start = lowOf(topic, partition);
        const consumed = offsets.map((o) => o.committed.get(topic)?.get(partition)).filter((c): c is number => c !== undefined);
        if (consumed.length > 0) start = Math.max(start, Math.min(...consumed));
        start = Math.min(start, hw);
        starts.set(partition, start);
        if (hw > start) wantRecord(topic, partition, start);
      }
      dlqStarts.set(topic, starts);
    }

    // 5. One batched Fetch per broker for the records not in the cache.
    if (cluster && toFetch.size > 0) {
      try {
        const fetched = await cluster.fetchRecords([...toFetch.values()]);
        for (const [key, request] of toFetch) {
          const rec = fetched.get(key);
          if (rec) recordCache.set(key, { offset: request.offset, timestampMs: rec.timestampMs });
        }
      } catch (err) {
        warnings.push(`fetching record timestamps: ${errorMessage(err)}`);
      }
    }
    const fetchedAtMs = now();
    const lagSecondsOf = (topic: string, partition: number, offset: number): Pick<PartitionLagSample, 'lagSeconds' | 'lagSecondsSource'> => {
      const cached = recordCache.get(recordKey(topic, partition));
      const fromRecord = cached && cached.offset === offset ? ageSeconds(fetchedAtMs, cached.timestampMs) : undefined;
      if (fromRecord !== undefined) return { lagSeconds: fromRecord, lagSecondsSource: 'record' };
      const estimate = estimateWriteTime(history.watermarkIndex(topic, partition), offset);
      if (estimate === undefined) return { lagSeconds: 0, lagSecondsSource: 'lower-bound' };
      return {
        lagSeconds: Math.max(0, (fetchedAtMs - estimate.atMs) / 1000),
        lagSecondsSource: estimate.kind,
      };
    };

    // 6. Samples, history and status.
    const seenCommits = new Set<string>();
    const histories = new Map<string, CommitHistory>();
    const partitionsByGroup = new Map<string, PartitionLagSample[]>();
    for (const p of pending) {
      const seconds = p.lag === 0
        ? { lagSeconds: 0, lagSecondsSource: 'caught-up' as const }
        : lagSecondsOf(p.topic, p.partition, Math.max(p.committed, lowOf(p.topic, p.partition)));
      const h = history.observe(p.group, p.topic, p.partition, { atMs, committedOffset: p.committed, lagMessages: p.lag });
      seenCommits.add(commitKey(p.group, p.topic, p.partition));
      histories.set(commitKey(p.group, p.topic, p.partition), h);
      const sample: PartitionLagSample = {
        group: p.group,
        topic: p.topic,
        partition: p.partition,
        committedOffset: p.committed,
        highWatermark: p.high,
        lagMessages: p.lag,
        ...seconds,
        lastCommitMs: h.lastChangeMs,
      };
      const list = partitionsByGroup.get(p.group) ?? [];
      list.push(sample);
      partitionsByGroup.set(p.group, list);
    }

    const groups: GroupSample[] = [];
    const partitions: PartitionLagSample[] = [];
    for (const group of groupIds) {
      const description = descriptions.get(group);
      const members = description?.members.length ?? 0;
      // Without a description membership is unknown, and it is what tells STALL from STOP.
      const failed = failedGroups.has(group) || description === undefined;
      // A group that could not be read keeps its last samples (with status ERR), rather than
      // vanishing from the page and breaking every alert on it.
      const unreadable = failedGroups.has(group);
      const samples = unreadable ? (lastPartitionsByGroup.get(group) ?? []) : (partitionsByGroup.get(group) ?? []);
      if (!unreadable) lastPartitionsByGroup.set(group, samples);
      else for (const s of samples) seenCommits.add(commitKey(group, s.topic, s.partition));
      const statuses: ConsumerStatus[] = failed
        ? []
        : samples.flatMap((s) => {
            const h = histories.get(commitKey(group, s.topic, s.partition));
            if (!h) return [];
            return evaluatePartitionStatus({
              observations: h.observations,
              lastCommitChangeMs: h.lastChangeMs,
              groupHasMembers: members > 0,
              nowMs: atMs,
              windowMs,
            });
          });
      partitions.push(...samples);
      const committedTopics = new Map<string, Set<number>>();
      for (const s of samples) committedTopics.set(s.topic, (committedTopics.get(s.topic) ?? new Set()).add(s.partition));
      const uncommitted = new Map<string, number>();
      for (const [topic, assignedPartitions] of assigned.get(group) ?? []) {
        if (!topicFilter(topic)) continue;
        const count = [...assignedPartitions].filter((p) => !committedTopics.get(topic)?.has(p)).length;
        if (count > 0) uncommitted.set(topic, count);
      }
      groups.push({
        group,
        state: description?.state || 'Unknown',
        members: description === undefined ? undefined : members,
        status: groupStatus(statuses, failed),
        uncommitted,
      });
    }
    const listedGroups = new Set(groupIds);
    for (const g of lastPartitionsByGroup.keys()) if (!listedGroups.has(g)) lastPartitionsByGroup.delete(g);

    // 7. Dead-letter topics.
    const dlqs: DlqSample[] = [];
    for (const topic of dlqTopics) {
      const match = matchDlqPattern(dlqPatterns, topic);
      const source = match?.source;
      let depth = 0;
      let oldest: number | undefined;
      let highSum = 0;
      for (const [partition, start] of dlqStarts.get(topic) ?? []) {
        const hw = high.get(topic)?.get(partition) ?? start;
        highSum += hw;
        if (hw <= start) continue;
        depth += hw - start;
        const age = lagSecondsOf(topic, partition, start);
        if (age.lagSecondsSource !== 'lower-bound' || age.lagSeconds > 0) oldest = Math.max(oldest ?? 0, age.lagSeconds);
      }
      dlqs.push({ system: 'kafka', dlq: topic, sources: source ? [source] : [], depth, oldestAgeSeconds: depth === 0 ? 0 : oldest });
      // Inflow: growth of the log end since the last collection (the first sighting is a baseline).
      const previous = lastDlqHigh.get(topic);
      lastDlqHigh.set(topic, highSum);
      const inflowKey = `${topic}\u0000${source ?? DLQ_SOURCE_UNKNOWN}`;
      const entry = dlqInflow.get(inflowKey) ?? { dlq: topic, source: source ?? DLQ_SOURCE_UNKNOWN, count: 0 };
      dlqInflow.set(inflowKey, { ...entry, count: entry.count + (previous === undefined ? 0 : Math.max(0, highSum - previous)) });
    }
    const dlqSet = new Set(dlqTopics);
    for (const t of lastDlqHigh.keys()) if (!dlqSet.has(t)) lastDlqHigh.delete(t);

    history.retain(seenCommits, seenPartitions);
    for (const key of recordCache.keys()) {
      const [topic, partition] = key.split('\u0000');
      if (!seenPartitions.has(partitionKey(topic!, Number(partition)))) recordCache.delete(key);
    }

    return {
      atMs,
      groups,
      partitions,
      watermarks,
      dlqs,
      clamps: [...clamps.values()].map((c): CountSample => ({ labels: { group: c.group, topic: c.topic }, value: c.count })),
      dlqInflow: [...dlqInflow.values()].map((c): CountSample => ({ labels: { dlq: c.dlq, source: c.source }, value: c.count })),
      warnings,
    };
  };

  return {
    target: 'kafka',
    collect,
    close: reset,
  };
}

function defaultKafka(config: KafkaTargetConfig): Kafka {
  return new Kafka({
    clientId: config.clientId ?? 'eda-harness-exporter',
    brokers: [...config.brokers],
    requestTimeout: config.requestTimeoutMs ?? 10_000,
    connectionTimeout: 3_000,
    retry: { retries: 1, initialRetryTime: 200 },
    // Failures are reported through eda_exporter_up and the collection's warnings; kafkajs's own
    // error logs would repeat them every interval while a broker is down.
    logLevel: logLevel.NOTHING,
  });
}

/** Topic → assigned partitions over all members, decoded from the consumer protocol assignment. */
function assignmentOf(description: GroupDescription | undefined): Map<string, Set<number>> {
  const result = new Map<string, Set<number>>();
  if (!description || description.protocolType !== 'consumer') return result;
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

async function readWatermarks(
  admin: Admin,
  cluster: ClusterAccess | undefined,
  topics: readonly string[],
): Promise<{ high: Map<string, Map<number, number>>; low: Map<string, Map<number, number>> }> {
  if (topics.length === 0) return { high: new Map(), low: new Map() };
  if (cluster) {
    const partitions = await cluster.partitionsOf(topics);
    const list = [...partitions].map(([topic, ids]) => ({ topic, partitions: ids }));
    const [high, low] = await Promise.all([cluster.listOffsets(list, 'high'), cluster.listOffsets(list, 'low')]);
    return { high, low };
  }
  const high = new Map<string, Map<number, number>>();
  const low = new Map<string, Map<number, number>>();
  const results = await mapLimit(topics, 8, (topic) => admin.fetchTopicOffsets(topic));
  results.forEach((r, i) => {
    if (!r.ok) return;
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
