/**
 * The fallback for lag in seconds when the record at the committed offset cannot be read (its
 * leader is unreachable, or the fetch failed): every collection samples each partition's high
 * watermark with the wall time, and the time a given offset was written is interpolated between
 * the samples that bracket it. This is kafka-lag-exporter's idea with its two failure modes
 * removed:
 *
 * - too few samples never give NaN: an offset older than the first sample was written before
 *   that sample, so its age is at least `now − first sample` and that lower bound is returned;
 * - no extrapolation along a line through the oldest and newest points, which is what produced
 *   multi-day spikes during traffic ramps (kafka-lag-exporter#175).
 *
 * A flat run of samples (an idle partition) keeps its first and last time, because the record
 * written next was written after the last time the watermark still had the old value.
 */

export interface WatermarkSample {
  /** High watermark seen. */
  readonly offset: number;
  /** First wall time (ms) the watermark was seen at this value. */
  readonly firstMs: number;
  /** Last wall time (ms) the watermark was still at this value. */
  readonly lastMs: number;
}

export interface OffsetTimeIndex {
  readonly samples: readonly WatermarkSample[];
}

export const EMPTY_INDEX: OffsetTimeIndex = { samples: [] };

/**
 * Adds a watermark sample, returning a new index (the old one is not changed). Samples with an
 * offset below the newest one (a truncated or recreated partition) restart the index, because the
 * old samples describe a different log. At most `maxSamples` are kept; when over, the interior
 * sample whose neighbours are closest in time goes, so the index thins evenly instead of losing
 * its oldest, most useful end.
 */
export function addSample(index: OffsetTimeIndex, offset: number, atMs: number, maxSamples = 60): OffsetTimeIndex {
  const samples = index.samples;
  const last = samples[samples.length - 1];
  if (last !== undefined && offset < last.offset) return { samples: [{ offset, firstMs: atMs, lastMs: atMs }] };
  if (last !== undefined && offset === last.offset) {
    return { samples: [...samples.slice(0, -1), { ...last, lastMs: Math.max(last.lastMs, atMs) }] };
  }
  const next = [...samples, { offset, firstMs: atMs, lastMs: atMs }];
  while (next.length > Math.max(2, maxSamples)) next.splice(thinnestInterior(next), 1);
  return { samples: next };
}

function thinnestInterior(samples: readonly WatermarkSample[]): number {
  let best = 1;
  let bestGap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < samples.length - 1; i++) {
    const gap = samples[i + 1]!.firstMs - samples[i - 1]!.lastMs;
    if (gap < bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  return best;
}

export interface WriteTimeEstimate {
  /** Estimated wall time (ms) the record at the offset was written. */
  readonly atMs: number;
  /** `interpolated`: between two samples that bracket it; `lower-bound`: older than every sample. */
  readonly kind: 'interpolated' | 'lower-bound';
}

/**
 * When was the record at `offset` written? Undefined when the offset is at or past the newest
 * sample (nothing unconsumed as far as the index knows) or when there are no samples.
 */
export function estimateWriteTime(index: OffsetTimeIndex, offset: number): WriteTimeEstimate | undefined {
  const samples = index.samples;
  const first = samples[0];
  if (first === undefined) return undefined;
  if (offset < first.offset) return { atMs: first.firstMs, kind: 'lower-bound' };
  for (let i = 0; i < samples.length - 1; i++) {
    const a = samples[i]!;
    const b = samples[i + 1]!;
    if (offset >= a.offset && offset < b.offset) {
      // Record `offset` did not exist at a.lastMs and did by b.firstMs; place it proportionally.
      const fraction = (offset - a.offset + 1) / (b.offset - a.offset);
      return { atMs: a.lastMs + fraction * (b.firstMs - a.lastMs), kind: 'interpolated' };
    }
  }
  return undefined;
}

/** Lag in seconds from the index: never NaN, never negative, 0 when the offset is not behind. */
export function interpolatedLagSeconds(index: OffsetTimeIndex, offset: number, nowMs: number): number {
  const estimate = estimateWriteTime(index, offset);
  if (estimate === undefined) return 0;
  return Math.max(0, (nowMs - estimate.atMs) / 1000);
}

/**
 * The interval (ms) in which the record at `offset` must have been appended, as far as the
 * samples can tell: after the last time the watermark was still at or below it, and by the first
 * time it was past it (`latestMs` undefined: not past it at the newest sample, so any time since).
 * An offset older than every sample has no known start. Undefined without samples.
 */
export function writeTimeBounds(index: OffsetTimeIndex, offset: number): { earliestMs: number | undefined; latestMs: number | undefined } | undefined {
  const samples = index.samples;
  const first = samples[0];
  if (first === undefined) return undefined;
  if (offset < first.offset) return { earliestMs: undefined, latestMs: first.firstMs };
  for (let i = 0; i < samples.length - 1; i++) {
    const a = samples[i]!;
    const b = samples[i + 1]!;
    if (offset >= a.offset && offset < b.offset) return { earliestMs: a.lastMs, latestMs: b.firstMs };
  }
  return { earliestMs: samples[samples.length - 1]!.lastMs, latestMs: undefined };
}
