/**
 * The `le` label of classic histogram buckets, as PromQL must select it on Prometheus 2 and 3.
 *
 * Prometheus 3 normalises `le` (and `quantile`) at scrape time to their float form: a bound the
 * client writes as "1" is stored as "1.0", while "0.5" stays "0.5". A selector `le="1"` therefore
 * matches nothing on Prometheus 3 (and `le="1.0"` nothing on 2). Whole-number bounds are selected
 * by a regex matching both spellings.
 */

/** A number as PromQL and the exposition format write it, without float noise (14.4 * 0.01 → 0.144). */
function boundText(bound: number): string {
  return String(Number(bound.toPrecision(12)));
}

/** Selects the bucket of one upper bound on Prometheus 2 and 3 alike (`le=~"1(\\.0)?"`, `le="0.5"`). */
export function leMatcher(bound: number): string {
  if (!Number.isFinite(bound)) throw new Error(`leMatcher: a bucket bound must be a finite number, got ${String(bound)} (select the +Inf bucket with le="+Inf")`);
  const text = boundText(bound);
  return Number.isInteger(bound) ? `le=~"${text}(\\\\.0)?"` : `le="${text}"`;
}

/**
 * The `le` matchers of a PromQL expression that select one spelling of a whole-number bound
 * (`le="1"`, `le!="10"`, `le="1.0"`): each misses the bucket on one Prometheus major.
 */
export function singleSpellingLeMatchers(expr: string): string[] {
  return [...expr.matchAll(/\ble\s*(!?=)\s*"([+-]?\d+(?:\.0+)?)"/g)].map((m) => m[0]);
}
