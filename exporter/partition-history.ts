import type { LagObservation } from './consumer-status';
import { EMPTY_INDEX, addSample } from './offset-time-index';
import type { OffsetTimeIndex } from './offset-time-index';

/**
 * What the exporter remembers between collections: per group/topic/partition the lag
 * observations of the last window and when the committed offset last moved; per topic/partition
 * the watermark samples for interpolation. Entries not seen in a collection are dropped, so a
 * deleted group or topic does not leak memory or keep exporting.
 */
export interface CommitHistory {
  readonly observations: readonly LagObservation[];
  readonly lastCommittedOffset: number;
  /** When the committed offset was last seen to change; the first sighting counts as a change. */
  readonly lastChangeMs: number;
}

export interface PartitionHistory {
  /** Records an observation and returns the partition's updated history. */
  observe(group: string, topic: string, partition: number, observation: LagObservation): CommitHistory;
  /** Records a high watermark sample and returns the partition's index. */
  sampleWatermark(topic: string, partition: number, highWatermark: number, atMs: number): OffsetTimeIndex;
  watermarkIndex(topic: string, partition: number): OffsetTimeIndex;
  /** Keeps only the groups / partitions in `seen` (keys from {@link commitKey} / {@link partitionKey}). */
  retain(seenCommits: ReadonlySet<string>, seenPartitions: ReadonlySet<string>): void;
  readonly size: { commits: number; partitions: number };
}

export const commitKey = (group: string, topic: string, partition: number): string => `${group}\u0000${topic}\u0000${partition}`;
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export interface PartitionHistoryOptions {
  /** The status window; observations older than twice this are dropped (one older one is kept). */
  readonly windowMs: number;
  readonly maxWatermarkSamples?: number;
}

export function createPartitionHistory(options: PartitionHistoryOptions): PartitionHistory {
  const commits = new Map<string, CommitHistory>();
  const watermarks = new Map<string, OffsetTimeIndex>();
  const maxSamples = options.maxWatermarkSamples ?? 60;

  return {
    observe(group, topic, partition, observation) {
      const key = commitKey(group, topic, partition);
      const previous = commits.get(key);
      const changed = previous === undefined || previous.lastCommittedOffset !== observation.committedOffset;
      const observations = prune([...(previous?.observations ?? []), observation], observation.atMs - options.windowMs);
      const next: CommitHistory = {
        observations,
        lastCommittedOffset: observation.committedOffset,
        lastChangeMs: changed ? observation.atMs : previous.lastChangeMs,
      };
      commits.set(key, next);
      return next;
    },
    sampleWatermark(topic, partition, highWatermark, atMs) {
      const key = partitionKey(topic, partition);
      const next = addSample(watermarks.get(key) ?? EMPTY_INDEX, highWatermark, atMs, maxSamples);
      watermarks.set(key, next);
      return next;
    },
    watermarkIndex(topic, partition) {
      return watermarks.get(partitionKey(topic, partition)) ?? EMPTY_INDEX;
    },
    retain(seenCommits, seenPartitions) {
      for (const key of commits.keys()) if (!seenCommits.has(key)) commits.delete(key);
      for (const key of watermarks.keys()) if (!seenPartitions.has(key)) watermarks.delete(key);
    },
    get size() {
      return { commits: commits.size, partitions: watermarks.size };
    },
  };
}

/**
 * Drops observations before `windowStart`, except the newest of them: it proves the history
 * covers the whole window (the status rules need that) and stands for the state at its start.
 */
export function prune(observations: readonly LagObservation[], windowStart: number): LagObservation[] {
  let firstInWindow = observations.findIndex((o) => o.atMs >= windowStart);
  if (firstInWindow === -1) firstInWindow = observations.length;
  return observations.slice(Math.max(0, firstInWindow - 1));
}
