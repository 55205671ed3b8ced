import { Registry } from 'prom-client';
import type { RegistryContentType } from 'prom-client';
import { errorMessage, TimeoutError, withDeadline } from '@eda-harness/core';
import { EXPORTER_TARGET, METRIC } from '@eda-harness/semconv';
import type { MetricDefinition, MetricKey } from '@eda-harness/semconv';
import { checkExporterConfig, configuredTargets, DEFAULT_CLUSTER_LABEL, DEFAULT_CLUSTER_NAME, withManagementPassword } from './config';
import { createKafkaCollector } from './kafka/collector';
import { countPartialFailures, createWarningLimiter, WARNING_LOG_INTERVAL_MS } from './partial-failures';
import type { WarningLimiter } from './partial-failures';
import { createRabbitMqCollector } from './rabbitmq/collector';
import { RenderedMetric } from './rendered-metric';
import { renderSamples } from './render-samples';
import type { TargetHealth } from './render-samples';
import type { Collector, ExporterConfig, KafkaSnapshot, RabbitMqSnapshot } from './types';

type AnyRegistry = Registry<RegistryContentType>;

export interface ExporterLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Logs to stderr; the standalone command uses it. */
export const consoleLogger: ExporterLogger = {
  info: (m) => console.error(`[eda-exporter] ${m}`),
  warn: (m) => console.error(`[eda-exporter] warning: ${m}`),
};
export const silentLogger: ExporterLogger = { info: () => undefined, warn: () => undefined };

export interface ExporterDeps {
  readonly config: ExporterConfig;
  /** Where the metrics go (default: a new registry, see {@link Exporter.registry}). */
  readonly registry?: AnyRegistry;
  readonly logger?: ExporterLogger;
  /**
   * A collection's warnings (partial failures) are logged once per request kind per target per
   * this many ms (default 5 minutes); every one is counted in eda_exporter_partial_failures_total.
   */
  readonly warningLogIntervalMs?: number;
  /**
   * Replaces the collectors built from `config` (tests): one of each kind, named `default`, or a
   * list of named ones.
   */
  readonly collectors?:
    | { readonly kafka?: Collector<KafkaSnapshot>; readonly rabbitmq?: Collector<RabbitMqSnapshot> }
    | readonly NamedCollector[];
}

/** A collector and the name of the cluster or server it reads (the value of the cluster label). */
export type NamedCollector =
  | { readonly kind: 'kafka'; readonly name: string; readonly collector: Collector<KafkaSnapshot> }
  | { readonly kind: 'rabbitmq'; readonly name: string; readonly collector: Collector<RabbitMqSnapshot> };

export interface Exporter {
  readonly registry: AnyRegistry;
  /**
   * The registry's page (what `registry.metrics()` gives, byte for byte), with the exporter's own
   * metrics written once per collection instead of on every scrape: what /metrics serves.
   */
  metrics(): Promise<string>;
  /** Starts collecting on the interval (the first collection begins at once). Idempotent. */
  start(): void;
  /** Stops the loop, waits for running collections and closes broker connections. */
  stop(): Promise<void>;
  /** Runs one collection of every target now (in parallel) and updates the metrics. */
  collectNow(): Promise<void>;
  health(): readonly TargetHealth[];
  /** The last snapshot of the first Kafka cluster and the first RabbitMQ server. */
  readonly latest: { readonly kafka: KafkaSnapshot | undefined; readonly rabbitmq: RabbitMqSnapshot | undefined };
  /** The last snapshot of every target, by kind and name. */
  snapshots(): readonly { readonly kind: 'kafka' | 'rabbitmq'; readonly name: string; readonly snapshot: KafkaSnapshot | RabbitMqSnapshot | undefined }[];
}

/**
 * A collection that outlived its deadline. It is abandoned (its signal aborted, so it changes no
 * more state and its result is discarded) but may still hold connections, which the loop closes;
 * a timeout inside the collection (a broker request's own) is not one of these.
 */
export class CollectionTimeoutError extends TimeoutError {}

interface TargetState<S> {
  readonly kind: 'kafka' | 'rabbitmq';
  readonly name: string;
  /** How the logs name the target: `kafka` alone, `kafka prod-eu` once there are names. */
  readonly logName: string;
  readonly collector: Collector<S>;
  health: TargetHealth;
  snapshot: S | undefined;
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  readonly warnings: WarningLimiter;
}

/**
 * The exporter loop. Each target (every Kafka cluster, every RabbitMQ server) is collected on its
 * own timer, so a slow or unreachable broker delays nothing else; results are cached and written
 * to the registry in one synchronous step, so a scrape never waits for a broker and never sees
 * half a collection. A failed collection marks its target down (eda_exporter_up 0, errors
 * counted) and keeps the last good values; the next interval simply tries again with a fresh
 * connection. Every series carries the target's name in the cluster label, so one Prometheus can
 * tell the clusters apart.
 */
