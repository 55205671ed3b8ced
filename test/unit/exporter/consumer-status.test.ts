import {
  DEFAULT_STATUS_WINDOW_SECONDS,
  STATUS_SEVERITY,
  allowedLagResolver,
  evaluatePartitionStatus,
  fallingBehind,
  groupStatus,
  historyWindowMs,
  leastSquares,
  rewoundInWindow,
  worstStatus,
} from '../../../exporter/kafka/consumer-status';
import type { LagObservation, PartitionStatusInput } from '../../../exporter/kafka/consumer-status';
import { observeCommit, prune } from '../../../exporter/kafka/partition-history';
import { KAFKA_CONSUMER_STATUS } from '../../../semconv/index';

/** The defaults: 15 s between collections, the default status window. */
const INTERVAL = 15_000;
const WINDOW = DEFAULT_STATUS_WINDOW_SECONDS * 1000;
const NOW = 10_000_000;

/**
 * One observation per collection (every 15 s), the last at NOW, from (committed, lag) pairs given
 * oldest first.
 */
function series(points: readonly (readonly [committed: number, lag: number])[], step = INTERVAL): LagObservation[] {
  return points.map(([committedOffset, lagMessages], i) => ({ atMs: NOW - (points.length - 1 - i) * step, committedOffset, lagMessages }));
}

/** A consumer reading `read[i]` messages and producers writing `written[i]` between collections. */
function consumer(lags: readonly number[], moving = true): LagObservation[] {
  return series(lags.map((lag, i) => [moving ? 1_000 + i * 100 : 1_000, lag]));
}

function input(observations: LagObservation[], overrides: Partial<PartitionStatusInput> = {}): PartitionStatusInput {
  let lastChange = observations[0]?.atMs ?? NOW;
  for (let i = 1; i < observations.length; i++) {
    if (observations[i]!.committedOffset !== observations[i - 1]!.committedOffset) lastChange = observations[i]!.atMs;
  }
  return { observations, lastCommitChangeMs: lastChange, groupHasMembers: true, nowMs: NOW, windowMs: WINDOW, ...overrides };
}

const status = (observations: LagObservation[], overrides: Partial<PartitionStatusInput> = {}) => evaluatePartitionStatus(input(observations, overrides));
/** n collections' worth of the same (committed, lag). */
const still = (n: number, lag: number, committed = 10): [number, number][] => Array.from({ length: n }, () => [committed, lag]);
/** Collections covering the whole trend window at the defaults (13), plus the one standing for its start. */
const TREND_POINTS = historyWindowMs(WINDOW) / INTERVAL + 1;

describe('defaults', () => {
  it('the status window decides within 2 minutes of a last commit at the 15 s interval; the trend window is twice as long', () => {
    // Seen at the first collection after the commit (< 15 s), flagged at the first one a window later (< 15 s more).
    expect(WINDOW + 2 * INTERVAL).toBeLessThanOrEqual(120_000);
    expect(historyWindowMs(WINDOW)).toBe(2 * WINDOW);
  });
});

