import { SpanKind, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, errorMessage } from '@eda-harness/core';
import { silentProgress, type ProgressSink } from '@eda-harness/core';
import type { KafkaSecuritySettings } from '@eda-harness/core';
import { Environment, type KafkaSecurityMode, type StartedEnvironment } from '@eda-harness/environment';
import { Registry } from 'prom-client';
import { startAlertWatch, type AlertPackOptions, type AlertWatch } from './alert-watch';
import { lagBySecondOf, withExporterLag } from './exporter-lag';
import { judgeHistory } from './history/check';
import { HISTORY_FORMAT, HISTORY_FORMAT_VERSION, type HistoryHeader, type HistoryRecord } from './history/format';
import { HistoryLog } from './history/writer';
import { defaultInvariants, firstDeliveries } from './invariants';
import { chaosPackageVersion } from './package-version';
import { kafkaConnectionOf } from './kafka-connection';
import { waitUpTo } from './wait-up-to';
import { ackedAfterHealing, healedAtMs } from './recovery-traffic';
import type { TraceBackend, TraceBackendRun } from './trace-backend';
import { jaegerTraces } from './trace-backend-jaeger';
import { recordedTraces } from './trace-backend-recorded';
import type {
  AlertObservation,
  ChaosFault,
  ChaosSystem,
  ChaosWorkload,
  EnvironmentNeeds,
  ExporterLagSample,
  FaultWindow,
  InvariantCheck,
  Observations,
  RunningWorkload,
  ScenarioCounts,
  ScenarioResult,
  ScenarioTiming,
  SpanRecord,
  SpanSource,
  TimelinePoint,
} from './types';

export const DEFAULT_TIMING: ScenarioTiming = { warmupMs: 3000, faultMs: 5000, recoveryMs: 8000, drainTimeoutMs: 60_000 };

/** Recovery limit when a scenario sets none: generous enough for a broker restart on a busy 2-core machine. */
export const DEFAULT_RECOVERY_LIMIT_MS = 45_000;

export interface RunOptions {
  /** Run in this environment instead of starting one (it must have what the scenario needs). */
  readonly env?: StartedEnvironment;
  readonly progress?: ProgressSink;
  /**
   * The Kafka the scenario starts for itself: `sasl_ssl` adds a SASL_SSL listener with SCRAM
   * users (withKafka({ security: 'sasl_ssl' })), which the workload and the alert pack's exporter
   * then use. An environment passed in `env` is used as it is: secured when its Kafka is.
   */
  readonly kafkaSecurity?: KafkaSecurityMode;
  /**
   * TLS / SASL settings for a Kafka the user runs (named by KAFKA_BROKERS), the exporter's
   * settings (kafkaSecurityFromEnv reads them from KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*,
   * KAFKA_SASL_*). Refused for a plaintext Kafka eda-harness started.
   */
  readonly kafkaClientSecurity?: KafkaSecuritySettings;
  /**
   * Streams the scenario's history (every operation, one JSON object a line) to this file as it
   * runs; `eda-harness chaos run` writes `<report dir>/<scenario>.history.jsonl`. Without it the
   * history is kept in memory only (the verdicts are computed from it either way).
   */
  readonly historyPath?: string;
  /** Recorded in the history's header (default `@eda-harness/chaos <its version>`). */
  readonly harnessVersion?: string;
  /**
   * Where the traces invariant reads its spans, over the scenario's own choice (withTraceBackend).
   * Default: Jaeger (jaegerTraces()) when the environment has one, else the harness's recording.
   */
  readonly traceBackend?: TraceBackend;
}

/**
 * One chaos scenario: a workload, a fault with a window, and the invariants checked afterwards.
 * Built like the environment (`withX()`), run with `run()`, which always returns a result: a
 * scenario that cannot run to the end is a failed result with the reason, not an exception, so
 * one broken scenario does not hide the report of the others.
 */
