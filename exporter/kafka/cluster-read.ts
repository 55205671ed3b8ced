import { partitionLag } from '../lag';
import { matchDlqPattern } from '../name-filter';
import type { DlqMatch, NameFilter } from '../name-filter';
import type { FetchedRecord, PartitionFetch } from './cluster-access';
import { recordKey } from './partition-history';

/**
 * What one Kafka collection reads from the cluster, as plain data, and the pure decisions about
 * what to read next: which topics' watermarks (committed, assigned and dead-letter topics) and
 * which records' timestamps (the oldest unconsumed record of each lagging partition and of each
 * dead-letter partition). read-cluster.ts does the reading; snapshot.ts turns it into numbers.
 */

/** Offsets by topic and partition. */
export type Offsets = ReadonlyMap<string, ReadonlyMap<number, number>>;

/** What DescribeGroups said about a group. */
export interface GroupDescriptionRead {
  readonly state: string;
  readonly members: number;
  /** Topic → partitions assigned to any member (consumer-protocol groups; empty otherwise). */
  readonly assigned: ReadonlyMap<string, ReadonlySet<number>>;
  /**
   * `consumer` for groups whose members join through the consumer protocol; `` for offset-only
   * groups (Flink, Spark, Connect with assign() + commit): they never have members, so membership
   * says nothing about them. Absent means `consumer`.
   */
  readonly protocolType?: string;
}

/** An offset-only group (manual assignment): judged by its offsets, never by its (absent) members. */
export const isManualAssignment = (description: GroupDescriptionRead | undefined): boolean => description?.protocolType === '';

export interface GroupRead {
  readonly group: string;
  /** Undefined when the group could not be described. */
  readonly description: GroupDescriptionRead | undefined;
  /**
   * Committed offsets of the selected topics, partitions with a commit only; undefined when the
   * group's offsets could not be read.
   */
  readonly committed: Offsets | undefined;
}

export interface ClusterRead {
  /** The selected consumer groups, sorted by id. */
  readonly groups: readonly GroupRead[];
  /** Every topic in the cluster. */
  readonly topics: readonly string[];
  /** Log end offsets of the watched topics (see {@link topicsToWatch}). */
  readonly high: Offsets;
  /** Log start offsets of the same partitions (0 where absent). */
  readonly low: Offsets;
  /**
   * Last stable offsets of the same partitions: the end a read_committed consumer sees (below
   * the first open transaction; equal to the log end without transactions). Absent when not read
   * (no internal cluster access); a partition is absent when its read failed.
   */
  readonly stable?: Offsets;
  /** Non-fatal problems of the reads (a group that could not be described…). */
  readonly warnings: readonly string[];
}

/**
 * A record read at an offset. `nextDataOffset` is filled when the fetch can tell control records
 * (transaction markers) apart: the offset of the first data record at or after the one asked
 * for, or the log end when only control records follow (a caught-up consumer of a transactional
 * producer sits on the last commit marker, one below the end, for ever).
 */
export interface RecordRead extends FetchedRecord {
  readonly nextDataOffset?: number;
}

/** Which topics count. */
export interface KafkaSelection {
  readonly topics: NameFilter;
  /** Dead-letter topic patterns; `*` captures the source topic's name. */
  readonly dlqPatterns: readonly string[];
}

/** The selected topics that dead-letter patterns name, sorted, each with the source its name gives. */
export function dlqTopicsOf(topics: readonly string[], selection: KafkaSelection): DlqMatch[] {
  return topics
    .filter(selection.topics)
    .flatMap((t) => matchDlqPattern(selection.dlqPatterns, t) ?? [])
    .sort((a, b) => (a.dlq < b.dlq ? -1 : a.dlq > b.dlq ? 1 : 0));
}

/**
 * Whose watermarks to read: every dead-letter topic, plus each topic a readable group has a
 * commit on or a selected topic a member is assigned, as long as it still exists. Sorted.
 */