export function createExporter(deps: ExporterDeps): Exporter {
  const { config } = deps;
  // A bad broker address or URL is refused here, not at the first collection; an interval beyond
  // Node's timer range would otherwise fire every millisecond.
  checkExporterConfig(config);
  const registry = deps.registry ?? new Registry();
  const logger = deps.logger ?? silentLogger;
  const intervalMs = Math.max(0.1, config.intervalSeconds ?? 15) * 1000;
  const timeoutMs = Math.max(1, config.collectTimeoutSeconds ?? Math.max(5, intervalMs / 1000)) * 1000;
  const granularity = config.granularity ?? 'partition';
  const clusterLabel = config.clusterLabel ?? DEFAULT_CLUSTER_LABEL;
  const metrics = createMetricObjects(registry);

  const named = namedCollectors(deps);
  const kindCount = (kind: string): number => named.filter((n) => n.kind === kind).length;
  const warningLogIntervalMs = deps.warningLogIntervalMs ?? WARNING_LOG_INTERVAL_MS;
  const targets = named.map((n) =>
    newState(n, kindCount(n.kind) === 1 && n.name === DEFAULT_CLUSTER_NAME ? n.kind : `${n.kind} ${n.name}`, createWarningLimiter(warningLogIntervalMs)),
  );
  const firstOf = <S>(kind: string): TargetState<S> | undefined => targets.find((t) => t.kind === kind) as TargetState<S> | undefined;
  let started = false;
  let stopped = false;

  const render = (): void => {
    const samples = targets.map((t) =>
      renderSamples({
        granularity,
        cluster: { label: clusterLabel, name: t.name },
        kafka: t.kind === 'kafka' ? (t.snapshot as KafkaSnapshot | undefined) : undefined,
        rabbitmq: t.kind === 'rabbitmq' ? (t.snapshot as RabbitMqSnapshot | undefined) : undefined,
        health: [t.health],
      }),
    );
    // Reset and refill synchronously: series of vanished groups and queues disappear, and no
    // scrape can run in between.
    for (const m of metrics.values()) m.reset();
    for (const target of samples) for (const s of target) metrics.get(s.key)?.add(s.labels, s.value);
  };

  const runTarget = async <S>(t: TargetState<S>): Promise<void> => {
    if (t.running) return t.running;
    const run = async (): Promise<void> => {
      const startedAt = process.hrtime.bigint();
      // Aborted at the deadline: the collection, which keeps running, must then leave the state
      // later collections build on alone (see Collector.collect), and its result is discarded.
      const abandon = new AbortController();
      try {
        const snapshot = await withDeadline(t.collector.collect(abandon.signal), timeoutMs, () => {
          const timeout = new CollectionTimeoutError(`collection took longer than ${timeoutMs} ms`);
          abandon.abort(timeout);
          return timeout;
        });
        const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
        t.snapshot = snapshot;
        if (!t.health.up && t.lastError !== undefined) logger.info(`${t.logName}: collecting again`);
        const warnings = (snapshot as { warnings?: readonly string[] }).warnings ?? [];
        // Partial failures: each counted, by request; logged once per kind per interval, since a
        // leaderless partition or an unreadable group warns at every collection.
        const partialFailures = countPartialFailures(t.health.partialFailures ?? new Map(), warnings);
        t.health = { ...t.health, up: true, lastDurationSeconds: seconds, lastSuccessMs: Date.now(), partialFailures };
        t.lastError = undefined;
        for (const line of t.warnings.lines(warnings, Date.now())) logger.warn(`${t.logName}: ${line}`);
      } catch (err) {
        const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
        const message = errorMessage(err);
        // Once per change, not every interval: wrong credentials fail identically each time.
        if (t.lastError !== message) logger.warn(`${t.logName}: collection failed: ${message}${hintOf(err)}`);
        t.lastError = message;
        t.health = { ...t.health, up: false, lastDurationSeconds: seconds, errors: t.health.errors + 1 };
        // A timed-out collection may still hold connections: drop them, the next run reconnects.
        if (err instanceof CollectionTimeoutError) await t.collector.close().catch(() => undefined);
      } finally {
        render();
      }
    };
    t.running = run().finally(() => {
      t.running = undefined;
    });
    return t.running;
  };

  const schedule = <S>(t: TargetState<S>): void => {
    if (stopped) return;
    t.timer = setTimeout(() => {
      void runTarget(t).then(() => schedule(t));
    }, intervalMs);
    t.timer.unref?.();
  };

  render();
  return {
    registry,
    metrics: () => pageOf(registry, metrics),
    start() {
      if (started || stopped) return;
      started = true;
      for (const t of targets) void runTarget(t as TargetState<unknown>).then(() => schedule(t as TargetState<unknown>));
    },
    async stop() {
      stopped = true;
      for (const t of targets) if (t.timer) clearTimeout(t.timer);
      await Promise.allSettled(targets.map((t) => t.running));
      await Promise.allSettled(targets.map((t) => t.collector.close()));
    },
    async collectNow() {
      await Promise.all(targets.map((t) => runTarget(t as TargetState<unknown>)));
    },
    health: () => targets.map((t) => t.health),
    get latest() {
      return { kafka: firstOf<KafkaSnapshot>('kafka')?.snapshot, rabbitmq: firstOf<RabbitMqSnapshot>('rabbitmq')?.snapshot };
    },
    snapshots: () => targets.map((t) => ({ kind: t.kind, name: t.name, snapshot: t.snapshot as KafkaSnapshot | RabbitMqSnapshot | undefined })),
  };
}