export class ChaosScenario {
  private description = '';
  private workload: ChaosWorkload | undefined;
  private readonly faults: ChaosFault[] = [];
  private invariants: InvariantCheck[] | undefined;
  private timing: ScenarioTiming = DEFAULT_TIMING;
  private recoveryLimitMs = DEFAULT_RECOVERY_LIMIT_MS;
  private alertPack: AlertPackOptions | undefined;
  private traceBackend: TraceBackend | undefined;

  constructor(readonly name: string) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new ConfigError(`scenario name "${name}" must be lower-case letters, digits and dashes`);
  }

  withDescription(text: string): this {
    this.description = text;
    return this;
  }

  withWorkload(workload: ChaosWorkload): this {
    this.workload = workload;
    return this;
  }

  /** Faults are injected together at the end of warm-up and healed together after `faultMs`. */
  withFault(...faults: ChaosFault[]): this {
    this.faults.push(...faults);
    return this;
  }

  /** Replaces the default invariants (no acked loss, no phantoms, duplicates, order, recovery, traces). */
  withInvariants(...invariants: InvariantCheck[]): this {
    this.invariants = invariants;
    return this;
  }

  withTiming(timing: Partial<ScenarioTiming>): this {
    this.timing = { ...this.timing, ...timing };
    return this;
  }

  /** The phases the scenario will run with: the defaults, then every `withTiming` in order. */
  phases(): Readonly<ScenarioTiming> {
    return { ...this.timing };
  }

  /**
   * Watches the scenario with the shipped alert pack: a Prometheus scraping the workload's metrics
   * and an eda-harness exporter, evaluating the rules every second. Check with
   * `Invariant.alertFires(...)`; `config` lowers thresholds so a fault of seconds crosses them.
   */
  withAlertPack(options: AlertPackOptions = {}): this {
    this.alertPack = options;
    return this;
  }

  /**
   * Where the traces invariant reads its spans: `jaegerTraces()` exports the workload's spans to
   * Jaeger over OTLP/HTTP and reads them back after the run (a scenario that starts its own
   * environment then starts Jaeger in it). Without it: Jaeger when the environment has one.
   */
  withTraceBackend(backend: TraceBackend): this {
    this.traceBackend = backend;
    return this;
  }

  /** The limit of the default recovery invariant. */
  withRecoveryLimit(ms: number): this {
    this.recoveryLimitMs = ms;
    return this;
  }

  /** What the environment must provide: the union of the workload's and the faults' needs. */
  needs(): EnvironmentNeeds {
    const all = [this.requireWorkload().needs, ...this.faults.map((f) => f.needs), this.traceBackend?.needs ?? {}];
    const kafkaNodes = Math.max(0, ...all.map((n) => n.kafkaNodes ?? 0));
    // The lowest replica lag time asked for: the one every asker's fault shows within.
    const replicaLag = all.flatMap((n) => n.kafkaReplicaLagTimeMaxMs ?? []).sort((a, b) => a - b)[0];
    const rabbitmq = all.some((n) => n.rabbitmq === true);
    return {
      ...(kafkaNodes > 0 ? { kafkaNodes: kafkaNodes === 3 ? 3 : 1 } : {}),
      ...(kafkaNodes > 0 && replicaLag !== undefined ? { kafkaReplicaLagTimeMaxMs: replicaLag } : {}),
      rabbitmq,
      ...(rabbitmq && all.some((n) => n.rabbitmqNodes === 3) ? { rabbitmqNodes: 3 as const } : {}),
      toxiproxy: all.some((n) => n.toxiproxy === true),
      ...(all.some((n) => n.jaeger === true) ? { jaeger: true } : {}),
    };
  }

  get system(): ChaosWorkload['system'] {
    return this.requireWorkload().system;
  }

  summary(): string {
    return this.description || [this.requireWorkload().description, ...this.faults.map((f) => f.description)].join('; ');
  }

  private requireWorkload(): ChaosWorkload {
    if (!this.workload) throw new ConfigError(`scenario ${this.name} has no workload`, { hint: 'add one with withWorkload(Workload.kafka()) or withWorkload(Workload.rabbitmq())' });
    return this.workload;
  }

  async run(options: RunOptions = {}): Promise<ScenarioResult> {
    const progress = options.progress ?? silentProgress;
    const workload = this.requireWorkload();
    for (const f of this.faults) {
      if (f.system !== workload.system) throw new ConfigError(`scenario ${this.name}: fault ${f.name} acts on ${f.system} but the workload runs on ${workload.system}`);
    }
    const started = Date.now();
    const base = { name: this.name, description: this.summary(), system: workload.system, startedAt: new Date(started).toISOString() };
    const checks = this.invariants ?? defaultInvariants(this.recoveryLimitMs);
    const backend = this.traceBackendFor(options);
    const log = new HistoryLog(this.historyHeader(base, checks, options, backend), options.historyPath);
    const record = (r: HistoryRecord): void => log.add(r);
    record({ type: 'scenario-start', t: started });
    const windows: FaultWindow[] = [];
    let ownEnv: StartedEnvironment | undefined;
    let running: RunningWorkload | undefined;
    // The wrappers inject through the global propagator; a process with no SDK has a no-op one.
    // Registering W3C is refused (harmlessly) when the host already registered its own.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const exporter = new InMemorySpanExporter();
    let tracerProvider: BasicTracerProvider | undefined;
    let traces: TraceBackendRun | undefined;
    let error: string | undefined;
    let spans: readonly SpanRecord[] = [];
    let spanSource: SpanSource | undefined;
    let watch: AlertWatch | undefined;
    let alerts: AlertObservation[] | undefined;
    let lag: ExporterLagSample[] = [];
    try {
      const env = options.env ?? (ownEnv = await this.startEnvironment(progress, options.kafkaSecurity, backend));
      traces = backend.open(env, progress);
      tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter), ...traces.spanProcessors] });
      const kafka = workload.system === 'kafka' ? kafkaConnectionOf(env, options.kafkaClientSecurity) : undefined;
      if (kafka?.security) progress(`scenario ${this.name}: Kafka clients use ${String(kafka.security.securityProtocol ?? 'TLS/SASL').toUpperCase()} on ${kafka.brokers.join(',')}`);
      progress(`scenario ${this.name}: starting the workload`);
      const prefix = `chaos-${this.name}-${randomBytes(3).toString('hex')}`;
      const registry = new Registry();
      const withKafka = kafka ? { kafka } : {};
      if (this.alertPack) watch = await startAlertWatch({ env, system: workload.system, registry, options: this.alertPack, progress, ...withKafka });
      const relay = traces.otlpHttpUrl === undefined ? {} : { traceRelay: { otlpHttpUrl: traces.otlpHttpUrl } };
      running = await workload.start({ env, tracerProvider, registry, progress, prefix, ...withKafka, ...relay, history: record });
      const live = running;
      const faultCtx = { env, destination: live.destination, progress, sendPoison: (n: number) => live.sendPoison(n) };

      await delay(this.timing.warmupMs);
      error = await this.faultWindow(faultCtx, windows, record);
      progress(`scenario ${this.name}: recovery traffic for ${this.timing.recoveryMs} ms`);
      await delay(this.timing.recoveryMs);
      await this.untilSentAfterHealing(live, windows, progress);
      await live.stopSending();
      progress(`scenario ${this.name}: sending stopped (${live.sent().length} sent); waiting for consumption`);
      await this.drain(live);
      await watch?.settle(this.alertPack?.settleMs ?? 60_000);
    } catch (err) {
      error = `${error ? `${error}; ` : ''}${errorMessage(err)}`;
    } finally {
      if (watch && running) lag = await exporterLagOf(watch, running.destination, started, progress);
      alerts = watch?.observations().slice();
      await watch?.stop();
      if (running) await running.close().catch((err: unknown) => (error = `${error ? `${error}; ` : ''}closing the workload: ${errorMessage(err)}`));
      // Read before shutdown: the in-memory exporter forgets its spans when shut down.
      await tracerProvider?.forceFlush().catch(() => undefined);
      const recorded = exporter.getFinishedSpans().map(toSpanRecord);
      spans = recorded;
      // A workload that records its own spans in the history (a service's, from the harness's
      // receiver) keeps them, unless it relayed them to the backend instead (spansReadBack).
      if (traces && (running?.recordsHistory !== true || running.spansReadBack === true)) {
        const deliveries = [...(running?.consumed() ?? []), ...traceIdsOfHistory(log)];
        const relayed = running?.relayedSpans?.();
        const read = await traces.read({ recorded, deliveries, progress, ...(relayed ? { relayed } : {}) }).catch((err: unknown) => ({ spans: [], source: undefined, error: errorMessage(err) }));
        if ('error' in read) error = `${error ? `${error}; ` : ''}reading the spans back: ${read.error}`;
        spans = read.spans;
        spanSource = read.source;
      }
      await tracerProvider?.shutdown().catch(() => undefined);
      await traces?.close().catch(() => undefined);
      if (ownEnv) await ownEnv.stop().catch((err: unknown) => (error = `${error ? `${error}; ` : ''}stopping the environment: ${errorMessage(err)}`));
    }

    if (running && running.recordsHistory !== true) backfill(log, running);
    if (spanSource) record({ type: 'spans-read', t: Date.now(), ...spanSource });
    for (const s of spans) record({ type: 'span', t: s.atMs ?? Date.now(), name: s.name, kind: s.kind, traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }) });
    for (const a of alerts ?? []) record({ type: 'alert', t: a.atMs, alertname: a.alertname, labels: a.labels, state: a.state });
    for (const l of lag) record({ type: 'exporter-lag', t: l.atMs, messages: l.messages });
    const ended = Date.now();
    record({ type: 'scenario-end', t: ended, ...(error === undefined ? {} : { error }), alertsWatched: alerts !== undefined });
    // The verdicts come from the history just recorded, by the function `chaos check` uses.
    const { observations, invariants } = judgeHistory(log.history(), checks);
    record({ type: 'verdicts', t: Date.now(), verdicts: invariants.map((i) => ({ name: i.name, passed: i.passed })) });
    log.close();
    if (log.error) error = `${error ? `${error}; ` : ''}the history file is incomplete (${log.error})`;
    return {
      ...base,
      passed: error === undefined && invariants.every((i) => i.passed),
      durationMs: ended - started,
      counts: countsOf(observations),
      faults: observations.faults,
      invariants,
      timeline: timelineOf(observations),
      events: observations.events,
      alerts: observations.alerts ?? [],
      error,
      ...(options.historyPath === undefined ? {} : { history: options.historyPath }),
    };
  }

  /** The history's first line: what ran, how it was configured, where, by which harness. */
  /** The run option's backend, else the scenario's, else Jaeger when the environment given has one, else the recording. */
  private traceBackendFor(options: RunOptions): TraceBackend {
    return options.traceBackend ?? this.traceBackend ?? (options.env?.jaeger ? jaegerTraces() : recordedTraces());
  }

  private historyHeader(base: { description: string; system: ChaosSystem; startedAt: string }, checks: readonly InvariantCheck[], options: RunOptions, backend: TraceBackend): HistoryHeader {
    const workload = this.requireWorkload();
    return {
      type: 'header',
      format: HISTORY_FORMAT,
      version: HISTORY_FORMAT_VERSION,
      scenario: this.name,
      description: base.description,
      system: base.system,
      startedAt: base.startedAt,
      config: {
        timing: this.timing,
        recoveryLimitMs: this.recoveryLimitMs,
        workload: workload.description,
        faults: this.faults.map((f) => ({ name: f.name, description: f.description })),
        invariants: checks.map((c) => (c.spec ? { name: c.name, spec: c.spec } : { name: c.name })),
        alertPack: this.alertPack !== undefined,
        ...(backend.name === 'recorded' ? {} : { traces: backend.name }),
      },
      environment: { needs: this.needs(), provided: options.env ? 'given' : 'own', ...(options.kafkaSecurity ? { kafkaSecurity: options.kafkaSecurity } : {}) },
      harness: { version: options.harnessVersion ?? `@eda-harness/chaos ${chaosPackageVersion()}`, node: process.version, platform: `${process.platform}-${process.arch}` },
    };
  }

  /** Injects every fault, holds, heals every fault; returns an error text when one could not be healed. */
  private async faultWindow(ctx: Parameters<ChaosFault['inject']>[0], windows: FaultWindow[], record: (r: HistoryRecord) => void): Promise<string | undefined> {
    const injected: { fault: ChaosFault; startMs: number }[] = [];
    let failure: string | undefined;
    for (const fault of this.faults) {
      const startMs = Date.now();
      record({ type: 'fault-start', t: startMs, fault: fault.name, description: fault.description });
      try {
        await fault.inject(ctx);
        injected.push({ fault, startMs });
      } catch (err) {
        failure = `injecting ${fault.name}: ${errorMessage(err)}`;
        const endMs = Date.now();
        windows.push({ name: fault.name, description: fault.description, startMs, endMs, error: failure });
        record({ type: 'fault-end', t: endMs, fault: fault.name, outcome: 'inject-failed', error: failure });
      }
    }
    await delay(this.timing.faultMs);
    for (const { fault, startMs } of injected) {
      try {
        await fault.heal(ctx);
        const endMs = Date.now();
        windows.push({ name: fault.name, description: fault.description, startMs, endMs, error: undefined });
        record({ type: 'fault-end', t: endMs, fault: fault.name, outcome: 'healed' });
      } catch (err) {
        const why = `healing ${fault.name}: ${errorMessage(err)}`;
        failure = failure ? `${failure}; ${why}` : why;
        windows.push({ name: fault.name, description: fault.description, startMs, endMs: undefined, error: why });
        record({ type: 'fault-end', t: Date.now(), fault: fault.name, outcome: 'heal-failed', error: why });
      }
    }
    return failure;
  }

  /**
   * Keeps the recovery traffic going, up to the scenario's recovery limit after healing
   * ({@link withRecoveryLimit}, {@link DEFAULT_RECOVERY_LIMIT_MS} unless set), until a message sent
   * after healing has been acknowledged: see ./recovery-traffic. Past that limit the recovery
   * invariant fails anyway, so more traffic would only delay the verdict.
   */
  private async untilSentAfterHealing(w: RunningWorkload, windows: readonly FaultWindow[], progress: ProgressSink): Promise<void> {
    const healedAt = healedAtMs(windows);
    if (healedAt === undefined || ackedAfterHealing(w.sent(), healedAt)) return;
    const waitMs = Math.max(0, healedAt + this.recoveryLimitMs - Date.now());
    progress(`scenario ${this.name}: no message sent after healing was acknowledged in ${this.timing.recoveryMs} ms (the producer is still reconnecting); recovery traffic goes on until one is, for up to ${(waitMs / 1000).toFixed(1)} s more (the recovery limit is ${this.recoveryLimitMs} ms)`);
    const extendedAt = Date.now();
    await waitUpTo(() => ackedAfterHealing(w.sent(), healedAt), { description: 'a message sent after healing to be acknowledged', timeoutMs: waitMs, intervalMs: 100 });
    progress(`scenario ${this.name}: recovery traffic went on ${Date.now() - extendedAt} ms longer${ackedAfterHealing(w.sent(), healedAt) ? '' : ', and still no message sent after healing was acknowledged'}`);
  }

  /** Waits until every acknowledged message was consumed (or dead-lettered), or the drain timeout. */
  private async drain(w: RunningWorkload): Promise<void> {
    const allConsumed = (): boolean => {
      const seen = new Set(w.consumed().map((c) => c.id));
      return w.sent().every((m) => m.ackedAtMs === undefined || seen.has(m.id));
    };
    await waitUpTo(w.drained ? () => w.drained!() : allConsumed, { description: 'every acknowledged message to be consumed', timeoutMs: this.timing.drainTimeoutMs, intervalMs: 250 });
  }

  private async startEnvironment(progress: ProgressSink, kafkaSecurity: KafkaSecurityMode | undefined, backend: TraceBackend): Promise<StartedEnvironment> {
    const needs = { ...this.needs(), ...(backend.needs.jaeger ? { jaeger: true } : {}) };
    progress(`scenario ${this.name}: starting the environment`);
    let env = new Environment();
    if (needs.kafkaNodes) {
      const lag = needs.kafkaReplicaLagTimeMaxMs;
      env = env.withKafka({ nodes: needs.kafkaNodes, ...(kafkaSecurity ? { security: kafkaSecurity } : {}), ...(lag !== undefined ? { serverProperties: { 'replica.lag.time.max.ms': lag } } : {}) });
    }
    if (needs.rabbitmq) env = env.withRabbitMq({ nodes: needs.rabbitmqNodes ?? 1 });
    env = env.withToxiproxy(needs.toxiproxy === true);
    if (needs.jaeger) env = env.withJaeger();
    return env.start();
  }
}

