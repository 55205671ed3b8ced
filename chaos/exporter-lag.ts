import type { ChaosSystem, ExporterLagSample, TimelinePoint } from './types';

/**
 * The exporter's consumer lag on a scenario's timeline, for runs watched by the alert pack's
 * Prometheus (which scrapes the eda-harness exporter every second). Pure pieces: the PromQL for
 * the workload's destination, reading a `/api/v1/query_range` answer into a figure per second of
 * the scenario, and putting those on the timeline as `consumerLag`, which the report's lag chart
 * draws as a second line beside the workload's own count (report/lag.ts). The run reads the range
 * from Prometheus once, before the alert pack stops (alert-watch.ts), and records each sample in
 * the history as an `exporter-lag` line, so a re-read history draws the same chart.
 *
 * Kafka: the sum over partitions of log-end minus committed offset for the topic. RabbitMQ: the
 * queue's ready plus unacknowledged messages (what the broker still holds for the consumer).
 */

/**
 * PromQL for the messages the consumer is behind on `destination` (a topic or a queue). With
 * `freshWithinSeconds`, only while the exporter's last successful collection from the broker is
 * at most that old: an exporter that cannot reach the broker keeps serving its last figures, which
 * would draw a flat line through an outage; filtered, the outage is a gap (nothing measured).
 */
export function exporterLagQuery(system: ChaosSystem, destination: string, freshWithinSeconds?: number): string {
  const value = destination.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lag = system === 'kafka' ? `sum(eda_kafka_consumer_lag_messages{topic="${value}"})` : `sum(eda_rabbitmq_queue_messages{queue="${value}"})`;
  return freshWithinSeconds === undefined ? lag : `${lag} and on() (time() - max(eda_exporter_last_success_timestamp_seconds{target="${system}"}) <= ${freshWithinSeconds})`;
}

/** The part of a Prometheus range-query answer this reads. */
export interface RangeQueryAnswer {
  readonly status?: unknown;
  readonly data?: { readonly resultType?: unknown; readonly result?: readonly { readonly values?: readonly (readonly [unknown, unknown])[] }[] };
}

/**
 * The samples of a range-query answer, in time order; several series at one instant are added
 * up. Samples before `fromMs` are left out, as are values that are not finite non-negative
 * numbers (Prometheus writes "NaN" as a string). An answer that is not a successful matrix is an
 * error saying what came back.
 */
export function exporterLagSamples(answer: RangeQueryAnswer, fromMs: number): ExporterLagSample[] {
  if (answer.status !== 'success' || answer.data?.resultType !== 'matrix' || !Array.isArray(answer.data.result)) {
    throw new Error(`expected a successful Prometheus matrix for the consumer lag, got ${JSON.stringify(answer).slice(0, 200)}`);
  }
  const atInstant = new Map<number, number>();
  for (const series of answer.data.result) {
    for (const [t, v] of series.values ?? []) {
      const ms = Math.round(Number(t) * 1000);
      const value = Number(v);
      if (!Number.isFinite(ms) || !Number.isFinite(value) || value < 0 || ms < fromMs) continue;
      atInstant.set(ms, (atInstant.get(ms) ?? 0) + value);
    }
  }
  return [...atInstant.keys()].sort((a, b) => a - b).map((atMs) => ({ atMs, messages: atInstant.get(atMs)! }));
}

/** One figure per second since `startedMs`: the last sample in that second (samples before the start left out). */
export function lagBySecondOf(samples: readonly ExporterLagSample[], startedMs: number): Map<number, number> {
  const bySecond = new Map<number, number>();
  for (const s of [...samples].sort((a, b) => a.atMs - b.atMs)) {
    if (s.atMs < startedMs || !Number.isFinite(s.messages) || s.messages < 0) continue;
    bySecond.set(Math.floor((s.atMs - startedMs) / 1000), s.messages);
  }
  return bySecond;
}

/** A range-query answer as one figure per second of the scenario (exporterLagSamples, then lagBySecondOf). */
export function exporterLagBySecond(answer: RangeQueryAnswer, startedMs: number): Map<number, number> {
  return lagBySecondOf(exporterLagSamples(answer, startedMs), startedMs);
}

/** The step of a range query over `fromMs`..`toMs`: 1 s, longer when that would pass Prometheus's 11 000 points. */
export function rangeStepSeconds(fromMs: number, toMs: number): number {
  return Math.max(1, Math.ceil((toMs - fromMs) / 1000 / 10_000));
}

/** The timeline with `consumerLag` on each point the exporter has a figure for (the others unchanged). */
export function withExporterLag(timeline: readonly TimelinePoint[], lagBySecond: ReadonlyMap<number, number>): TimelinePoint[] {
  return timeline.map((p) => {
    const lag = lagBySecond.get(p.second);
    return lag === undefined ? p : { ...p, consumerLag: lag };
  });
}
