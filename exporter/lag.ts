/**
 * Lag arithmetic, as pure functions. The rules the anchors get wrong are encoded here once:
 * lag is never negative (a committed offset read after the high watermark can be above it; that
 * is clamped and counted, kafka_exporter#437), never -1 (no commit is "uncommitted", not a
 * number, kafka_exporter's -1), and lag in seconds is never NaN and is 0 when caught up
 * (kafka-lag-exporter#111).
 */

export interface PartitionLag {
  /** Messages between the committed offset and the high watermark, at least 0. */
  readonly messages: number;
  /** True when the committed offset was above the high watermark and the lag was clamped to 0. */
  readonly clamped: boolean;
}

export function partitionLag(committedOffset: number, highWatermark: number): PartitionLag {
  const raw = highWatermark - committedOffset;
  if (!Number.isFinite(raw)) return { messages: 0, clamped: false };
  return raw < 0 ? { messages: 0, clamped: true } : { messages: raw, clamped: false };
}

/**
 * Kafka offsets arrive as decimal strings, `-1` meaning "none". Returns undefined for "none" and
 * for anything that is not a non-negative safe integer (2^53 offsets are far beyond any real log).
 */
export function parseOffset(value: string | number | undefined | null): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Seconds between `nowMs` and a record's timestamp: the age of the oldest unconsumed record.
 * A record from the future (producer clock ahead of ours) counts as 0 s, not as a negative age;
 * a missing or invalid timestamp gives undefined so the caller can fall back to an estimate.
 */
export function ageSeconds(nowMs: number, timestampMs: number | undefined): number | undefined {
  if (timestampMs === undefined || !Number.isFinite(timestampMs) || timestampMs <= 0) return undefined;
  return Math.max(0, (nowMs - timestampMs) / 1000);
}

/** Keeps a gauge value exportable: finite and non-negative, or nothing at all. */
export function exportable(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}
