import type { TracerProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { ProgressSink } from '@eda-harness/core';
import type { StartedEnvironment } from '@eda-harness/environment';
import type { KafkaConnectionSettings } from './kafka-connection';
import type { HistoryRecord } from './history/format';

/** The broker a scenario's workload runs against. */
export type ChaosSystem = 'kafka' | 'rabbitmq';

/** What a workload or fault needs from the environment; the runner starts the union of them. */
export interface EnvironmentNeeds {
  /** Kafka nodes (1, or 3 for replication factor 3 and min.insync.replicas 2). */
  readonly kafkaNodes?: 1 | 3;
  readonly rabbitmq?: boolean;
  /** RabbitMQ nodes (1, or 3 for a cluster with quorum queues); absent: 1. */
  readonly rabbitmqNodes?: 1 | 3;
  /** Clients connect through Toxiproxy (needed by network faults). */
  readonly toxiproxy?: boolean;
  /**
   * Kafka's `replica.lag.time.max.ms`, lowered from its 30 s default so a follower that stopped
   * fetching leaves the ISR within a scenario's seconds (the inter-broker partition). Absent: the
   * broker's default.
   */
  readonly kafkaReplicaLagTimeMaxMs?: number;
  /** A Jaeger the workload's spans are exported to and read back from (a Jaeger trace backend). */
  readonly jaeger?: boolean;
}

/** What identifies a workload message, sent or consumed (it travels in the message's headers). */
export interface MessageId {
  /** Unique within the run. */
  readonly id: string;
  readonly key: string;
  /** Per-key sequence number, from 0; a key's messages are sent one after the other. */
  readonly seq: number;
}

/** One message the workload tried to send. */
export interface SentMessage extends MessageId {
  readonly sentAtMs: number;
  /** When the broker acknowledged it (a resolved `acks: -1` send, a publisher confirm); undefined if never. */
  readonly ackedAtMs: number | undefined;
  /** Why the send failed, when it did: the message may or may not have been written. */
  readonly error: string | undefined;
  /** A malformed message sent on purpose (the poison fault): it must end in the dead-letter queue. */
  readonly poison: boolean;
  /** The trace context the message was sent with, when the history recorded it (a service's inputs). */
  readonly traceId?: string;
  readonly spanId?: string;
}

/** One delivery the workload's consumer saw (a message delivered twice appears twice). */
export interface ConsumedMessage extends MessageId {
  readonly atMs: number;
  /** Kafka partition, when the system is Kafka. */
  readonly partition: number | undefined;
  /** The broker flagged this as a redelivery (AMQP `redelivered`). */
  readonly redelivered: boolean;
  /** The producer's span context, as read from the message's `traceparent` header. */
  readonly producerTraceId: string | undefined;
  readonly producerSpanId: string | undefined;
  /** The consumer routed it to the dead-letter queue instead of processing it. */
  readonly deadLettered: boolean;
}

/** A fault's window: from injection to healing. */
export interface FaultWindow {
  readonly name: string;
  readonly description: string;
  readonly startMs: number;
  /** Undefined when healing failed (the error says why). */
  readonly endMs: number | undefined;
  readonly error: string | undefined;
}

/** A client error the workload saw (a failed send, a consumer crash, a reconnect). */
export interface ClientEvent {
  readonly atMs: number;
  readonly where: 'produce' | 'consume' | 'connection' | 'service';
  readonly message: string;
}

/** The span facts the traces invariant needs, from the scenario's in-memory span recorder. */
export interface SpanRecord {
  readonly name: string;
  readonly kind: 'producer' | 'consumer' | 'other';
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  /** When the span ended (or was recorded), epoch ms, when known: a service's process spans. */
  readonly atMs?: number;
}

/**
 * Where the span records the traces invariant reads came from, when not from the harness's own
 * recording: a trace backend they were exported to over OTLP and fetched back from after the run.
 */
export interface SpanSource {
  /** The backend's name, as the verdict says it (`Jaeger`). */
  readonly backend: string;
  /** The query API the spans were read from. */
  readonly url: string;
  /** Trace ids asked for (every delivery's and every producer span's), and how many the backend had. */
  readonly traces: number;
  readonly tracesFound: number;
  /** Spans read back. */
  readonly spans: number;
  /** Spans the harness handed to the OTLP exporter, and of those the ones whose export request failed. */
  readonly exported?: number;
  readonly exportFailed?: number;
  /** Why the spans could not be read (then none were): the invariant fails saying so. */
  readonly error?: string;
}

/** One application of a service's effect to an input (a reservation for an order), as its probe reported it. */
export interface EffectObservation {
  readonly id: string;
  readonly effect: string;
  readonly atMs: number;
}

/** An alert's state change, read from Prometheus (`inactive` when it left the active list). */
export interface AlertObservation {
  readonly atMs: number;
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing' | 'inactive';
}

/** Everything a scenario observed; invariants are pure functions of this. */
export interface Observations {
  readonly scenario: string;
  readonly system: ChaosSystem;
  readonly startedMs: number;
  readonly endedMs: number;
  readonly sent: readonly SentMessage[];
  readonly consumed: readonly ConsumedMessage[];
  readonly faults: readonly FaultWindow[];
  readonly spans: readonly SpanRecord[];
  /** Where `spans` came from when a trace backend (Jaeger) served them; absent: the harness recorded them. */
  readonly spanSource?: SpanSource;
  readonly events: readonly ClientEvent[];
  /** Alert state changes, when a Prometheus with the alert pack watched the scenario (withAlertPack). */
  readonly alerts: readonly AlertObservation[] | undefined;
  /** A service under test's effects, one per application (absent for the built-in workloads). */
  readonly effects?: readonly EffectObservation[];
  /** The exporter's consumer lag over the run, when the alert pack's Prometheus sampled it (the report's lag chart). */
  readonly exporterLag?: readonly ExporterLagSample[];
}

export interface InvariantResult {
  readonly name: string;
  readonly passed: boolean;
  /** One line a release manager can read. */
  readonly summary: string;
  /** The figures behind the verdict (counts, milliseconds). */
  readonly figures: Readonly<Record<string, number>>;
  /** A few offending messages, for the report. */
  readonly examples: readonly string[];
}

/**
 * How to build an invariant again from a saved history: the name of an `Invariant` factory and its
 * arguments (plain JSON). Invariants a team writes itself have none: `chaos check` reports them as
 * not re-checkable.
 */
export interface InvariantSpec {
  readonly factory: string;
  readonly args: readonly unknown[];
}

export interface InvariantCheck {
  readonly name: string;
  /** Set by the shipped invariants, so `chaos check` can rebuild them from a history's header. */
  readonly spec?: InvariantSpec;
  check(observations: Observations): InvariantResult;
}

export interface FaultContext {
  readonly env: StartedEnvironment;
  /** The workload's topic or queue. */
  readonly destination: string;
  readonly progress: ProgressSink;
  /** Sends malformed messages through the workload (the poison fault). */
  readonly sendPoison: (count: number) => Promise<void>;
}

export interface ChaosFault {
  readonly name: string;
  readonly description: string;
  readonly needs: EnvironmentNeeds;
  /** Which system the fault acts on; a fault for the other system is a configuration error. */
  readonly system: ChaosSystem;
  inject(ctx: FaultContext): Promise<void>;
  heal(ctx: FaultContext): Promise<void>;
}

export interface WorkloadContext {
  readonly env: StartedEnvironment;
  readonly tracerProvider: TracerProvider;
  /** Where the instrumentation's metrics go (scraped by the alert pack's Prometheus when there is one). */
  readonly registry: Registry;
  readonly progress: ProgressSink;
  /** Unique per run: topic, queue and group names start with it. */
  readonly prefix: string;
  /**
   * The Kafka listener and TLS / SASL settings clients use (the runner fills it in for Kafka
   * workloads); when absent, the environment's plaintext brokers or its secured listener.
   */
  readonly kafka?: KafkaConnectionSettings;
  /**
   * Records each operation in the scenario's history as it happens (send attempted, acknowledged
   * or failed, delivery, client event). A workload that does not call it has its sent() /
   * consumed() / events() copied into the history once it stopped, so it is still checked.
   */
  readonly history?: (record: HistoryRecord) => void;
  /**
   * The OTLP/HTTP base URL of the scenario's trace backend (Jaeger), when it reads spans back: a
   * workload whose spans the harness does not export itself (a service under test's) passes them
   * on there, says so with `spansReadBack`, and leaves them out of the history (the scenario writes
   * what the backend answers instead).
   */
  readonly traceRelay?: { readonly otlpHttpUrl: string };
}

export interface ChaosWorkload {
  readonly system: ChaosSystem;
  readonly needs: EnvironmentNeeds;
  readonly description: string;
  start(ctx: WorkloadContext): Promise<RunningWorkload>;
}

export interface RunningWorkload {
  /** The topic or queue the messages go to. */
  readonly destination: string;
  /** Sends `count` malformed messages (not JSON), recorded as poison. */
  sendPoison(count: number): Promise<void>;
  /** Stops sending; resolves once every send in flight has settled. */
  stopSending(): Promise<void>;
  /** Stops consuming and closes every client. */
  close(): Promise<void>;
  sent(): readonly SentMessage[];
  consumed(): readonly ConsumedMessage[];
  events(): readonly ClientEvent[];
  /**
   * The workload wrote every operation to the history itself, including ones its sent() / consumed()
   * do not hold (a service's process spans and effects): nothing is copied in afterwards.
   */
  readonly recordsHistory?: boolean;
  /**
   * Whether every acknowledged message has been handled, when consumed() cannot tell alone (a
   * service's effects): the drain waits for this instead of for consumed() to cover sent().
   */
  drained?(): boolean;
  /** The workload relayed its spans to `traceRelay` and left them out of the history: the scenario reads them back. */
  readonly spansReadBack?: boolean;
  /** Spans relayed per trace, and how many could not be: what the backend should hold. */
  relayedSpans?(): { readonly perTrace: ReadonlyMap<string, number>; readonly failed: number; readonly lastError: string | undefined };
}

/** How long each phase lasts. */
export interface ScenarioTiming {
  /** Traffic before the fault (default 3 000 ms). */
  readonly warmupMs: number;
  /** How long the fault holds (default 5 000 ms). */
  readonly faultMs: number;
  /** Traffic after healing, before sending stops (default 8 000 ms). */
  readonly recoveryMs: number;
  /** After sending stops: how long to wait for every acknowledged message to be consumed (default 60 000 ms). */
  readonly drainTimeoutMs: number;
}

/** Messages sent, acknowledged and consumed per second, and their end-to-end latency, for the report's timeline. */
export interface TimelinePoint {
  /** Seconds since the scenario started (its `startedAt`, which fault windows are measured from too). */
  readonly second: number;
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly consumed: number;
  /**
   * Median (nearest rank) end-to-end latency, in ms, of the messages first consumed in this second:
   * the first delivery's time minus the send time of the same message id. Redeliveries, poison
   * messages and dead-lettered deliveries are left out. Undefined when no message was first
   * consumed in this second (so a chart leaves a gap rather than drawing a zero).
   */
  readonly latencyP50Ms: number | undefined;
  /** The highest of those latencies, in ms; undefined under the same condition. */
  readonly latencyMaxMs: number | undefined;
  /**
   * The eda-harness exporter's consumer lag (messages behind, read by the broker: Kafka log end
   * minus the group's committed offset, RabbitMQ ready plus unacknowledged), its last sample in
   * this second; absent where the run had no alert pack or Prometheus had no sample (exporter-lag.ts).
   */
  readonly consumerLag?: number;
}

/** One sample of the exporter's consumer lag for the workload's destination, from the alert pack's Prometheus. */
export interface ExporterLagSample {
  readonly atMs: number;
  readonly messages: number;
}

export interface ScenarioCounts {
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly deliveries: number;
  readonly uniqueConsumed: number;
  readonly duplicates: number;
  readonly poison: number;
}

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly system: ChaosSystem;
  readonly passed: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly counts: ScenarioCounts;
  readonly faults: readonly FaultWindow[];
  readonly invariants: readonly InvariantResult[];
  readonly timeline: readonly TimelinePoint[];
  readonly events: readonly ClientEvent[];
  /** Alert state changes seen by the alert pack's Prometheus (empty without withAlertPack). */
  readonly alerts: readonly AlertObservation[];
  /** Set when the scenario could not run to the end (environment failed, workload crashed). */
  readonly error: string | undefined;
  /** The history file (every operation, JSON lines) when the run wrote one; `eda-harness chaos check` re-checks it. */
  readonly history?: string;
}

export interface ChaosReport {
  readonly tool: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly passed: boolean;
  readonly scenarios: readonly ScenarioResult[];
}