/**
 * The exporter's lag over the run from the alert pack's Prometheus, for the report's lag chart.
 * It decides no verdict, so a failed read is said (progress) and the chart keeps the workload's
 * line only; it does not fail the scenario.
 */
async function exporterLagOf(watch: AlertWatch, destination: string, startedMs: number, progress: ProgressSink): Promise<ExporterLagSample[]> {
  try {
    const samples = await watch.exporterLag(destination, startedMs);
    if (samples.length === 0) progress(`alert pack: Prometheus has no consumer-lag sample for ${destination}: the report's lag chart shows the workload's count only`);
    return samples;
  } catch (err) {
    progress(`alert pack: reading the exporter's consumer lag for ${destination} failed (${errorMessage(err)}): the report's lag chart shows the workload's count only`);
    return [];
  }
}

/**
 * A workload that does not record its operations as they happen (one a team wrote before histories
 * existed) still gets checked: what it kept in memory is copied into the history, sends first
 * (attempt, then outcome), then deliveries, then client events. Times are the recorded ones.
 */
function backfill(log: HistoryLog, w: RunningWorkload): void {
  const has = new Set(log.history().records.map((r) => r.type));
  if (!has.has('send') && w.sent().length > 0) {
    for (const m of w.sent()) log.add({ type: 'send', t: m.sentAtMs, id: m.id, key: m.key, seq: m.seq, poison: m.poison, destination: w.destination });
    for (const m of w.sent()) {
      if (m.ackedAtMs !== undefined) log.add({ type: 'send-ack', t: m.ackedAtMs, id: m.id });
      else log.add({ type: 'send-failed', t: m.sentAtMs, id: m.id, error: m.error ?? 'not acknowledged' });
    }
  }
  if (!has.has('delivery')) {
    for (const c of w.consumed()) {
      log.add({ type: 'delivery', t: c.atMs, id: c.id, key: c.key, seq: c.seq, consumer: 'consumer', ...(c.partition === undefined ? {} : { partition: c.partition }), redelivered: c.redelivered, deadLettered: c.deadLettered, ...(c.producerTraceId === undefined ? {} : { traceId: c.producerTraceId }), ...(c.producerSpanId === undefined ? {} : { spanId: c.producerSpanId }) });
    }
  }
  if (!has.has('event')) for (const e of w.events()) log.add({ type: 'event', t: e.atMs, where: e.where, message: e.message });
}