/**
 * Registers the exporter's metrics on a user's prom-client registry and starts collecting:
 * the embeddable form of `eda-harness exporter`. Call `stop()` on the result at shutdown.
 */
export function registerExporter(registry: AnyRegistry, config: ExporterConfig, options: { logger?: ExporterLogger } = {}): Exporter {
  const exporter = createExporter({ config, registry, ...(options.logger ? { logger: options.logger } : {}) });
  exporter.start();
  return exporter;
}

/** The collectors the deps give, or one per configured cluster and server. */
function namedCollectors(deps: ExporterDeps): NamedCollector[] {
  const given = deps.collectors;
  if (Array.isArray(given)) return [...(given as readonly NamedCollector[])];
  const single = given as { readonly kafka?: Collector<KafkaSnapshot>; readonly rabbitmq?: Collector<RabbitMqSnapshot> } | undefined;
  const configured = configuredTargets(deps.config);
  const kafka: NamedCollector[] = single?.kafka
    ? [{ kind: 'kafka', name: deps.config.kafka?.name ?? DEFAULT_CLUSTER_NAME, collector: single.kafka }]
    : configured.kafka.map((t) => ({ kind: 'kafka', name: t.name, collector: createKafkaCollector({ config: t.config }) }));
  const rabbitmq: NamedCollector[] = single?.rabbitmq
    ? [{ kind: 'rabbitmq', name: deps.config.rabbitmq?.name ?? DEFAULT_CLUSTER_NAME, collector: single.rabbitmq }]
    : configured.rabbitmq.map((t) => ({ kind: 'rabbitmq', name: t.name, collector: createRabbitMqCollector({ config: withManagementPassword(t.config) }) }));
  return [...kafka, ...rabbitmq];
}

/** An error's hint (what to do next), for the one log line of a failed collection. */
function hintOf(err: unknown): string {
  const hint = (err as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' && hint !== '' ? ` (${hint})` : '';
}

function newState<S>(n: NamedCollector, logName: string, warnings: WarningLimiter): TargetState<S> {
  const target = n.kind === 'kafka' ? EXPORTER_TARGET.KAFKA : EXPORTER_TARGET.RABBITMQ;
  return {
    kind: n.kind,
    name: n.name,
    logName,
    collector: n.collector as unknown as Collector<S>,
    health: { target, cluster: n.name, up: false, lastDurationSeconds: undefined, lastSuccessMs: undefined, errors: 0 },
    snapshot: undefined,
    running: undefined,
    timer: undefined,
    lastError: undefined,
    warnings,
  };
}

/**
 * The exporter's metrics, each with the cluster label besides its own, registered on the registry
 * (a name already there is refused, as prom-client's own metrics would be).
 */
function createMetricObjects(registry: AnyRegistry): Map<MetricKey, RenderedMetric> {
  const result = new Map<MetricKey, RenderedMetric>();
  for (const [key, def] of Object.entries(METRIC) as [MetricKey, MetricDefinition][]) {
    if (def.producedBy !== 'exporter') continue;
    const metric = new RenderedMetric(def);
    registry.registerMetric(metric as unknown as Parameters<AnyRegistry['registerMetric']>[0]);
    result.set(key, metric);
  }
  return result;
}

/** What prom-client's registry has and its typings leave out. */
interface RegistryInternals {
  getMetricsAsString(metric: unknown): Promise<string>;
  readonly _defaultLabels?: Readonly<Record<string, string>>;
}

/**
 * The registry's page as `registry.metrics()` writes it, with the exporter's metrics from their
 * per-collection text; other metrics on the registry (a user's, on a shared one) are written by the
 * registry as usual. Where the registry would write the exporter's metrics differently (OpenMetrics,
 * default labels) it writes the whole page itself.
 */
async function pageOf(registry: AnyRegistry, metrics: ReadonlyMap<MetricKey, RenderedMetric>): Promise<string> {
  const internals = registry as unknown as RegistryInternals;
  if (registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE || typeof internals.getMetricsAsString !== 'function' || Object.keys(internals._defaultLabels ?? {}).length > 0) {
    return registry.metrics();
  }
  const own = new Set<unknown>(metrics.values());
  const blocks = await Promise.all(
    registry.getMetricsAsArray().map((m) => (own.has(m) ? (m as unknown as RenderedMetric).text() : internals.getMetricsAsString.call(registry, m))),
  );
  return `${blocks.join('\n\n')}\n`;
}
