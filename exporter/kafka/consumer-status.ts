import { KAFKA_CONSUMER_STATUS } from '@eda-harness/semconv';
import { globToRegExp } from '../name-filter';

/**
 * Consumer status, Burrow-style but evaluated over a wall-time window rather than a number of
 * commits (Burrow's "last N commits" window stretches to hours on slow topics and shrinks to
 * seconds on busy ones). Two spans are used:
 *
 * - the **status window** W (`statusWindowSeconds`, default {@link DEFAULT_STATUS_WINDOW_SECONDS}):
 *   how long a committed offset may stay still under waiting messages before STALL / STOP, and how
 *   long a rewind is reported;
 * - the **trend window**, {@link TREND_WINDOW_FACTOR} × W: the lag history WARN is judged on.
 *
 * Per partition, in order ("waiting" means lag above the group's allowed lag, 0 by default):
 *
 * 1. The committed offset moved backwards inside the status window (an offset reset, a replay)
 *    → REWIND, whatever the lag: the operator should know the group re-reads what it had read.
 * 2. Nothing waiting now → OK. A caught-up consumer is fine however long ago it last committed, so
 *    a quiet topic never reads as STOP (Burrow#38, #123).
 * 3. Less than one status window of history → OK: not enough evidence yet.
 * 4. Nothing waiting at some point inside the status window → OK: it keeps up in bursts (Burrow#237).
 * 5. The committed offset has not moved for the whole status window while messages waited:
 *    - a manual-assignment group (offset-only: assign() + commit, never members) → STALL: its
 *      offsets are all there is to judge it by, and they do not move (never STOP, never "empty");
 *    - the partition is no longer assigned to any member of a live group (its topic was
 *      unsubscribed) → OK: nobody is meant to read it, so it is not stuck;
 *    - the group still has members → STALL (alive but stuck: a poison message, a hung handler);
 *    - the group has no members → STOP (nobody is consuming).
 *    The broker does not tell when a commit happened, only what was committed; a consumer
 *    re-committing the same offset is indistinguishable from one not committing, so membership
 *    is what separates "stuck" from "gone".
 * 6. The consumer is falling steadily behind over the trend window ({@link fallingBehind}) → WARN.
 * 7. Otherwise OK.
 *
 * Timing with the defaults (interval 15 s, W = 90 s): the exporter sees a commit at the first
 * collection after it, and STALL / STOP need the offset still for a whole W after that, so a
 * consumer that stops or hangs while messages keep arriving is flagged 90 to 120 s after its last
 * commit. A consumer committing less often than every W − interval (75 s by default) while
 * messages wait reads STALL between its commits: give its group an allowed lag it stays under, or
 * raise the window (at the price of later decisions for every group).
 *
 * A group's status is its worst partition's by {@link STATUS_SEVERITY} (which is not the order
 * of the exported numbers: REWIND was added after ERR and kept its own number); ERR marks a group
 * whose offsets or membership could not be read in the last collection.
 */
export type ConsumerStatus = keyof typeof KAFKA_CONSUMER_STATUS;

/**
 * Group states in which the assignment is being changed: the classic protocol's
 * PreparingRebalance / CompletingRebalance and the consumer protocol's (KIP-848) Assigning /
 * Reconciling. A group in one of them has members, but what each member reports as its assignment
 * is in flux (a partition moving between members is in neither's for a moment), so it does not say
 * a partition is no longer anyone's.
 */
