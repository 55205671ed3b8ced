import type { ChaosSystem, TimelinePoint } from './types';

/**
 * The exporter's consumer lag on a scenario's timeline, for runs watched by the alert pack's
 * Prometheus (which scrapes the eda-harness exporter every second). Pure pieces: the PromQL for
 * the workload's destination, reading a `/api/v1/query_range` answer into a figure per second of
 * the scenario, and putting those on the timeline as `consumerLag`, which the report's lag chart
 * draws in preference to the workload's own count (report/lag.ts).
 *
 * Kafka: the sum over partitions of log-end minus committed offset for the topic. RabbitMQ: the
 * queue's ready plus unacknowledged messages (what the broker still holds for the consumer).
 */

/** PromQL for the messages the consumer is behind on `destination` (a topic or a queue). */
export function exporterLagQuery(system: ChaosSystem, destination: string): string {
  const value = destination.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return system === 'kafka' ? `sum(eda_kafka_consumer_lag_messages{topic="${value}"})` : `sum(eda_rabbitmq_queue_messages{queue="${value}"})`;
}

/** The part of a Prometheus range-query answer this reads. */
export interface RangeQueryAnswer {
  readonly status?: unknown;
  readonly data?: { readonly resultType?: unknown; readonly result?: readonly { readonly values?: readonly (readonly [unknown, unknown])[] }[] };
}

/**
 * One figure per second of the scenario (seconds since `startedMs`), the last sample in that
 * second; several series at one instant are added up. Samples before the start are left out, as
 * are values that are not finite non-negative numbers (Prometheus writes "NaN" as a string).
 * An answer that is not a successful matrix is an error saying what came back.
 */
export function exporterLagBySecond(answer: RangeQueryAnswer, startedMs: number): Map<number, number> {
  if (answer.status !== 'success' || answer.data?.resultType !== 'matrix' || !Array.isArray(answer.data.result)) {
    throw new Error(`expected a successful Prometheus matrix for the consumer lag, got ${JSON.stringify(answer).slice(0, 200)}`);
  }
  const atInstant = new Map<number, number>();
  for (const series of answer.data.result) {
    for (const [t, v] of series.values ?? []) {
      const ms = Number(t) * 1000;
      const value = Number(v);
      if (!Number.isFinite(ms) || !Number.isFinite(value) || value < 0 || ms < startedMs) continue;
      atInstant.set(ms, (atInstant.get(ms) ?? 0) + value);
    }
  }
  const bySecond = new Map<number, number>();
  for (const ms of [...atInstant.keys()].sort((a, b) => a - b)) bySecond.set(Math.floor((ms - startedMs) / 1000), atInstant.get(ms)!);
  return bySecond;
}

/** The timeline with `consumerLag` on each point the exporter has a figure for (the others unchanged). */
export function withExporterLag(timeline: readonly TimelinePoint[], lagBySecond: ReadonlyMap<number, number>): (TimelinePoint & { readonly consumerLag?: number })[] {
  return timeline.map((p) => {
    const lag = lagBySecond.get(p.second);
    return lag === undefined ? p : { ...p, consumerLag: lag };
  });
}
