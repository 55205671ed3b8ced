import { evaluatePartitionStatus, groupStatus, rewoundInWindow, worstStatus } from '../../../exporter/kafka/consumer-status';
import type { LagObservation, PartitionStatusInput } from '../../../exporter/kafka/consumer-status';
import { prune } from '../../../exporter/kafka/partition-history';

const WINDOW = 60_000;
const NOW = 1_000_000;

/** Observations every 10 s over the last `spanMs`, from (committed, lag) pairs given oldest first. */
function series(points: [committed: number, lag: number][], spanMs = 70_000): LagObservation[] {
  const step = spanMs / Math.max(1, points.length - 1);
  return points.map(([committedOffset, lagMessages], i) => ({ atMs: NOW - spanMs + i * step, committedOffset, lagMessages }));
}

function input(observations: LagObservation[], overrides: Partial<PartitionStatusInput> = {}): PartitionStatusInput {
  let lastChange = observations[0]?.atMs ?? NOW;
  for (let i = 1; i < observations.length; i++) {
    if (observations[i]!.committedOffset !== observations[i - 1]!.committedOffset) lastChange = observations[i]!.atMs;
  }
  return { observations, lastCommitChangeMs: lastChange, groupHasMembers: true, nowMs: NOW, windowMs: WINDOW, ...overrides };
}

describe('evaluatePartitionStatus', () => {
  it('OK: caught up, however long ago the last commit (idle topic, no false STOP)', () => {
    const obs = series([[50, 0], [50, 0], [50, 0], [50, 0]], 3_600_000);
    expect(evaluatePartitionStatus(input(obs, { groupHasMembers: false }))).toBe('OK');
  });

  it('STOP: lag exists, committed offset unchanged for the whole window, no members', () => {
    const obs = series([[10, 5], [10, 8], [10, 12], [10, 20]]);
    expect(evaluatePartitionStatus(input(obs, { groupHasMembers: false }))).toBe('STOP');
  });

  it('STALL: same, but the group still has members (alive and stuck)', () => {
    const obs = series([[10, 5], [10, 5], [10, 5], [10, 5]]);
    expect(evaluatePartitionStatus(input(obs, { groupHasMembers: true }))).toBe('STALL');
  });

  it('WARN: the offset moves but lag keeps growing', () => {
    const obs = series([[10, 5], [12, 9], [14, 14], [16, 20]]);
    expect(evaluatePartitionStatus(input(obs))).toBe('WARN');
  });

  it('OK: lag moving down is a consumer catching up', () => {
    const obs = series([[10, 50], [30, 40], [60, 20], [70, 15]]);
    expect(evaluatePartitionStatus(input(obs))).toBe('OK');
  });

  it('OK: lag touched 0 inside the window (bursty traffic)', () => {
    const obs = series([[10, 5], [15, 0], [15, 30], [15, 40]]);
    expect(evaluatePartitionStatus(input(obs, { lastCommitChangeMs: NOW - WINDOW - 1 }))).toBe('OK');
  });

  it('OK: less than one window of history is not evidence', () => {
    const obs = series([[10, 5], [10, 5], [10, 5]], 30_000);
    expect(evaluatePartitionStatus(input(obs, { groupHasMembers: false }))).toBe('OK');
  });

  it('OK: the committed offset moved inside the window and lag did not grow', () => {
    const obs = series([[10, 5], [10, 5], [11, 5], [11, 5]]);
    expect(evaluatePartitionStatus(input(obs))).toBe('OK');
  });

  it('OK: no observations at all', () => {
    expect(evaluatePartitionStatus(input([]))).toBe('OK');
  });
});

describe('group status', () => {
  it('is the worst partition status, ERR when the group could not be read', () => {
    expect(groupStatus(['OK', 'WARN', 'OK'])).toBe('WARN');
    expect(groupStatus(['STALL', 'STOP', 'WARN'])).toBe('STOP');
    expect(groupStatus([])).toBe('OK');
    expect(groupStatus(['OK'], true)).toBe('ERR');
    expect(worstStatus('ERR', 'STOP')).toBe('ERR');
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

describe('evaluatePartitionStatus: manual assignment and unassigned partitions', () => {
  const stuck = series([[10, 5], [10, 5], [10, 5], [10, 5]]);

  it('a manual-assignment group is judged by offset movement only: STALL when it does not move, never STOP', () => {
    expect(evaluatePartitionStatus(input(stuck, { groupHasMembers: false, manualAssignment: true }))).toBe('STALL');
    expect(evaluatePartitionStatus(input(series([[10, 5], [12, 5], [14, 5], [16, 5]]), { groupHasMembers: false, manualAssignment: true }))).toBe('OK');
  });

  it('a partition no member of a live group has assigned is not STALL', () => {
    expect(evaluatePartitionStatus(input(stuck, { groupHasMembers: true, assigned: false }))).toBe('OK');
    expect(evaluatePartitionStatus(input(stuck, { groupHasMembers: true, assigned: true }))).toBe('STALL');
  });
});

describe('rewoundInWindow', () => {
  it('is true when the committed offset went down inside the window, false once that is older than the window', () => {
    const obs = series([[50, 5], [10, 45], [20, 35], [30, 25]]);
    expect(rewoundInWindow(obs, NOW, WINDOW)).toBe(true);
    expect(rewoundInWindow(obs, NOW + 50_000, WINDOW)).toBe(false);
    expect(rewoundInWindow(series([[10, 5], [20, 5]]), NOW, WINDOW)).toBe(false);
  });
});