describe('evaluatePartitionStatus: STALL and STOP', () => {
  it('STOP: messages waiting, committed offset unchanged for the whole window, no members', () => {
    expect(status(series([[10, 5], ...still(6, 8)]), { groupHasMembers: false })).toBe('STOP');
  });

  it('STALL: the same with members (alive and stuck)', () => {
    expect(status(series(still(7, 5)), { groupHasMembers: true })).toBe('STALL');
  });

  it('not before a whole window has passed since the last commit change', () => {
    const obs = series(still(7, 5));
    expect(status(obs, { lastCommitChangeMs: NOW - WINDOW + 1 })).toBe('OK');
    expect(status(obs, { lastCommitChangeMs: NOW - WINDOW })).toBe('STALL');
  });

  it('OK: caught up, however long ago the last commit (a quiet topic never reads STOP)', () => {
    const obs = series(still(40, 0, 50), 3_600_000);
    expect(status(obs, { groupHasMembers: false })).toBe('OK');
  });

  it('OK: less than one window of history is not evidence', () => {
    expect(status(series(still(5, 5)), { groupHasMembers: false })).toBe('OK');
  });

  it('OK: lag touched 0 inside the window (keeps up in bursts)', () => {
    expect(status(series([[10, 5], [10, 0], [10, 30], [10, 40], [10, 40], [10, 40], [10, 40]]), { groupHasMembers: false, lastCommitChangeMs: 0 })).toBe('OK');
  });

  it('OK: no observations at all', () => {
    expect(status([])).toBe('OK');
  });

  it('a manual-assignment group is judged by offset movement only: STALL when it does not move, never STOP', () => {
    expect(status(series(still(7, 5)), { groupHasMembers: false, manualAssignment: true })).toBe('STALL');
    expect(status(series([10, 12, 14, 16, 18, 20, 22].map((c) => [c, 5])), { groupHasMembers: false, manualAssignment: true })).toBe('OK');
  });

  it('a partition no member of a live group has assigned is not STALL', () => {
    expect(status(series(still(7, 5)), { groupHasMembers: true, assigned: false })).toBe('OK');
    expect(status(series(still(7, 5)), { groupHasMembers: true, assigned: true })).toBe('STALL');
  });
});

describe('evaluatePartitionStatus: allowed lag', () => {
  it('a partition at or under its allowance is judged like a caught-up one', () => {
    const obs = series(still(7, 50));
    expect(status(obs, { groupHasMembers: false, allowedLag: 50 })).toBe('OK');
    expect(status(obs, { groupHasMembers: false, allowedLag: 49 })).toBe('STOP');
  });

  it('lag that came down to the allowance inside the window is OK', () => {
    const obs = series([[10, 80], [10, 80], [10, 20], [10, 80], [10, 80], [10, 80], [10, 80]]);
    expect(status(obs, { allowedLag: 20, lastCommitChangeMs: 0 })).toBe('OK');
    expect(status(obs, { allowedLag: 19, lastCommitChangeMs: 0 })).toBe('STALL');
  });
});

describe('evaluatePartitionStatus: WARN, a consumer falling steadily behind', () => {
  // 13 collections (3 minutes) of lag rising about 40 messages per collection, with noise.
  const rising = [1_000, 1_050, 1_070, 1_130, 1_150, 1_220, 1_210, 1_290, 1_320, 1_350, 1_420, 1_410, 1_480];

  it('WARN when the lag rises steadily over the trend window while the offset moves', () => {
    expect(rising).toHaveLength(TREND_POINTS);
    expect(status(consumer(rising))).toBe('WARN');
    // A clean ramp, too.
    expect(status(consumer(Array.from({ length: TREND_POINTS }, (_, i) => 100 + 10 * i)))).toBe('WARN');
  });

  it('not on noise around a flat lag', () => {
    const noisy = [
      [1_000, 1_080, 960, 1_040, 990, 1_100, 950, 1_020, 1_060, 980, 1_010, 1_090, 1_030],
      // A slow wander up and back down.
      [1_000, 1_040, 1_080, 1_120, 1_150, 1_160, 1_150, 1_120, 1_080, 1_050, 1_030, 1_060, 1_090],
      // Flat, then one step a little higher: a rate change, not a trend.
      [1_000, 1_010, 990, 1_000, 1_005, 995, 1_000, 1_050, 1_040, 1_060, 1_045, 1_055, 1_050],
      // Exactly flat.
      Array.from({ length: TREND_POINTS }, () => 500),
    ];
    for (const lags of noisy) expect([lags, status(consumer(lags))]).toEqual([lags, 'OK']);
  });

  it('not on a burst being drained, nor on a burst that just arrived', () => {
    const drained = [10, 10, 10, 10, 10, 10, 5_000, 4_500, 4_000, 3_500, 3_000, 2_500, 2_000];
    expect(status(consumer(drained))).toBe('OK');
    const arrived = [10, 12, 9, 11, 10, 10, 11, 9, 10, 12, 10, 11, 5_000];
    expect(status(consumer(arrived))).toBe('OK');
  });

  it('never on a single burst, wherever it lands in the window and however it is drained (a step fits no line well)', () => {
    for (let n = 6; n <= 20; n++) {
      for (let at = 1; at < n; at++) {
        for (const drain of [0, 10, 100]) {
          const lags = Array.from({ length: n }, (_, i) => (i < at ? 50 : 5_000 - drain * (i - at)));
          const obs = series(lags.map((lag, i) => [1_000 + i * 100, lag]), historyWindowMs(WINDOW) / (n - 1));
          expect([n, at, drain, fallingBehind(obs, NOW, historyWindowMs(WINDOW))]).toEqual([n, at, drain, false]);
        }
      }
    }
  });

  it('WARN on bursts that each leave more behind (a staircase going up), drained a little between them', () => {
    expect(status(consumer([10, 10, 10, 10, 2_000, 1_990, 1_980, 3_990, 3_980, 3_970, 5_990, 5_980, 5_970]))).toBe('WARN');
    expect(status(consumer([100, 2_000, 1_950, 1_900, 1_850, 4_000, 3_950, 3_900, 3_850, 6_000, 5_950, 5_900, 5_850]))).toBe('WARN');
  });

  it('not when the offset does not move (that is STALL / STOP once the window has passed), nor on a lag falling', () => {
    const obs = consumer(rising, false);
    expect(fallingBehind(obs, NOW, historyWindowMs(WINDOW))).toBe(false);
    expect(status(obs, { lastCommitChangeMs: NOW - WINDOW / 2 })).toBe('OK');
    expect(status(consumer([...rising].reverse()))).toBe('OK');
  });

  it('not before the history covers the trend window', () => {
    expect(status(consumer(rising.slice(-8)))).toBe('OK');
  });

  it('an allowance above the lag makes it OK whatever the trend', () => {
    expect(status(consumer(rising), { allowedLag: 1_480 })).toBe('OK');
  });
});

