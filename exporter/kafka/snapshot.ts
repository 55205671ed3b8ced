import { DLQ_SOURCE_UNKNOWN } from '@eda-harness/semconv';
import { addCount, growth, NO_COUNTS } from '../counts';
import type { Counts } from '../counts';
import { ageSeconds, partitionLag } from '../lag';
import { EMPTY_INDEX, addSample, estimateWriteTime, writeTimeBounds } from '../offset-time-index';
import type { OffsetTimeIndex } from '../offset-time-index';
import type { DlqSample, GroupSample, HighWatermarkSample, KafkaSnapshot, PartitionLagSample } from '../types';
import type { FetchedRecord } from './cluster-access';
import { allowedLagResolver, evaluatePartitionStatus, groupStatus, historyWindowMs, isRebalancing, rewoundInWindow } from './consumer-status';
import type { AllowedLagRule, ConsumerStatus } from './consumer-status';
import { commitKey, observeCommit, partitionKey, recordKey } from './partition-history';
import type { CommitHistory } from './partition-history';
import { committedPartitions, dlqPartitions, dlqTopicsOf, headOffset, isManualAssignment } from './cluster-read';
import type { ClusterRead, KafkaSelection, RecordRead } from './cluster-read';

/**
 * The numbers of a Kafka collection, from what was read: lag in messages (never negative: a
 * commit above the watermark is clamped and counted; never -1: a partition without a commit is
 * "uncommitted", counted per topic), lag in seconds (0 when caught up, NaN, which is never
 * exported, when unknown), consumer status over the window, messages lost to retention, and
 * dead-letter depth, age and inflow. Pure: plain reads and the memory of the previous collections
 * in, the snapshot and the next memory out.
 *
 * Lag in seconds, per group/topic/partition series:
 * - the record at the group's own offset gives it (records are kept per topic/partition/offset,
 *   so two groups at different offsets of one partition each get their own record's time);
 * - a series that had a record's time never falls back to the estimate: when its record cannot be
 *   read it is unknown (NaN) for that collection, so record time and estimate never mix in one
 *   series. A series starts on the estimate only when no record could be read for it (no record
 *   access, or the fetch failed), and moves to record time once one can;
 * - a record timestamp the watermark samples contradict (CreateTime set by the producer to an
 *   event time: a forwarded record from MirrorMaker or Streams, a clock far off) is not an append
 *   time: the append-time estimate is used instead. Exact lag in seconds wants LogAppendTime;
 * - an estimate with no information (a lower bound of 0 s, the first collection) is unknown, not 0.
 */

/** A group/topic/partition whose lag in seconds comes from its records. */
type SeriesSource = 'record';

/** What the exporter carries from one collection to the next. */
export interface KafkaMemory {
  /** Lag observations and last commit change, by {@link commitKey}. */
  readonly commits: ReadonlyMap<string, CommitHistory>;
  /** High watermark samples (the lag-seconds fallback), by {@link partitionKey}. */
  readonly watermarks: ReadonlyMap<string, OffsetTimeIndex>;
  /** Each group's last samples, reported again (as ERR) while its offsets cannot be read. */
  readonly lastPartitions: ReadonlyMap<string, readonly PartitionLagSample[]>;
  /** eda_kafka_consumer_lag_clamped_total by group and topic. */
  readonly clamps: Counts;
  /** eda_dlq_inflow_messages_total by dlq and source. */
  readonly dlqInflow: Counts;
  /** Sum of each dead-letter topic's log end offsets at the last collection. */
  readonly lastDlqHigh: ReadonlyMap<string, number>;
  /**
   * Record timestamps by {@link recordKey}: only the offsets this collection still needed are
   * carried over, so the cache is bounded by the partitions read (and {@link MAX_CACHED_RECORDS}).
   */
  readonly records: ReadonlyMap<string, RecordRead>;
  /** Group partitions (by {@link commitKey}) whose lag in seconds comes from records. */
  readonly seriesSources: ReadonlyMap<string, SeriesSource>;
  /** Groups seen committing with no members: offset-only (manual assignment), see {@link groupSamples}. */
  readonly manualGroups: ReadonlySet<string>;
  /**
   * Groups described with no members at the last collection: only offsets that move while a group
   * stayed without members make it manual (a consumer's last commit on close lands with its leave).
   */
  readonly emptyGroups?: ReadonlySet<string>;
}

