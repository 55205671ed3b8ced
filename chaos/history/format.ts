import type { ChaosSystem, ClientEvent, EnvironmentNeeds, InvariantSpec, ScenarioTiming, SpanRecord, SpanSource } from '../types';

export type { InvariantSpec };

/**
 * The history of one scenario run, one JSON object a line: a header, then every operation in the
 * order it happened. Times (`t`) are epoch milliseconds, as the in-memory observations hold them.
 * Invariants are computed from this and nothing else, by the run and by `chaos check` alike.
 */

export const HISTORY_FORMAT = 'eda-harness.chaos-history';
export const HISTORY_FORMAT_VERSION = 1;

export interface HistoryHeader {
  readonly type: 'header';
  readonly format: typeof HISTORY_FORMAT;
  readonly version: number;
  readonly scenario: string;
  readonly description: string;
  readonly system: ChaosSystem;
  readonly startedAt: string;
  readonly config: {
    readonly timing: ScenarioTiming;
    readonly recoveryLimitMs: number;
    readonly workload: string;
    readonly faults: readonly { readonly name: string; readonly description: string }[];
    /** The scenario's invariants in order; `spec` absent for one that cannot be rebuilt. */
    readonly invariants: readonly { readonly name: string; readonly spec?: InvariantSpec }[];
    readonly alertPack: boolean;
    /** Where the traces invariant reads its spans (`Jaeger at <url>`); absent: the harness's own recording. */
    readonly traces?: string;
  };
  readonly environment: { readonly needs: EnvironmentNeeds; readonly provided: 'own' | 'given'; readonly kafkaSecurity?: string };
  readonly harness: { readonly version: string; readonly node: string; readonly platform: string };
}

export interface ScenarioStartRecord {
  readonly type: 'scenario-start';
  readonly t: number;
}
/** The workload started sending one message (its fate follows in a `send-ack` or `send-failed`). */
export interface SendRecord {
  readonly type: 'send';
  readonly t: number;
  readonly id: string;
  readonly key: string;
  readonly seq: number;
  readonly poison: boolean;
  readonly destination: string;
  /** The trace context the harness sent it with (a service's inputs carry their own traceparent). */
  readonly traceId?: string;
  readonly spanId?: string;
}
export interface SendAckRecord {
  readonly type: 'send-ack';
  readonly t: number;
  readonly id: string;
  readonly partition?: number;
  readonly offset?: string;
}
export interface SendFailedRecord {
  readonly type: 'send-failed';
  readonly t: number;
  readonly id: string;
  readonly error: string;
}
export interface DeliveryRecord {
  readonly type: 'delivery';
  readonly t: number;
  readonly id: string;
  readonly key: string;
  readonly seq: number;
  /** Which consumer saw it (a Kafka group, `consumer` / `dlq reader` on RabbitMQ). */
  readonly consumer: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly redelivered: boolean;
  readonly deadLettered: boolean;
  /** The producer's span context read from the delivery's `traceparent`. */
  readonly traceId?: string;
  readonly spanId?: string;
}
/** A side effect a service under test applied for a message (none for the built-in workloads). */
export interface EffectRecord {
  readonly type: 'effect';
  readonly t: number;
  readonly id: string;
  readonly effect: string;
}
export interface FaultStartRecord {
  readonly type: 'fault-start';
  readonly t: number;
  readonly fault: string;
  readonly description: string;
}
export interface FaultEndRecord {
  readonly type: 'fault-end';
  readonly t: number;
  readonly fault: string;
  readonly outcome: 'healed' | 'inject-failed' | 'heal-failed';
  readonly error?: string;
}
export interface EventRecord {
  readonly type: 'event';
  readonly t: number;
  readonly where: ClientEvent['where'];
  readonly message: string;
}
export interface SpanHistoryRecord extends Omit<SpanRecord, 'parentSpanId'> {
  readonly type: 'span';
  readonly t: number;
  readonly parentSpanId?: string;
}
/**
 * The span records that follow were read back from a trace backend (Jaeger), not recorded by the
 * harness: written once, before them, after the run. `chaos check` names the source as the run did.
 */
export interface SpansReadRecord extends SpanSource {
  readonly type: 'spans-read';
  readonly t: number;
}
export interface AlertRecord {
  readonly type: 'alert';
  readonly t: number;
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing' | 'inactive';
}
/**
 * The exporter's consumer lag for the workload's destination at one instant, read from the alert
 * pack's Prometheus at the end of the run (withAlertPack()): for the report's lag chart, not the verdicts.
 */
export interface ExporterLagRecord {
  readonly type: 'exporter-lag';
  readonly t: number;
  readonly messages: number;
}
export interface ScenarioEndRecord {
  readonly type: 'scenario-end';
  readonly t: number;
  /** Why the run did not reach its end cleanly (environment, workload, a fault that did not heal). */
  readonly error?: string;
  /** Whether a Prometheus watched the alerts (the alert records are then complete). */
  readonly alertsWatched: boolean;
}
/** The last line: the verdicts the run computed from the lines above, for `chaos check` to compare with. */
export interface VerdictsRecord {
  readonly type: 'verdicts';
  readonly t: number;
  readonly verdicts: readonly { readonly name: string; readonly passed: boolean }[];
}

export type HistoryRecord =
  | ScenarioStartRecord
  | SendRecord
  | SendAckRecord
  | SendFailedRecord
  | DeliveryRecord
  | EffectRecord
  | FaultStartRecord
  | FaultEndRecord
  | EventRecord
  | SpanHistoryRecord
  | SpansReadRecord
  | AlertRecord
  | ExporterLagRecord
  | ScenarioEndRecord
  | VerdictsRecord;

export interface History {
  readonly header: HistoryHeader;
  readonly records: readonly HistoryRecord[];
}

/** Where a scenario's history goes in a report folder. */
export const historyFileName = (scenario: string): string => `${scenario}.history.jsonl`;