/** The trace ids the history holds: of its deliveries, and of its sends (a service's inputs carry their own). */
function traceIdsOfHistory(log: HistoryLog): { producerTraceId?: string }[] {
  return log.history().records.flatMap((r) => ((r.type === 'delivery' || r.type === 'send') && r.traceId !== undefined ? [{ producerTraceId: r.traceId }] : []));
}

function toSpanRecord(s: { name: string; kind: SpanKind; spanContext(): { traceId: string; spanId: string }; parentSpanContext?: { spanId: string } | undefined }): SpanRecord {
  const sc = s.spanContext();
  const kind = s.kind === SpanKind.PRODUCER ? 'producer' : s.kind === SpanKind.CONSUMER ? 'consumer' : 'other';
  return { name: s.name, kind, traceId: sc.traceId, spanId: sc.spanId, parentSpanId: s.parentSpanContext?.spanId };
}

export function countsOf(o: Observations): ScenarioCounts {
  const unique = new Set(o.consumed.map((c) => c.id));
  return {
    sent: o.sent.length,
    acked: o.sent.filter((m) => m.ackedAtMs !== undefined).length,
    failed: o.sent.filter((m) => m.error !== undefined).length,
    deliveries: o.consumed.length,
    uniqueConsumed: unique.size,
    duplicates: o.consumed.length - unique.size,
    poison: o.sent.filter((m) => m.poison).length,
  };
}