export const EMPTY_KAFKA_MEMORY: KafkaMemory = {
  commits: new Map(),
  watermarks: new Map(),
  lastPartitions: new Map(),
  clamps: NO_COUNTS,
  dlqInflow: NO_COUNTS,
  lastDlqHigh: new Map(),
  records: new Map(),
  seriesSources: new Map(),
  manualGroups: new Set(),
  emptyGroups: new Set(),
};

export interface KafkaSnapshotInput {
  readonly read: ClusterRead;
  /**
   * Records by {@link recordKey}, each at the offset it was asked for (see `recordRequests`):
   * their timestamps give lag in seconds. Added to the ones the memory kept.
   */
  readonly records: ReadonlyMap<string, RecordRead>;
  /** Wall time (ms) of the watermark reads: the time of the observations. */
  readonly atMs: number;
  /** Wall time (ms) of the record fetch: ages are measured from here. */
  readonly fetchedAtMs: number;
  /** Problems met after the cluster reads (the record fetch); they follow the read's own. */
  readonly warnings?: readonly string[];
}

export interface KafkaSnapshotOptions {
  readonly selection: KafkaSelection;
  /**
   * The consumer status window (ms; `statusWindowSeconds`, default DEFAULT_STATUS_WINDOW_SECONDS
   * of consumer-status.ts). Lag observations are kept for the trend window, twice as long.
   */
  readonly windowMs: number;
  /**
   * Lag each group may carry per partition and still count as caught up: the first rule whose
   * glob matches the group applies; none, no allowance (KafkaTargetConfig.allowedLag).
   */
  readonly allowedLag?: readonly AllowedLagRule[] | undefined;
}

/** The last stable offset of one partition. */
export interface StableOffsetSample {
  readonly topic: string;
  readonly partition: number;
  readonly stable: number;
}

type LagSeconds = Pick<PartitionLagSample, 'lagSeconds' | 'lagSecondsSource'>;

/** What the snapshot adds to {@link KafkaSnapshot} (to be folded into it and rendered). */
export interface KafkaSnapshotDetail extends KafkaSnapshot {
  /** Log start offset of every watched partition. */
  readonly lowWatermarks: readonly { readonly topic: string; readonly partition: number; readonly low: number }[];
  /**
   * Last stable offset of every watched partition whose high watermark was read (absent when the
   * read gave none): the end a read_committed consumer sees, below the high watermark while a
   * transaction is open.
   */
  readonly stableOffsets: readonly StableOffsetSample[];
  /** Per group partition whose committed offset is below the log start: the messages retention deleted before the group read them. */
  readonly retentionLoss: readonly { readonly group: string; readonly topic: string; readonly partition: number; readonly messages: number }[];
  /** How each group is assigned: `manual` (offset-only, assign() + commit) or `consumer`; absent when undescribed. */
  readonly assignment: ReadonlyMap<string, 'manual' | 'consumer'>;
  /** Groups with a partition whose committed offset moved backwards inside the window (a reset: such a group's status is REWIND unless worse). */
  readonly rewound: readonly string[];
}

const CAUGHT_UP: LagSeconds = { lagSeconds: 0, lagSecondsSource: 'caught-up' };
/** Watermark samples kept per partition. */
const MAX_WATERMARK_SAMPLES = 60;
/** Upper bound of the record cache, whatever the number of partitions. */
export const MAX_CACHED_RECORDS = 100_000;
/**
 * How far (ms) a record timestamp may lie outside the interval the watermark samples give for its
 * append before it is taken for an event time: producer and exporter clocks differ by a little.
 */
export const TIMESTAMP_TOLERANCE_MS = 10_000;

/** `known`: the record at `offset` already looked up (possibly none), so it is not looked up twice. */
type LagSecondsOf = (topic: string, partition: number, offset: number, series?: string, known?: { readonly record: RecordRead | undefined }) => LagSeconds;