describe('evaluatePartitionStatus: REWIND', () => {
  it('a committed offset that moved backwards inside the status window is REWIND, caught up or not', () => {
    const replay = series([[500, 0], [500, 0], [500, 0], [500, 0], [100, 400], [200, 300], [300, 200]]);
    expect(status(replay)).toBe('REWIND');
    const resetAndDone = series([[500, 0], [500, 0], [500, 0], [500, 0], [100, 400], [500, 0], [500, 0]]);
    expect(status(resetAndDone)).toBe('REWIND');
  });

  it('once the rewind is older than the status window, the usual rules again', () => {
    const obs = series([[500, 0], [100, 400], ...still(7, 400, 100)]);
    expect(rewoundInWindow(obs, NOW, WINDOW)).toBe(false);
    expect(status(obs, { lastCommitChangeMs: obs[1]!.atMs })).toBe('STALL');
  });
});

describe('rewoundInWindow', () => {
  it('is true when the committed offset went down inside the window, false once that is older than the window', () => {
    const obs = series([[50, 5], [10, 45], [20, 35], [30, 25]]);
    expect(rewoundInWindow(obs, NOW, WINDOW)).toBe(true);
    expect(rewoundInWindow(obs, NOW + WINDOW, WINDOW)).toBe(false);
    expect(rewoundInWindow(series([[10, 5], [20, 5]]), NOW, WINDOW)).toBe(false);
  });
});

describe('group status', () => {
  it('is the worst partition status by severity, ERR when the group could not be read', () => {
    expect(groupStatus(['OK', 'WARN', 'OK'])).toBe('WARN');
    expect(groupStatus(['STALL', 'STOP', 'WARN'])).toBe('STOP');
    expect(groupStatus(['WARN', 'REWIND', 'OK'])).toBe('REWIND');
    expect(groupStatus(['REWIND', 'STALL'])).toBe('STALL');
    expect(groupStatus([])).toBe('OK');
    expect(groupStatus(['OK'], true)).toBe('ERR');
    expect(worstStatus('ERR', 'STOP')).toBe('ERR');
    expect(worstStatus('REWIND', 'ERR')).toBe('ERR');
  });

  it('every exported status has a severity; the exported numbers of the first five did not change', () => {
    expect(Object.keys(STATUS_SEVERITY).sort()).toEqual(Object.keys(KAFKA_CONSUMER_STATUS).sort());
    expect(KAFKA_CONSUMER_STATUS).toEqual({ OK: 0, WARN: 1, STALL: 2, STOP: 3, ERR: 4, REWIND: 5 });
  });
});

