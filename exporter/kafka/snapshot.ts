import { DLQ_SOURCE_UNKNOWN } from '@eda-harness/semconv';
import { addCount, growth, NO_COUNTS } from '../counts';
import type { Counts } from '../counts';
import { ageSeconds, partitionLag } from '../lag';
import { EMPTY_INDEX, addSample, estimateWriteTime } from '../offset-time-index';
import type { OffsetTimeIndex } from '../offset-time-index';
import type { DlqSample, GroupSample, HighWatermarkSample, KafkaSnapshot, PartitionLagSample } from '../types';
import type { FetchedRecord } from './cluster-access';
import { evaluatePartitionStatus, groupStatus } from './consumer-status';
import type { ConsumerStatus } from './consumer-status';
import { commitKey, observeCommit, partitionKey } from './partition-history';
import type { CommitHistory } from './partition-history';
import { committedPartitions, dlqPartitions, dlqTopicsOf, headOffset } from './cluster-read';
import type { ClusterRead, KafkaSelection } from './cluster-read';

/**
 * The numbers of a Kafka collection, from what was read: lag in messages (never negative: a
 * commit above the watermark is clamped and counted; never -1: a partition without a commit is
 * "uncommitted", counted per topic), lag in seconds (never NaN, 0 when caught up), consumer
 * status over the window, and dead-letter depth, age and inflow. Pure: plain reads and the memory
 * of the previous collections in, the snapshot and the next memory out.
 */

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
}

export const EMPTY_KAFKA_MEMORY: KafkaMemory = {
  commits: new Map(),
  watermarks: new Map(),
  lastPartitions: new Map(),
  clamps: NO_COUNTS,
  dlqInflow: NO_COUNTS,
  lastDlqHigh: new Map(),
};

export interface KafkaSnapshotInput {
  readonly read: ClusterRead;
  /**
   * Records by {@link partitionKey}, each at the offset it was asked for (see `recordRequests`):
   * their timestamps give lag in seconds. A record at another offset than the one needed is ignored.
   */
  readonly records: ReadonlyMap<string, FetchedRecord>;
  /** Wall time (ms) of the watermark reads: the time of the observations. */
  readonly atMs: number;
  /** Wall time (ms) of the record fetch: ages are measured from here. */
  readonly fetchedAtMs: number;
  /** Problems met after the cluster reads (the record fetch); they follow the read's own. */
  readonly warnings?: readonly string[];
}

export interface KafkaSnapshotOptions {
  readonly selection: KafkaSelection;
  /** The consumer status window (ms). */
  readonly windowMs: number;
}

type LagSeconds = Pick<PartitionLagSample, 'lagSeconds' | 'lagSecondsSource'>;

const CAUGHT_UP: LagSeconds = { lagSeconds: 0, lagSecondsSource: 'caught-up' };
/** Watermark samples kept per partition. */
const MAX_WATERMARK_SAMPLES = 60;

export function kafkaSnapshot(input: KafkaSnapshotInput, memory: KafkaMemory, options: KafkaSnapshotOptions): { snapshot: KafkaSnapshot; memory: KafkaMemory } {
  const { read, atMs } = input;
  const { watermarks, indexes } = sampleWatermarks(read, memory.watermarks, atMs);
  const lagSecondsOf = (topic: string, partition: number, offset: number): LagSeconds =>
    recordLagSeconds(input.records.get(partitionKey(topic, partition)), offset, input.fetchedAtMs) ??
    estimatedLagSeconds(indexes.get(partitionKey(topic, partition)) ?? EMPTY_INDEX, offset, input.fetchedAtMs);

  const lag = partitionLags(input, memory, options, lagSecondsOf);
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
    },
    memory: {
      commits: new Map([...lag.commits, ...groups.keptCommits]),
      watermarks: indexes,
      lastPartitions: groups.lastPartitions,
      clamps: lag.clamps,
      dlqInflow: dlq.inflow,
      lastDlqHigh: dlq.lastHigh,
    },
  };
}

/** Age of the record at `offset`, when that record was fetched and has a usable timestamp. */
export function recordLagSeconds(record: FetchedRecord | undefined, offset: number, nowMs: number): LagSeconds | undefined {
  const seconds = record && record.offset === offset ? ageSeconds(nowMs, record.timestampMs) : undefined;
  return seconds === undefined ? undefined : { lagSeconds: seconds, lagSecondsSource: 'record' };
}

/** The fallback: when the watermark passed `offset`, from the samples; 0 as a lower bound when nothing is known. */
export function estimatedLagSeconds(index: OffsetTimeIndex, offset: number, nowMs: number): LagSeconds {
  const estimate = estimateWriteTime(index, offset);
  if (estimate === undefined) return { lagSeconds: 0, lagSecondsSource: 'lower-bound' };
  return { lagSeconds: Math.max(0, (nowMs - estimate.atMs) / 1000), lagSecondsSource: estimate.kind };
}