export function kafkaSnapshot(input: KafkaSnapshotInput, memory: KafkaMemory, options: KafkaSnapshotOptions): { snapshot: KafkaSnapshotDetail; memory: KafkaMemory } {
  const { read, atMs } = input;
  const { watermarks, indexes } = sampleWatermarks(read, memory.watermarks, atMs);
  const usedRecords = new Map<string, RecordRead>();
  const recordAt = (topic: string, partition: number, offset: number): RecordRead | undefined => {
    const key = recordKey(topic, partition, offset);
    const record = input.records.get(key) ?? memory.records.get(key);
    if (record && usedRecords.size < MAX_CACHED_RECORDS) usedRecords.set(key, record);
    return record;
  };
  const seriesSources = new Map<string, SeriesSource>();
  const lagSecondsOf: LagSecondsOf = (topic, partition, offset, series, known) => {
    const record = known === undefined ? recordAt(topic, partition, offset) : known.record;
    const index = indexes.get(partitionKey(topic, partition)) ?? EMPTY_INDEX;
    const fromRecord = recordLagSeconds(record, offset, input.fetchedAtMs, index);
    // A record was read but its timestamp is not an append time: the estimate, deliberately.
    const contradicted = record !== undefined && record.offset === offset && fromRecord === undefined;
    const wasRecord = series !== undefined && memory.seriesSources.get(series) === 'record';
    if (fromRecord || (wasRecord && !contradicted)) {
      if (series !== undefined) seriesSources.set(series, 'record');
      return fromRecord ?? { lagSeconds: Number.NaN, lagSecondsSource: 'record' };
    }
    return estimatedLagSeconds(index, offset, input.fetchedAtMs);
  };

  const lag = partitionLags(input, memory, options, lagSecondsOf, recordAt);
  const groups = groupSamples(read, atMs, memory, options, lag);
  const dlq = dlqSamples(read, memory, options, lagSecondsOf);
  return {
    snapshot: {
      atMs,
      groups: groups.groups,
      partitions: groups.partitions,
      watermarks,
      dlqs: dlq.dlqs,
      clamps: [...lag.clamps.values()],
      dlqInflow: [...dlq.inflow.values()],
      warnings: [...read.warnings, ...(input.warnings ?? [])],
      lowWatermarks: lowWatermarks(read),
      stableOffsets: stableOffsets(read),
      retentionLoss: lag.retentionLoss,
      assignment: groups.assignment,
      rewound: groups.rewound,
    },
    memory: {
      commits: withKeptHistories(lag.commits, groups.keptCommits, read, memory),
      watermarks: indexes,
      lastPartitions: groups.lastPartitions,
      clamps: lag.clamps,
      dlqInflow: dlq.inflow,
      lastDlqHigh: dlq.lastHigh,
      records: usedRecords,
      seriesSources: withKeptSources(seriesSources, memory, groups.keptCommits),
      manualGroups: groups.manualGroups,
      emptyGroups: groups.emptyGroups,
    },
  };
}

/**
 * True when nothing but control records (transaction markers) lies between the group's offset
 * and the log end: a caught-up read_committed consumer of a transactional producer, which is one
 * below the end for ever (the last commit marker) and is not behind.
 */
function onlyControlRecordsAfter(record: RecordRead | undefined, p: { committed: number; high: number }): boolean {
  if (p.committed >= p.high) return false;
  const next = record?.nextDataOffset;
  return next !== undefined && next >= p.high;
}

/**
 * Adds to this collection's histories (in place: they are built for the next memory) those kept
 * for unreadable groups and those of committed partitions whose watermark could not be read this
 * time (an offline partition, NOT_LEADER): their series go stale for now, but their status window
 * and last commit time survive the failure instead of starting over.
 */
function withKeptHistories(commits: Map<string, CommitHistory>, keptCommits: ReadonlyMap<string, CommitHistory>, read: ClusterRead, memory: KafkaMemory): Map<string, CommitHistory> {
  for (const [key, history] of keptCommits) commits.set(key, history);
  for (const { group, committed } of read.groups) {
    for (const [topic, byPartition] of committed ?? []) {
      const high = read.high.get(topic);
      for (const partition of byPartition.keys()) {
        if (high?.has(partition)) continue;
        const key = commitKey(group, topic, partition);
        const history = memory.commits.get(key);
        if (history) commits.set(key, history);
      }
    }
  }
  return commits;
}

/** Adds the series sources of the groups whose offsets could not be read: kept with their samples. */
function withKeptSources(sources: Map<string, SeriesSource>, memory: KafkaMemory, kept: ReadonlyMap<string, CommitHistory>): Map<string, SeriesSource> {
  for (const key of kept.keys()) {
    const source = memory.seriesSources.get(key);
    if (source) sources.set(key, source);
  }
  return sources;
}

/**
 * Age of the record at `offset`, when that record was fetched and has a usable timestamp that
 * the watermark samples (when given) do not contradict; see {@link timestampContradicted}.
 */
export function recordLagSeconds(record: FetchedRecord | undefined, offset: number, nowMs: number, index: OffsetTimeIndex = EMPTY_INDEX): LagSeconds | undefined {
  if (!record || record.offset !== offset || timestampContradicted(index, offset, record.timestampMs, nowMs)) return undefined;
  const seconds = ageSeconds(nowMs, record.timestampMs);
  return seconds === undefined ? undefined : { lagSeconds: seconds, lagSecondsSource: 'record' };
}