export const REBALANCING_STATES: ReadonlySet<string> = new Set(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling']);

/** True for a group state in which the assignment is being changed (see {@link REBALANCING_STATES}). */
export const isRebalancing = (state: string | undefined): boolean => state !== undefined && REBALANCING_STATES.has(state);

/** Default status window (s): with the default 15 s interval, STALL / STOP within 2 minutes of the last commit. */
export const DEFAULT_STATUS_WINDOW_SECONDS = 90;
/** The trend window (WARN) is this many status windows long: enough samples to tell a trend from noise. */
export const TREND_WINDOW_FACTOR = 2;
/** Fewest observations over the trend window for WARN (at the defaults there are 13). */
export const MIN_TREND_OBSERVATIONS = 6;
/** How well a rising straight line must explain the lag over the trend window for WARN (R², 0 to 1). */
export const MIN_TREND_FIT = 0.8;

/**
 * How bad each status is, for a group's worst: OK < WARN < REWIND < STALL < STOP < ERR. A rewind
 * is worse than a slow consumer (it re-delivers what was processed) but, unlike STALL / STOP,
 * nothing is stuck; a rewound partition that then stops moving is STALL / STOP once a status
 * window has passed since the rewind.
 */
export const STATUS_SEVERITY: Readonly<Record<ConsumerStatus, number>> = { OK: 0, WARN: 1, REWIND: 2, STALL: 3, STOP: 4, ERR: 5 };

/** How long a partition's observations are kept: the trend window. */
export const historyWindowMs = (statusWindowMs: number): number => statusWindowMs * TREND_WINDOW_FACTOR;

export interface LagObservation {
  /** Wall time of the collection (ms). */
  readonly atMs: number;
  readonly committedOffset: number;
  readonly lagMessages: number;
}

export interface PartitionStatusInput {
  /** Observations, oldest first; may start before the window (kept for the trend window). */
  readonly observations: readonly LagObservation[];
  /** Wall time (ms) the committed offset was last seen to change (or first seen). */
  readonly lastCommitChangeMs: number;
  readonly groupHasMembers: boolean;
  /** An offset-only group (protocol type empty): membership means nothing for it. */
  readonly manualAssignment?: boolean;
  /** False when a live group's members no longer have this partition assigned; undefined when unknown. */
  readonly assigned?: boolean | undefined;
  /** Lag (messages) the group may carry and still count as caught up (default 0). */
  readonly allowedLag?: number;
  readonly nowMs: number;
  /** The status window (ms); the trend window is {@link historyWindowMs} of it. */
  readonly windowMs: number;
}

export function evaluatePartitionStatus(input: PartitionStatusInput): ConsumerStatus {
  const { observations, nowMs, windowMs } = input;
  const allowed = input.allowedLag ?? 0;
  const latest = observations[observations.length - 1];
  if (latest === undefined) return 'OK';
  if (rewoundInWindow(observations, nowMs, windowMs)) return 'REWIND';
  if (latest.lagMessages <= allowed) return 'OK';
  const windowStart = nowMs - windowMs;
  if (observations[0]!.atMs > windowStart) return 'OK';
  if (observations.some((o) => o.atMs >= windowStart && o.lagMessages <= allowed)) return 'OK';
  if (input.lastCommitChangeMs <= windowStart) {
    if (input.manualAssignment) return 'STALL';
    if (input.groupHasMembers && input.assigned === false) return 'OK';
    return input.groupHasMembers ? 'STALL' : 'STOP';
  }
  return fallingBehind(observations, nowMs, historyWindowMs(windowMs)) ? 'WARN' : 'OK';
}

/**
 * True when the lag rose steadily over the trend window while the consumer kept committing: it
 * reads, but slower than the producers write. All of:
 * - the history covers the trend window with at least {@link MIN_TREND_OBSERVATIONS} observations
 *   (the newest one before the window stands for its start);
 * - the committed offset advanced inside it (a consumer that does not commit is judged by the
 *   STALL / STOP rules instead);
 * - the lag ended higher than it started;
 * - a least-squares line of lag over time rises and explains at least {@link MIN_TREND_FIT} of the
 *   lag's variance. Noise around a flat lag fits no line. A single burst, drained or not, is a
 *   step, and a step never fits a line that well (at most R² = 0.77 with 6 or more evenly spaced
 *   points, about 0.75 with many): one burst is never WARN. Bursts that each leave more behind
 *   (a staircase going up) are a consumer falling behind, and fit (R² ≈ 0.9 for three steps).
 */
export function fallingBehind(observations: readonly LagObservation[], nowMs: number, trendWindowMs: number): boolean {
  const trendStart = nowMs - trendWindowMs;
  if (observations.length === 0 || observations[0]!.atMs > trendStart) return false;
  let from = 0;
  while (from + 1 < observations.length && observations[from + 1]!.atMs <= trendStart) from++;
  const points = observations.slice(from);
  if (points.length < MIN_TREND_OBSERVATIONS) return false;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (last.lagMessages <= first.lagMessages || last.committedOffset <= first.committedOffset) return false;
  const fit = leastSquares(points.map((p) => [(p.atMs - first.atMs) / 1000, p.lagMessages]));
  return fit.slope > 0 && fit.r2 >= MIN_TREND_FIT;
}

/** Slope and coefficient of determination of the least-squares line through `points` ([x, y]). */
export function leastSquares(points: readonly (readonly [number, number])[]): { slope: number; r2: number } {
  const n = points.length;
  if (n < 2) return { slope: 0, r2: 0 };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return { slope: 0, r2: 0 };
  return { slope: sxy / sxx, r2: (sxy * sxy) / (sxx * syy) };
}

/**
 * True when the committed offset went down between two observations inside the status window
 * (the one before the window counts as its start): the group was reset or is replaying (REWIND).
 */
export function rewoundInWindow(observations: readonly LagObservation[], nowMs: number, windowMs: number): boolean {
  const windowStart = nowMs - windowMs;
  for (let i = 1; i < observations.length; i++) {
    if (observations[i]!.atMs >= windowStart && observations[i]!.committedOffset < observations[i - 1]!.committedOffset) return true;
  }
  return false;
}

/** The worse of two statuses by {@link STATUS_SEVERITY} (OK < WARN < REWIND < STALL < STOP < ERR). */
export function worstStatus(a: ConsumerStatus, b: ConsumerStatus): ConsumerStatus {
  return STATUS_SEVERITY[a] >= STATUS_SEVERITY[b] ? a : b;
}

export function groupStatus(partitionStatuses: Iterable<ConsumerStatus>, failed = false): ConsumerStatus {
  if (failed) return 'ERR';
  let worst: ConsumerStatus = 'OK';
  for (const s of partitionStatuses) worst = worstStatus(worst, s);
  return worst;
}

/** One allowed-lag rule: groups whose name matches the glob (`*` wildcard) may carry this many messages of lag per partition. */
export interface AllowedLagRule {
  readonly groups: string;
  readonly messages: number;
}

/**
 * The allowance of each group: the first rule whose glob matches the group's name, 0 when none
 * does. Throws on a rule that is not a glob with a whole number of messages ≥ 0.
 */
export function allowedLagResolver(rules: readonly AllowedLagRule[] = []): (group: string) => number {
  const compiled = rules.map((rule, i) => {
    if (typeof rule.groups !== 'string' || rule.groups === '') {
      throw new Error(`allowedLag[${i}].groups must be a group name pattern such as "reports-*" (got ${JSON.stringify(rule.groups)}).`);
    }
    if (!Number.isSafeInteger(rule.messages) || rule.messages < 0) {
      throw new Error(`allowedLag[${i}].messages (groups "${rule.groups}") must be a whole number of messages ≥ 0 (got ${JSON.stringify(rule.messages)}).`);
    }
    return { re: globToRegExp(rule.groups), messages: rule.messages };
  });
  const cache = new Map<string, number>();
  return (group) => {
    let allowed = cache.get(group);
    if (allowed === undefined) {
      allowed = compiled.find((c) => c.re.test(group))?.messages ?? 0;
      cache.set(group, allowed);
    }
    return allowed;
  };
}

