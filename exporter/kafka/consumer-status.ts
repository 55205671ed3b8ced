import { KAFKA_CONSUMER_STATUS } from '@eda-harness/semconv';

/**
 * Burrow-style consumer status, evaluated over a wall-time window rather than a number of
 * commits (Burrow's "last N commits" window stretches to hours on slow topics and shrinks to
 * seconds on busy ones). The rules, per partition, in order:
 *
 * 1. No lag now → OK. A caught-up consumer is fine however long ago it last committed, so a
 *    quiet topic never reads as STOP (Burrow#38, #123).
 * 2. Less than one window of history → OK: not enough evidence yet.
 * 3. Lag was 0 at some point inside the window → OK: it is keeping up in bursts (Burrow#237).
 * 4. The committed offset has not moved for the whole window while lag existed:
 *    - the partition is no longer assigned to any member of a live group (its topic was
 *      unsubscribed) → OK: nobody is meant to read it, so it is not stuck;
 *    - a manual-assignment group (offset-only: assign() + commit, never members) → STALL: its
 *      offsets are all there is to judge it by, and they do not move;
 *    - the group still has members → STALL (alive but stuck: a poison message, a hung handler);
 *    - the group has no members → STOP (nobody is consuming).
 *    The broker does not tell when a commit happened, only what was committed; a consumer
 *    re-committing the same offset is indistinguishable from one not committing, so membership
 *    is what separates "stuck" from "gone".
 * 5. The offset moves but lag never decreased across the window and ended higher → WARN.
 * 6. Otherwise OK.
 *
 * A group's status is its worst partition's; ERR marks a group whose offsets or membership could
 * not be read in the last collection. A committed offset that moved backwards inside the window
 * (an offset reset, a replay) is reported apart, see {@link rewoundInWindow}.
 */
export type ConsumerStatus = keyof typeof KAFKA_CONSUMER_STATUS;

export interface LagObservation {
  /** Wall time of the collection (ms). */
  readonly atMs: number;
  readonly committedOffset: number;
  readonly lagMessages: number;
}

export interface PartitionStatusInput {
  /** Observations, oldest first; may start before the window. */
  readonly observations: readonly LagObservation[];
  /** Wall time (ms) the committed offset was last seen to change (or first seen). */
  readonly lastCommitChangeMs: number;
  readonly groupHasMembers: boolean;
  /** An offset-only group (protocol type empty): membership means nothing for it. */
  readonly manualAssignment?: boolean;
  /** False when a live group's members no longer have this partition assigned; undefined when unknown. */
  readonly assigned?: boolean | undefined;
  readonly nowMs: number;
  readonly windowMs: number;
}

export function evaluatePartitionStatus(input: PartitionStatusInput): ConsumerStatus {
  const { observations, nowMs, windowMs } = input;
  const latest = observations[observations.length - 1];
  if (latest === undefined || latest.lagMessages === 0) return 'OK';
  const windowStart = nowMs - windowMs;
  const first = observations[0]!;
  if (first.atMs > windowStart) return 'OK';
  const inWindow = observations.filter((o) => o.atMs >= windowStart);
  if (inWindow.some((o) => o.lagMessages === 0)) return 'OK';
  if (input.lastCommitChangeMs <= windowStart) {
    if (input.manualAssignment) return 'STALL';
    if (input.groupHasMembers && input.assigned === false) return 'OK';
    return input.groupHasMembers ? 'STALL' : 'STOP';
  }
  if (inWindow.length >= 2 && isNonDecreasing(inWindow.map((o) => o.lagMessages)) && latest.lagMessages > inWindow[0]!.lagMessages) {
    return 'WARN';
  }
  return 'OK';
}

function isNonDecreasing(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) return false;
  return true;
}

/**
 * True when the committed offset went down between two observations inside the window (the one
 * before the window counts as its start): the group was reset or is replaying (REWIND).
 */
export function rewoundInWindow(observations: readonly LagObservation[], nowMs: number, windowMs: number): boolean {
  const windowStart = nowMs - windowMs;
  for (let i = 1; i < observations.length; i++) {
    if (observations[i]!.atMs >= windowStart && observations[i]!.committedOffset < observations[i - 1]!.committedOffset) return true;
  }
  return false;
}

/** The worse of two statuses (OK < WARN < STALL < STOP < ERR). */
export function worstStatus(a: ConsumerStatus, b: ConsumerStatus): ConsumerStatus {
  return KAFKA_CONSUMER_STATUS[a] >= KAFKA_CONSUMER_STATUS[b] ? a : b;
}

export function groupStatus(partitionStatuses: Iterable<ConsumerStatus>, failed = false): ConsumerStatus {
  if (failed) return 'ERR';
  let worst: ConsumerStatus = 'OK';
  for (const s of partitionStatuses) worst = worstStatus(worst, s);
  return worst;
}