/**
 * True when a record's timestamp cannot be the time it was appended: in the future, or outside
 * the interval in which the watermark samples say the log reached `offset` (beyond
 * {@link TIMESTAMP_TOLERANCE_MS} either way). A producer-set CreateTime carrying an event time
 * (hours old, or ahead) is the usual cause.
 */
export function timestampContradicted(index: OffsetTimeIndex, offset: number, timestampMs: number, nowMs: number): boolean {
  if (timestampMs > nowMs + TIMESTAMP_TOLERANCE_MS) return true;
  const bounds = writeTimeBounds(index, offset);
  if (!bounds) return false;
  if (bounds.earliestMs !== undefined && timestampMs < bounds.earliestMs - TIMESTAMP_TOLERANCE_MS) return true;
  return bounds.latestMs !== undefined && timestampMs > bounds.latestMs + TIMESTAMP_TOLERANCE_MS;
}

/**
 * The fallback: when the watermark passed `offset`, from the samples; a lower bound when the
 * offset is older than every sample; unknown (NaN, never exported) when that bound is 0 s or
 * nothing is known, rather than a 0 that reads as "caught up".
 */
export function estimatedLagSeconds(index: OffsetTimeIndex, offset: number, nowMs: number): LagSeconds {
  const estimate = estimateWriteTime(index, offset);
  if (estimate === undefined) return { lagSeconds: Number.NaN, lagSecondsSource: 'lower-bound' };
  const seconds = Math.max(0, (nowMs - estimate.atMs) / 1000);
  if (estimate.kind === 'lower-bound' && seconds === 0) return { lagSeconds: Number.NaN, lagSecondsSource: 'lower-bound' };
  return { lagSeconds: seconds, lagSecondsSource: estimate.kind };
}

function lowWatermarks(read: ClusterRead): KafkaSnapshotDetail['lowWatermarks'] {
  const out: { topic: string; partition: number; low: number }[] = [];
  for (const [topic, byPartition] of read.low) for (const [partition, low] of byPartition) out.push({ topic, partition, low });
  return out;
}

/** The last stable offset of each partition whose high watermark was read this time. */
function stableOffsets(read: ClusterRead): StableOffsetSample[] {
  const out: StableOffsetSample[] = [];
  if (read.stable === undefined) return out;
  for (const [topic, byPartition] of read.high) {
    const stable = read.stable.get(topic);
    if (stable === undefined) continue;
    for (const partition of byPartition.keys()) {
      const offset = stable.get(partition);
      if (offset !== undefined) out.push({ topic, partition, stable: offset });
    }
  }
  return out;
}

function sampleWatermarks(read: ClusterRead, previous: ReadonlyMap<string, OffsetTimeIndex>, atMs: number) {
  const watermarks: HighWatermarkSample[] = [];
  // The partitions read now, plus those of existing topics whose read failed this time (a
  // leaderless partition keeps its samples for when it is back); a deleted topic's samples go.
  const indexes = new Map<string, OffsetTimeIndex>();
  const existing = new Set(read.topics);
  for (const [key, index] of previous) if (existing.has(key.slice(0, key.lastIndexOf('\u0000')))) indexes.set(key, index);
  for (const [topic, byPartition] of read.high) {
    for (const [partition, high] of byPartition) {
      watermarks.push({ topic, partition, high });
      const key = partitionKey(topic, partition);
      indexes.set(key, addSample(previous.get(key) ?? EMPTY_INDEX, high, atMs, MAX_WATERMARK_SAMPLES));
    }
  }
  return { watermarks, indexes };
}

