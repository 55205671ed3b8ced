/**
 * Consumer lag for the report's timeline: how many messages the consumer is behind, second by
 * second. Two sources, drawn as two lines of one chart, each named in the legend:
 *
 * - `workload`: what the workload itself counted, always available: messages the broker
 *   acknowledged so far minus deliveries the consumer saw so far, at the end of each second. That
 *   is the backlog written but not yet processed. A duplicate delivery counts as progress, so a
 *   run with duplicates under-states its backlog; a delivery seen before its send was acknowledged
 *   (or of a send that reported failure but was written) would make the difference negative, and
 *   is shown as 0 (nothing behind) rather than a negative backlog.
 * - `exporter`: the broker's own figure (the eda-harness exporter's consumer-group lag on Kafka,
 *   ready plus unacknowledged messages on RabbitMQ), when the run sampled it into the timeline
 *   points as `consumerLag` (runs with the alert pack). Seconds without a sample stay gaps. It
 *   reads higher than the workload's count where the consumer processed messages whose offsets it
 *   had not committed yet, and has no figure while the exporter could not reach the broker.
 */

export type LagSource = 'exporter' | 'workload';

export interface ConsumerLag {
  readonly source: LagSource;
  /** One value per second from second 0, in messages; undefined where nothing was measured. */
  readonly values: readonly (number | undefined)[];
}

/** The per-second figures the lag is computed from (a timeline bucket: one entry per second, from 0). */
export interface LagBucket {
  readonly acked: number;
  readonly consumed: number;
  /** The exporter's sampled lag for this second, when the run recorded one. */
  readonly consumerLag?: number | undefined;
}

/** Acknowledged minus consumed so far, at the end of each second, never below 0. */
export function workloadBacklog(buckets: readonly LagBucket[]): number[] {
  let acked = 0;
  let consumed = 0;
  return buckets.map((b) => {
    acked += finiteCount(b.acked);
    consumed += finiteCount(b.consumed);
    return Math.max(0, acked - consumed);
  });
}

/** The exporter's lag where any second has it, else the workload's backlog (one figure, for a summary). */
export function consumerLag(buckets: readonly LagBucket[]): ConsumerLag {
  return exporterLag(buckets) ?? { source: 'workload', values: workloadBacklog(buckets) };
}

/** The exporter's figures, or undefined when no second has one. */
export function exporterLag(buckets: readonly LagBucket[]): ConsumerLag | undefined {
  const values = buckets.map((b) => exporterFigure(b.consumerLag));
  return values.some((v) => v !== undefined) ? { source: 'exporter', values } : undefined;
}

/**
 * The lines of the lag chart, workload first: the workload's backlog unless `withWorkload` is
 * false, and the exporter's lag when any second has it.
 */
export function consumerLagLines(buckets: readonly LagBucket[], withWorkload = true): ConsumerLag[] {
  const exporter = exporterLag(buckets);
  return [...(withWorkload ? [{ source: 'workload' as const, values: workloadBacklog(buckets) }] : []), ...(exporter ? [exporter] : [])];
}

/** The legend's words for a lag source. */
export function lagLabel(source: LagSource): string {
  return source === 'exporter' ? 'consumer lag (exporter, from the broker)' : 'consumer lag (acknowledged − consumed so far)';
}

function finiteCount(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

/** A lag figure read from a report: only a finite, non-negative number counts (a report may hold null or junk). */
function exporterFigure(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
