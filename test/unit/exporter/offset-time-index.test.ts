import fc from 'fast-check';
import { EMPTY_INDEX, addSample, estimateWriteTime, interpolatedLagSeconds, writeTimeBounds } from '../../../exporter/offset-time-index';
import type { OffsetTimeIndex } from '../../../exporter/offset-time-index';

const build = (points: [offset: number, atMs: number][], max?: number): OffsetTimeIndex =>
  points.reduce((index, [o, t]) => addSample(index, o, t, max), EMPTY_INDEX);

describe('offset → time index', () => {
  it('interpolates inside the bracketing samples under steady traffic', () => {
    // 10 messages per second: watermark 0 at t=0 s, 100 at t=10 s, 200 at t=20 s.
    const index = build([[0, 0], [100, 10_000], [200, 20_000]]);
    const estimate = estimateWriteTime(index, 149)!;
    expect(estimate.kind).toBe('interpolated');
    expect(estimate.atMs).toBeCloseTo(15_000, -1);
    expect(interpolatedLagSeconds(index, 149, 30_000)).toBeCloseTo(15, 1);
  });

  it('places a record written after an idle period after the idle period, not before it', () => {
    // Idle at 100 from t=10 s to t=60 s, then a burst to 110 by t=61 s.
    const index = build([[0, 0], [100, 10_000], [100, 35_000], [100, 60_000], [110, 61_000]]);
    expect(index.samples).toHaveLength(3);
    const estimate = estimateWriteTime(index, 100)!;
    expect(estimate.atMs).toBeGreaterThanOrEqual(60_000);
    expect(estimate.atMs).toBeLessThanOrEqual(61_000);
  });

  it('gives a lower bound, not NaN, for an offset older than every sample (one sample only)', () => {
    const index = build([[500, 10_000]]);
    expect(estimateWriteTime(index, 10)).toEqual({ atMs: 10_000, kind: 'lower-bound' });
    expect(interpolatedLagSeconds(index, 10, 25_000)).toBe(15);
  });

  it('gives 0 when there are no samples or the offset is not behind', () => {
    expect(interpolatedLagSeconds(EMPTY_INDEX, 5, 1_000)).toBe(0);
    expect(interpolatedLagSeconds(build([[0, 0], [10, 1_000]]), 10, 5_000)).toBe(0);
  });

  it('restarts when the watermark goes backwards (topic recreated)', () => {
    const index = build([[0, 0], [100, 1_000], [5, 2_000]]);
    expect(index.samples).toEqual([{ offset: 5, firstMs: 2_000, lastMs: 2_000 }]);
  });

  it('thins evenly and keeps its oldest sample when over the limit', () => {
    const points: [number, number][] = Array.from({ length: 100 }, (_, i) => [i * 10, i * 1_000]);
    const index = build(points, 10);
    expect(index.samples).toHaveLength(10);
    expect(index.samples[0]).toEqual({ offset: 0, firstMs: 0, lastMs: 0 });
    expect(index.samples[9]!.offset).toBe(990);
  });

  it('never returns NaN, a negative age, or an age beyond the oldest sample', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 5_000 })), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 0, max: 3_000 }),
        (steps, query) => {
          let offset = 0;
          let t = 1_000;
          let index = EMPTY_INDEX;
          for (const [dOffset, dt] of steps) {
            offset += dOffset;
            t += dt;
            index = addSample(index, offset, t, 8);
          }
          const now = t + 1;
          const lag = interpolatedLagSeconds(index, query, now);
          const first = index.samples[0];
          const bound = first === undefined ? 0 : (now - first.firstMs) / 1000;
          return Number.isFinite(lag) && lag >= 0 && lag <= bound + 1e-9;
        },
      ),
    );
  });
});

describe('writeTimeBounds', () => {
  it('gives the interval in which the log reached an offset, open-ended at either end', () => {
    let index = addSample(EMPTY_INDEX, 10, 1_000);
    index = addSample(index, 10, 2_000);
    index = addSample(index, 20, 3_000);
    expect(writeTimeBounds(EMPTY_INDEX, 5)).toBeUndefined();
    expect(writeTimeBounds(index, 5)).toEqual({ earliestMs: undefined, latestMs: 1_000 });
    expect(writeTimeBounds(index, 12)).toEqual({ earliestMs: 2_000, latestMs: 3_000 });
    expect(writeTimeBounds(index, 25)).toEqual({ earliestMs: 3_000, latestMs: undefined });
  });
});