function sampleWatermarks(read: ClusterRead, previous: ReadonlyMap<string, OffsetTimeIndex>, atMs: number) {
  const watermarks: HighWatermarkSample[] = [];
  // Only the partitions read now are carried over: a deleted topic's samples go with it.
  const indexes = new Map<string, OffsetTimeIndex>();
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
  lagSecondsOf: (topic: string, partition: number, offset: number) => LagSeconds,
) {
  const clamps = new Map(memory.clamps);
  const commits = new Map<string, CommitHistory>();
  const byGroup = new Map<string, PartitionLagSample[]>();
  for (const p of committedPartitions(input.read)) {
    const lag = partitionLag(p.committed, p.high);
    if (lag.clamped) addCount(clamps, `${p.group}\u0000${p.topic}`, { group: p.group, topic: p.topic }, 1);
    const key = commitKey(p.group, p.topic, p.partition);
    const history = observeCommit(memory.commits.get(key), { atMs: input.atMs, committedOffset: p.committed, lagMessages: lag.messages }, options.windowMs);
    commits.set(key, history);
    const sample: PartitionLagSample = {
      group: p.group,
      topic: p.topic,
      partition: p.partition,
      committedOffset: p.committed,
      highWatermark: p.high,
      lagMessages: lag.messages,
      ...(lag.messages === 0 ? CAUGHT_UP : lagSecondsOf(p.topic, p.partition, headOffset(input.read, p.topic, p.partition, p.committed))),
      lastCommitMs: history.lastChangeMs,
    };
    const list = byGroup.get(p.group) ?? [];
    list.push(sample);
    byGroup.set(p.group, list);
  }
  return { clamps, commits, byGroup };
}

/**
 * One sample per group: state, members, status (its worst partition's; ERR when its offsets or
 * membership could not be read) and assigned partitions without a commit. A group whose offsets
 * could not be read keeps its last samples rather than vanishing and breaking every alert on it.
 */
function groupSamples(read: ClusterRead, atMs: number, memory: KafkaMemory, options: KafkaSnapshotOptions, lag: ReturnType<typeof partitionLags>) {
  /** The histories of the samples kept for unreadable groups. */
  const keptCommits = new Map<string, CommitHistory>();
  const lastPartitions = new Map<string, readonly PartitionLagSample[]>();
  const groups: GroupSample[] = [];
  const partitions: PartitionLagSample[] = [];
  for (const { group, description, committed } of read.groups) {
    const unreadable = committed === undefined;
    // Without a description membership is unknown, and it is what tells STALL from STOP.
    const failed = unreadable || description === undefined;
    const members = description?.members ?? 0;
    const samples = unreadable ? (memory.lastPartitions.get(group) ?? []) : (lag.byGroup.get(group) ?? []);
    lastPartitions.set(group, samples);
    if (unreadable) {
      for (const s of samples) {
        const key = commitKey(group, s.topic, s.partition);
        const kept = memory.commits.get(key);
        if (kept) keptCommits.set(key, kept);
      }
    }
    const statuses: ConsumerStatus[] = failed
      ? []
      : samples.flatMap((s) => {
          const h = lag.commits.get(commitKey(group, s.topic, s.partition));
          if (!h) return [];
          return [evaluatePartitionStatus({ observations: h.observations, lastCommitChangeMs: h.lastChangeMs, groupHasMembers: members > 0, nowMs: atMs, windowMs: options.windowMs })];
        });
    partitions.push(...samples);
    groups.push({
      group,
      state: description?.state || 'Unknown',
      members: description === undefined ? undefined : members,
      status: groupStatus(statuses, failed),
      uncommitted: uncommittedPartitions(description?.assigned, samples, options.selection),
    });
  }
  return { groups, partitions, lastPartitions, keptCommits };
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
  lagSecondsOf: (topic: string, partition: number, offset: number) => LagSeconds,
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
      // A lower bound of 0 says nothing yet: no age rather than a made-up one.
      if (age.lagSecondsSource !== 'lower-bound' || age.lagSeconds > 0) oldest = Math.max(oldest ?? 0, age.lagSeconds);
    }
    dlqs.push({ system: 'kafka', dlq, sources: source ? [source] : [], depth, oldestAgeSeconds: depth === 0 ? 0 : oldest });
    lastHigh.set(dlq, highSum);
    const from = source ?? DLQ_SOURCE_UNKNOWN;
    addCount(inflow, `${dlq}\u0000${from}`, { dlq, source: from }, growth(memory.lastDlqHigh.get(dlq), highSum));
  }
  return { dlqs, inflow, lastHigh };
}
