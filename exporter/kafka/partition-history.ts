import type { LagObservation } from './consumer-status';

/**
 * What the exporter remembers between collections per group/topic/partition: the lag
 * observations of the last trend window (twice the status window, see historyWindowMs in
 * consumer-status.ts) and when the committed offset last moved. Plain values: each
 * collection builds the next history from the previous one, and an entry not carried over (a
 * deleted group or topic) is simply gone, so it neither leaks memory nor keeps exporting.
 */
export interface CommitHistory {
  readonly observations: readonly LagObservation[];
  readonly lastCommittedOffset: number;
  /** When the committed offset was last seen to change; the first sighting counts as a change. */
  readonly lastChangeMs: number;
}

/** Key of one partition of one topic (watermark indexes, fetched records). */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
/** Key of the record at one offset of one partition (record timestamps: several groups read one partition at different offsets). */
export const recordKey = (topic: string, partition: number, offset: number): string => `${topic}\u0000${partition}\u0000${offset}`;
/** Key of one partition as committed by one group. */
export const commitKey = (group: string, topic: string, partition: number): string => `${group}\u0000${topic}\u0000${partition}`;

/**
 * The history after `observation`: observations older than `windowMs` (the trend window) are
 * dropped (one older one is kept, see {@link prune}), and the change time moves only when the
 * committed offset does.
 */
export function observeCommit(previous: CommitHistory | undefined, observation: LagObservation, windowMs: number): CommitHistory {
  if (previous === undefined) return { observations: [observation], lastCommittedOffset: observation.committedOffset, lastChangeMs: observation.atMs };
  const last = previous.observations.at(-1);
  // The same observation again (one read rendered twice): nothing to add.
  if (last !== undefined && last.atMs === observation.atMs && last.committedOffset === observation.committedOffset && last.lagMessages === observation.lagMessages) return previous;
  // One copy per observation: the kept tail of the window and the new one (the previous history
  // stays as it was: a cancelled collection's memory is still the current one).
  const observations = previous.observations.slice(firstKept(previous.observations, observation.atMs - windowMs));
  observations.push(observation);
  return {
    observations,
    lastCommittedOffset: observation.committedOffset,
    lastChangeMs: previous.lastCommittedOffset !== observation.committedOffset ? observation.atMs : previous.lastChangeMs,
  };
}

/**
 * Drops observations before `windowStart`, except the newest of them: it proves the history
 * covers the whole window (the status and trend rules need that) and stands for the state at its start.
 */
export function prune(observations: readonly LagObservation[], windowStart: number): LagObservation[] {
  return observations.slice(firstKept(observations, windowStart));
}

/** Index of the first observation {@link prune} keeps (observations are oldest first). */
function firstKept(observations: readonly LagObservation[], windowStart: number): number {
  let firstInWindow = observations.findIndex((o) => o.atMs >= windowStart);
  if (firstInWindow === -1) firstInWindow = observations.length;
  return Math.max(0, firstInWindow - 1);
}
