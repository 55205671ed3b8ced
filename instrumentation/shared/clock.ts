/**
 * One clock read per edge: wall-clock milliseconds derived from a performance.now() reading the
 * caller already took, re-anchored on Date.now() at most once a second (so a wall-clock step or
 * slew shows within a second, as with Date.now() itself). Integer milliseconds, like Date.now().
 */
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

export function wallMs(perfNow: number): number {
  if (perfNow - anchoredAt > 1000 || perfNow < anchoredAt) {
    offset = Date.now() - perfNow;
    anchoredAt = perfNow;
  }
  return Math.floor(offset + perfNow);
}
