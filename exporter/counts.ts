import type { CountSample } from './types';

/**
 * Cumulative counts kept from one collection to the next and exported as counters (lag clamps,
 * dead-letter inflow): one entry per key, with the labels it is exported under. A collection
 * copies the previous counts and adds to its copy.
 */
export type Counts = ReadonlyMap<string, CountSample>;

export const NO_COUNTS: Counts = new Map();

/** Adds `by` to the entry at `key`, creating it (with `labels`) at 0 first. */
export function addCount(counts: Map<string, CountSample>, key: string, labels: Readonly<Record<string, string>>, by: number): void {
  const entry = counts.get(key);
  counts.set(key, { labels: entry?.labels ?? labels, value: (entry?.value ?? 0) + by });
}

/**
 * Growth of a running total (a log end, messages ever seen in a queue) since the previous
 * collection: the first sighting is a baseline (0, not everything that ever arrived), and a drop
 * (a purge, a recreated topic) counts 0 rather than a negative inflow.
 */
export function growth(previous: number | undefined, total: number): number {
  return previous === undefined ? 0 : Math.max(0, total - previous);
}