describe('leastSquares', () => {
  it('gives the slope and how well the line fits', () => {
    expect(leastSquares([[0, 1], [1, 3], [2, 5]])).toEqual({ slope: 2, r2: 1 });
    expect(leastSquares([[0, 1], [1, 1], [2, 1]])).toEqual({ slope: 0, r2: 0 });
    const fit = leastSquares([[0, 0], [1, 2], [2, 0], [3, 2]]);
    expect(fit.slope).toBeCloseTo(0.4);
    expect(fit.r2).toBeCloseTo(0.2);
  });
});

describe('allowedLagResolver', () => {
  it('the first rule whose glob matches the group applies; no match, no allowance', () => {
    const allowed = allowedLagResolver([
      { groups: 'reports-daily', messages: 10_000 },
      { groups: 'reports-*', messages: 500 },
      { groups: '*', messages: 5 },
    ]);
    expect(allowed('reports-daily')).toBe(10_000);
    expect(allowed('reports-hourly')).toBe(500);
    expect(allowed('orders')).toBe(5);
    expect(allowedLagResolver([{ groups: 'a*', messages: 1 }])('b')).toBe(0);
    expect(allowedLagResolver()('b')).toBe(0);
  });

  it('rejects a rule it cannot apply, saying which and what is expected', () => {
    expect(() => allowedLagResolver([{ groups: 'a', messages: -1 }])).toThrow('allowedLag[0].messages (groups "a") must be a whole number of messages ≥ 0 (got -1).');
    expect(() => allowedLagResolver([{ groups: 'a', messages: 1 }, { groups: '', messages: 1 }])).toThrow(/^allowedLag\[1\]\.groups must be a group name pattern/);
  });
});

describe('prune', () => {
  it('keeps the window plus the newest observation before it', () => {
    const obs = [0, 10, 20, 30, 40].map((atMs) => ({ atMs, committedOffset: 0, lagMessages: 0 }));
    expect(prune(obs, 25).map((o) => o.atMs)).toEqual([20, 30, 40]);
    expect(prune(obs, 100).map((o) => o.atMs)).toEqual([40]);
    expect(prune(obs, 0).map((o) => o.atMs)).toEqual([0, 10, 20, 30, 40]);
  });
});

describe('observeCommit', () => {
  const at = (atMs: number, committedOffset = 5, lagMessages = 3) => ({ atMs, committedOffset, lagMessages });

  it('keeps the trend window, moves the change time only when the offset moves, and leaves the previous history as it was', () => {
    const first = observeCommit(undefined, at(0), 25);
    const second = observeCommit(first, at(10), 25);
    const third = observeCommit(second, at(40, 7), 25);
    expect(first).toEqual({ observations: [at(0)], lastCommittedOffset: 5, lastChangeMs: 0 });
    expect(second).toEqual({ observations: [at(0), at(10)], lastCommittedOffset: 5, lastChangeMs: 0 });
    expect(third).toEqual({ observations: [at(10), at(40, 7)], lastCommittedOffset: 7, lastChangeMs: 40 });
    // A collection given up on leaves the earlier memory current: it must not have changed.
    expect(second.observations).toEqual([at(0), at(10)]);
  });

  it('returns the same history when the observation is the one it already ends with', () => {
    const h = observeCommit(observeCommit(undefined, at(0), 25), at(10), 25);
    expect(observeCommit(h, at(10), 25)).toBe(h);
    expect(observeCommit(h, at(10, 5, 4), 25)).not.toBe(h);
  });
});