/** Lag of every committed partition with a watermark, its commit history, and the clamps counted. */
function partitionLags(
  input: KafkaSnapshotInput,
  memory: KafkaMemory,
  options: KafkaSnapshotOptions,
  lagSecondsOf: LagSecondsOf,
  recordAt: (topic: string, partition: number, offset: number) => RecordRead | undefined,
) {
  const retentionLoss: { group: string; topic: string; partition: number; messages: number }[] = [];
  const clamps = new Map(memory.clamps);
  const commits = new Map<string, CommitHistory>();
  const byGroup = new Map<string, PartitionLagSample[]>();
  for (const p of committedPartitions(input.read)) {
    // The record at the group's position, looked up once: it says both whether only transaction
    // markers remain and how old the oldest unread record is. A caught-up partition needs none.
    const head = headOffset(input.read, p.topic, p.partition, p.committed);
    const known = p.committed < p.high ? { record: recordAt(p.topic, p.partition, head) } : undefined;
    const lag = onlyControlRecordsAfter(known?.record, p) ? { messages: 0, clamped: false } : partitionLag(p.committed, p.high);
    if (lag.clamped) addCount(clamps, `${p.group}\u0000${p.topic}`, { group: p.group, topic: p.topic }, 1);
    const key = commitKey(p.group, p.topic, p.partition);
    const low = input.read.low.get(p.topic)?.get(p.partition);
    // Retention deleted what the group had not read yet: the costliest lag, invisible in lag alone.
    if (low !== undefined && p.committed < low) retentionLoss.push({ group: p.group, topic: p.topic, partition: p.partition, messages: low - p.committed });
    const history = observeCommit(memory.commits.get(key), { atMs: input.atMs, committedOffset: p.committed, lagMessages: lag.messages }, historyWindowMs(options.windowMs));
    commits.set(key, history);
    const sample: PartitionLagSample = {
      group: p.group,
      topic: p.topic,
      partition: p.partition,
      committedOffset: p.committed,
      highWatermark: p.high,
      lagMessages: lag.messages,
      ...(lag.messages === 0 ? CAUGHT_UP : lagSecondsOf(p.topic, p.partition, head, key, known)),
      lastCommitMs: history.lastChangeMs,
    };
    const list = byGroup.get(p.group) ?? [];
    list.push(sample);
    byGroup.set(p.group, list);
  }
  return { clamps, commits, byGroup, retentionLoss };
}

/**
 * One sample per group: state, members, status (its worst partition's; ERR when its offsets or
 * membership could not be read) and assigned partitions without a commit. A group whose offsets
 * could not be read keeps its last samples rather than vanishing and breaking every alert on it.
 *
 * Manual-assignment (offset-only) groups: Kafka 3 lists them with an empty protocol type, but
 * Kafka 4's group coordinator lists a group created by a bare offset commit as an empty
 * `consumer` group, exactly like a subscribed group whose consumers all left. What tells them
 * apart is that its committed offsets move while it has no members (between two collections that
 * both saw it without members: a subscribed consumer's last commit on close lands together with its
 * leave and must not make its group manual, or a stopped group would read STALL instead of STOP):
 * from then on (while it stays without members) it is manual, judged by offset movement and
 * exported without a member count.
 */
function groupSamples(read: ClusterRead, atMs: number, memory: KafkaMemory, options: KafkaSnapshotOptions, lag: ReturnType<typeof partitionLags>) {
  /** The histories of the samples kept for unreadable groups. */
  const keptCommits = new Map<string, CommitHistory>();
  const lastPartitions = new Map<string, readonly PartitionLagSample[]>();
  const groups: GroupSample[] = [];
  const partitions: PartitionLagSample[] = [];
  const assignment = new Map<string, 'manual' | 'consumer'>();
  const rewound: string[] = [];
  const manualGroups = new Set<string>();
  const emptyGroups = new Set<string>();
  const allowedLagOf = allowedLagResolver(options.allowedLag);
  for (const { group, description, committed } of read.groups) {
    const unreadable = committed === undefined;
    // Without a description membership is unknown, and it is what tells STALL from STOP.
    const failed = unreadable || description === undefined;
    const members = description?.members ?? 0;
    if (description !== undefined && members === 0) emptyGroups.add(group);
    // Moved between two collections that both saw no members: not a subscribed consumer's last
    // commit on close, which lands together with its leave.
    const committedWithoutMembers =
      description !== undefined &&
      members === 0 &&
      memory.emptyGroups?.has(group) === true &&
      lag.byGroup.get(group)?.some((s) => movedSinceLast(memory, group, s)) === true;
    const manual = isManualAssignment(description) || (description !== undefined && members === 0 && (memory.manualGroups.has(group) || committedWithoutMembers));
    if (manual) manualGroups.add(group);
    if (description) assignment.set(group, manual ? 'manual' : 'consumer');
    // Only a decoded assignment of a live group that is not rebalancing (classic or KIP-848
    // states alike) says a partition is no longer anyone's.
    const assigned = members > 0 && !isRebalancing(description?.state) && (description?.assigned.size ?? 0) > 0 ? description?.assigned : undefined;
    const samples = unreadable ? (memory.lastPartitions.get(group) ?? []) : (lag.byGroup.get(group) ?? []);
    lastPartitions.set(group, samples);
    if (unreadable) {
      for (const s of samples) {
        const key = commitKey(group, s.topic, s.partition);
        const kept = memory.commits.get(key);
        if (kept) keptCommits.set(key, kept);
      }
    }
    const histories = failed ? [] : samples.flatMap((s) => lag.commits.get(commitKey(group, s.topic, s.partition)) ?? []);
    const statuses: ConsumerStatus[] = failed
      ? []
      : samples.flatMap((s) => {
          const h = lag.commits.get(commitKey(group, s.topic, s.partition));
          if (!h) return [];
          return [
            evaluatePartitionStatus({
              observations: h.observations,
              lastCommitChangeMs: h.lastChangeMs,
              groupHasMembers: members > 0,
              manualAssignment: manual,
              assigned: assigned === undefined ? undefined : (assigned.get(s.topic)?.has(s.partition) ?? false),
              allowedLag: allowedLagOf(group),
              nowMs: atMs,
              windowMs: options.windowMs,
            }),
          ];
        });
    if (histories.some((h) => rewoundInWindow(h.observations, atMs, options.windowMs))) rewound.push(group);
    partitions.push(...samples);
    groups.push({
      group,
      state: description?.state || 'Unknown',
      // An offset-only group never has members: no member count, so "no members while messages
      // wait" (KafkaConsumerGroupEmptyWithLag) is never said of it.
      members: description === undefined || manual ? undefined : members,
      status: groupStatus(statuses, failed),
      uncommitted: uncommittedPartitions(description?.assigned, samples, options.selection),
    });
  }
  return { groups, partitions, lastPartitions, keptCommits, assignment, rewound, manualGroups, emptyGroups };
}