/**
 * Per-second counts from the scenario's start (second 0, which earlier times fall into) to its last
 * event, with the end-to-end latency of the messages first consumed in each second, and the
 * exporter's consumer lag (`consumerLag`) in the seconds the alert pack's Prometheus sampled it.
 *
 * Latency is taken from each message id's first delivery (in consumption order, as the invariants
 * count it), minus that id's send time. A message whose first delivery was dead-lettered, a poison
 * message, and a delivery of an id that was never sent have no latency: the first two measure the
 * dead-letter path rather than the pipeline, the last has nothing to measure from.
 */
export function timelineOf(o: Observations): TimelinePoint[] {
  const t0 = o.startedMs;
  const secondOf = (ms: number): number => Math.max(0, Math.floor((ms - t0) / 1000));
  const none = () => ({ sent: 0, acked: 0, failed: 0, consumed: 0 });
  const points = new Map<number, ReturnType<typeof none>>();
  const at = (ms: number) => {
    const second = secondOf(ms);
    const p = points.get(second) ?? none();
    points.set(second, p);
    return p;
  };
  for (const m of o.sent) {
    at(m.sentAtMs).sent++;
    if (m.ackedAtMs !== undefined) at(m.ackedAtMs).acked++;
    else at(m.sentAtMs).failed++;
  }
  for (const c of o.consumed) at(c.atMs).consumed++;

  const sentAtMs = new Map(o.sent.filter((m) => !m.poison).map((m) => [m.id, m.sentAtMs]));
  const latencies = new Map<number, number[]>();
  for (const c of firstDeliveries(o.consumed)) {
    const sentAt = sentAtMs.get(c.id);
    if (c.deadLettered || sentAt === undefined) continue;
    const second = secondOf(c.atMs);
    const inSecond = latencies.get(second) ?? [];
    inSecond.push(c.atMs - sentAt);
    latencies.set(second, inSecond);
  }
  const latency = (second: number): { latencyP50Ms: number | undefined; latencyMaxMs: number | undefined } => {
    const sorted = (latencies.get(second) ?? []).sort((a, b) => a - b);
    // Nearest rank: the smallest value with at least half of the values at or below it.
    return { latencyP50Ms: sorted[Math.ceil(sorted.length / 2) - 1], latencyMaxMs: sorted[sorted.length - 1] };
  };

  // The exporter's lag, where the alert pack's Prometheus sampled it: its seconds extend the
  // timeline past the last traffic, so the chart shows the broker's backlog going back to 0.
  const lag = lagBySecondOf(o.exporterLag ?? [], t0);
  const last = Math.max(0, ...points.keys(), ...lag.keys());
  const timeline = Array.from({ length: last + 1 }, (_, second) => ({ second, ...(points.get(second) ?? none()), ...latency(second) }));
  return lag.size > 0 ? withExporterLag(timeline, lag) : timeline;
}
