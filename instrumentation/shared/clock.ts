/**
 * The performance object, read once: Node 20 defines the global as a getter (loaded lazily), so
 * `performance.now()` calls that getter before the clock on every read.
 */
const perf: { now(): number } = performance;

/** performance.now(), without the global's getter. */
export function perfNow(): number {
  return perf.now();
}

let offset = Date.now() - perf.now();
let anchoredAt = perf.now();

/**
 * One clock read per edge: wall-clock milliseconds derived from a perfNow() reading the caller
 * already took, re-anchored on Date.now() at most once a second (so a wall-clock step or slew
 * shows within a second, as with Date.now() itself). Integer milliseconds, like Date.now().
 */
export function wallMs(perfMs: number): number {
  if (perfMs - anchoredAt > 1000 || perfMs < anchoredAt) {
    offset = Date.now() - perfMs;
    anchoredAt = perfMs;
  }
  return Math.floor(offset + perfMs);
}