/** True when the group's committed offset of this partition differs from the last collection's. */
function movedSinceLast(memory: KafkaMemory, group: string, sample: PartitionLagSample): boolean {
  const previous = memory.commits.get(commitKey(group, sample.topic, sample.partition));
  return previous !== undefined && previous.lastCommittedOffset !== sample.committedOffset;
}

/** Per topic, the assigned partitions that have no committed offset (never a lag of -1). */
function uncommittedPartitions(
  assigned: ReadonlyMap<string, ReadonlySet<number>> | undefined,
  samples: readonly PartitionLagSample[],
  selection: KafkaSelection,
): Map<string, number> {
  const committedTopics = new Map<string, Set<number>>();
  for (const s of samples) committedTopics.set(s.topic, (committedTopics.get(s.topic) ?? new Set()).add(s.partition));
  const uncommitted = new Map<string, number>();
  for (const [topic, partitions] of assigned ?? []) {
    if (!selection.topics(topic)) continue;
    const count = [...partitions].filter((p) => !committedTopics.get(topic)?.has(p)).length;
    if (count > 0) uncommitted.set(topic, count);
  }
  return uncommitted;
}

/**
 * Dead-letter topics: depth is what comes after the slowest reading group's offset (the whole
 * log when nobody reads it), age is the oldest waiting record's, and inflow is the growth of the
 * log end since the last collection, attributed to the source the topic's name gives.
 */
function dlqSamples(
  read: ClusterRead,
  memory: KafkaMemory,
  options: KafkaSnapshotOptions,
  lagSecondsOf: LagSecondsOf,
) {
  const dlqs: DlqSample[] = [];
  const inflow = new Map(memory.dlqInflow);
  const lastHigh = new Map<string, number>();
  for (const { dlq, source } of dlqTopicsOf(read.topics, options.selection)) {
    let depth = 0;
    let oldest: number | undefined;
    let highSum = 0;
    for (const { partition, start, high } of dlqPartitions(read, dlq)) {
      highSum += high;
      if (high <= start) continue;
      depth += high - start;
      const age = lagSecondsOf(dlq, partition, start);
      // Unknown (NaN: nothing read, nothing sampled yet): no age rather than a made-up one.
      if (Number.isFinite(age.lagSeconds)) oldest = Math.max(oldest ?? 0, age.lagSeconds);
    }
    dlqs.push({ system: 'kafka', dlq, sources: source ? [source] : [], depth, oldestAgeSeconds: depth === 0 ? 0 : oldest });
    lastHigh.set(dlq, highSum);
    const from = source ?? DLQ_SOURCE_UNKNOWN;
    addCount(inflow, `${dlq}\u0000${from}`, { dlq, source: from }, growth(memory.lastDlqHigh.get(dlq), highSum));
  }
  return { dlqs, inflow, lastHigh };
}