export function topicsToWatch(topics: readonly string[], groups: readonly GroupRead[], selection: KafkaSelection): string[] {
  const existing = new Set(topics);
  const watched = new Set(dlqTopicsOf(topics, selection).map((m) => m.dlq));
  for (const g of groups) for (const t of g.committed?.keys() ?? []) if (existing.has(t)) watched.add(t);
  for (const g of groups) for (const t of g.description?.assigned.keys() ?? []) if (existing.has(t) && selection.topics(t)) watched.add(t);
  return [...watched].sort();
}

export interface CommittedPartition {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly committed: number;
  readonly high: number;
}

/** Each committed partition of each readable group whose log end was read, in read order. */
export function committedPartitions(read: ClusterRead): CommittedPartition[] {
  const out: CommittedPartition[] = [];
  for (const { group, committed } of read.groups) {
    for (const [topic, byPartition] of committed ?? []) {
      const highs = read.high.get(topic);
      if (!highs) continue;
      for (const [partition, offset] of byPartition) {
        const high = highs.get(partition);
        if (high !== undefined) out.push({ group, topic, partition, committed: offset, high });
      }
    }
  }
  return out;
}

const lowOf = (read: ClusterRead, topic: string, partition: number): number => read.low.get(topic)?.get(partition) ?? 0;

/** The oldest record a group has not consumed: at its committed offset, or the first one retention kept. */
export function headOffset(read: ClusterRead, topic: string, partition: number, committed: number): number {
  return Math.max(committed, lowOf(read, topic, partition));
}

/**
 * A dead-letter topic's partitions with where their waiting messages start: after the slowest
 * reading group's committed offset, or at the log start when no group reads it; never past the end.
 */
export function dlqPartitions(read: ClusterRead, topic: string): { partition: number; start: number; high: number }[] {
  const out: { partition: number; start: number; high: number }[] = [];
  for (const [partition, high] of read.high.get(topic) ?? []) {
    let start = lowOf(read, topic, partition);
    const consumed = read.groups.flatMap((g) => g.committed?.get(topic)?.get(partition) ?? []);
    if (consumed.length > 0) start = Math.max(start, Math.min(...consumed));
    out.push({ partition, start: Math.min(start, high), high });
  }
  return out;
}

/** The records whose timestamps the snapshot needs, in read order (lagging partitions, then dead letters). */
export function recordRequests(read: ClusterRead, selection: KafkaSelection): PartitionFetch[] {
  const out: PartitionFetch[] = [];
  for (const p of committedPartitions(read)) {
    if (partitionLag(p.committed, p.high).messages > 0) out.push({ topic: p.topic, partition: p.partition, offset: headOffset(read, p.topic, p.partition, p.committed) });
  }
  for (const { dlq } of dlqTopicsOf(read.topics, selection)) {
    for (const { partition, start, high } of dlqPartitions(read, dlq)) if (high > start) out.push({ topic: dlq, partition, offset: start });
  }
  return out;
}

/**
 * What to fetch: every offset requested (each group reading a partition needs the record at its
 * own offset) that `cache`, keyed by {@link recordKey}, does not already answer; once each.
 */
export function recordsToFetch(requests: readonly PartitionFetch[], cache: ReadonlyMap<string, FetchedRecord>): PartitionFetch[] {
  const toFetch = new Map<string, PartitionFetch>();
  for (const r of requests) {
    const key = recordKey(r.topic, r.partition, r.offset);
    if (!cache.has(key)) toFetch.set(key, r);
  }
  return [...toFetch.values()];
}

/**
 * Splits fetches into rounds with at most one offset per partition each (one Fetch names a
 * partition once), lowest offsets first: the rounds are as many as the most groups at distinct
 * offsets on one partition.
 */
export function fetchRounds(requests: readonly PartitionFetch[]): PartitionFetch[][] {
  const byPartition = new Map<string, PartitionFetch[]>();
  for (const r of requests) {
    const key = `${r.topic}\u0000${r.partition}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), r]);
  }
  const rounds: PartitionFetch[][] = [];
  for (const list of byPartition.values()) {
    list.sort((a, b) => a.offset - b.offset).forEach((r, i) => (rounds[i] ??= []).push(r));
  }
  return rounds;
}
