/**
 * One clock read per edge: wall-clock milliseconds derived from a performance.now() reading the
 * caller already took, re-anchored on Date.now() at most once a second (so a wall-clock step or
 * slew shows within a second, as with Date.now() itself). Integer milliseconds, like Date.now().
 */
let offset = Date.now() - performance.now();
let anchoredAt = performance.now();

export function wallMs(perfNow: number): number {
  if (perfNow - anchoredAt > 1000 || perfNow < anchoredAt) {
    offset = Date.now() - perfNow;
    anchoredAt = perfNow;
  }
  return Math.floor(offset + perfNow);
}
