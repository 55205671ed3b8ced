import { Counter, Gauge, Registry, register as globalRegister } from 'prom-client';
import type { Histogram } from 'prom-client';
import type { Metric, RegistryContentType } from 'prom-client';
import { trace, isSpanContextValid } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';
import { DEFAULT_MAX_SERIES_PER_METRIC, LABEL_OVERFLOW_VALUE, METRIC } from '@eda-harness/semconv';
import type { LabelName, MetricDefinition, MetricKey } from '@eda-harness/semconv';
import { BucketHistogram } from './bucket-histogram';

type AnyRegistry = Registry<RegistryContentType>;

export type MetricLabels = Partial<Record<LabelName, string | undefined>>;

/** The instrumentation's metrics, recorded only through these methods (cardinality-capped). */
export interface MessagingMetrics {
  readonly registry: Registry<RegistryContentType>;
  readonly exemplars: boolean;
  inc(key: MetricKey, labels: MetricLabels, value?: number): void;
  observe(key: MetricKey, labels: MetricLabels, value: number, exemplarFrom?: SpanContext): void;
  add(key: MetricKey, labels: MetricLabels, delta: number): void;
}

export interface MessagingMetricsOptions {
  readonly registry?: Registry<RegistryContentType>;
  readonly exemplars?: boolean;
  readonly maxSeriesPerMetric?: number;
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | BucketHistogram;

/**
 * Bounds the number of label combinations of one metric: once `max` distinct combinations have
 * been seen, every new one is recorded with all its label values replaced by `_overflow`, so a
 * bug upstream (a message id used as a topic name…) cannot explode a Prometheus server.
 */
class SeriesLimiter {
  private readonly seen = new Set<string>();
  private readonly overflow = new Map<string, Record<string, string>>();
  constructor(private readonly max: number) {}

  limit(labels: Record<string, string>): Record<string, string> {
    const key = Object.keys(labels)
      .sort()
      .map((k) => `${k}\u0000${labels[k] ?? ''}`)
      .join('\u0001');
    if (this.seen.has(key)) return labels;
    if (this.seen.size < this.max) {
      this.seen.add(key);
      return labels;
    }
    // One object per label-name set, so identity-keyed consumers see one overflow series.
    const names = Object.keys(labels).sort().join('\u0000');
    let overflow = this.overflow.get(names);
    if (!overflow) {
      overflow = {};
      for (const k of Object.keys(labels)) overflow[k] = LABEL_OVERFLOW_VALUE;
      this.overflow.set(names, overflow);
    }
    return overflow;
  }
}

const byRegistry = new WeakMap<AnyRegistry, MessagingMetrics>();

/**
 * The metrics for `registry` (default prom-client's global one), created once per registry and
 * shared by every instrumented client, because prom-client refuses a second metric of one name.
 */
export function messagingMetrics(options: MessagingMetricsOptions = {}): MessagingMetrics {
  const registry: AnyRegistry = options.registry ?? globalRegister;
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const created = createMessagingMetrics(registry, options);
  byRegistry.set(registry, created);
  return created;
}

function createMessagingMetrics(registry: AnyRegistry, options: MessagingMetricsOptions): MessagingMetrics {
  const exemplars = options.exemplars ?? (registry.contentType as string) === Registry.OPENMETRICS_CONTENT_TYPE;
  const max = Math.max(1, options.maxSeriesPerMetric ?? DEFAULT_MAX_SERIES_PER_METRIC);
  interface Entry {
    readonly metric: AnyMetric;
    readonly def: MetricDefinition;
    readonly limiter: SeriesLimiter;
    /** label values (in declaration order) → the label object prom-client gets, cap applied once. */
    readonly prepared: Map<string, Record<string, string>>;
    /** Same lookup by the label object itself, for frozen ones (the wrappers freeze and reuse one per topic/queue). */
    readonly byIdentity: WeakMap<MetricLabels, Record<string, string>>;
    /** Counter/gauge deltas not yet handed to prom-client (flushed when it collects). */
    readonly pending: Map<Record<string, string>, number> | undefined;
  }
  const metrics = new Map<MetricKey, Entry>();

  const get = (key: MetricKey): Entry => {
    let entry = metrics.get(key);
    if (!entry) {
      const def: MetricDefinition = METRIC[key];
      const { metric, pending } = createOrReuse(registry, def);
      entry = { metric, def, limiter: new SeriesLimiter(max), prepared: new Map(), byIdentity: new WeakMap(), pending };
      metrics.set(key, entry);
    }
    return entry;
  };

  // Hot path (several calls per message): one short join to find the prepared label object; the
  // sorting, copying and cap bookkeeping happen once per label combination.
  const prepare = (entry: Entry, labels: MetricLabels): Record<string, string> => {
    const known = entry.byIdentity.get(labels);
    if (known) return known;
    const names = entry.def.labels;
    let cacheKey = '';
    for (let i = 0; i < names.length; i++) cacheKey += `${labels[names[i] as LabelName] ?? '\u0002'}\u0001`;
    const cached = entry.prepared.get(cacheKey);
    const frozen = Object.isFrozen(labels);
    if (cached) {
      if (frozen) entry.byIdentity.set(labels, cached);
      return cached;
    }
    const clean: Record<string, string> = {};
    for (const name of names) {
      const v = labels[name];
      if (v !== undefined) clean[name] = v;
    }
    // Frozen: it becomes a series key (by identity) and prom-client's shared-label cache key.
    Object.freeze(clean);
    const limited = entry.limiter.limit(clean);
    // Overflowed combinations are not cached, so the cache is bounded by the cap too.
    if (limited === clean) {
      entry.prepared.set(cacheKey, clean);
      if (frozen) entry.byIdentity.set(labels, clean);
    }
    return limited;
  };

  return {
    registry,
    exemplars,
    inc(key, labels, value = 1) {
      const entry = get(key);
      const l = prepare(entry, labels);
      if (entry.pending) entry.pending.set(l, (entry.pending.get(l) ?? 0) + value);
      else (entry.metric as Counter<string>).inc(l, value);
    },
    add(key, labels, delta) {
      const entry = get(key);
      const l = prepare(entry, labels);
      if (entry.pending) entry.pending.set(l, (entry.pending.get(l) ?? 0) + delta);
      else (entry.metric as Gauge<string>).inc(l, delta);
    },
    observe(key, labels, value, exemplarFrom) {
      const entry = get(key);
      const l = prepare(entry, labels);
      const exemplarsOn = entry.metric instanceof BucketHistogram ? exemplars : (entry.metric as unknown as { enableExemplars?: boolean }).enableExemplars === true;
      let exemplarLabels: Record<string, string> | undefined;
      if (exemplarsOn) {
        const ctx = exemplarFrom ?? trace.getActiveSpan()?.spanContext();
        if (ctx && isSpanContextValid(ctx)) exemplarLabels = { trace_id: ctx.traceId, span_id: ctx.spanId };
      }
      if (entry.metric instanceof BucketHistogram) {
        entry.metric.observe(l, value, exemplarLabels);
        return;
      }
      // A histogram of this name registered elsewhere: prom-client's own API.
      const h = entry.metric as Histogram<string>;
      if (exemplarsOn) h.observe({ labels: l, value, exemplarLabels: exemplarLabels ?? {} });
      else h.observe(l, value);
    },
  };
}

/**
 * Counters and gauges are bumped per message; prom-client hashes the label set on every call. Ours
 * add to a Map keyed by the (cached, identical) label object instead and hand prom-client the sums
 * when it collects, i.e. on every scrape, so what Prometheus reads is exact and the hot path cheap.
 * A metric of the same name registered by someone else is reused and updated directly.
 */
function createOrReuse(registry: AnyRegistry, def: MetricDefinition): { metric: AnyMetric; pending: Map<Record<string, string>, number> | undefined } {
  // An OpenMetrics registry renames counters to drop "_total" once scraped; look for both names.
  const found: Metric | undefined = registry.getSingleMetric(def.name) ?? registry.getSingleMetric(def.name.replace(/_total$/, ''));
  if (found) return { metric: found as AnyMetric, pending: undefined };
  const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
  const pending = new Map<Record<string, string>, number>();
  function flush(this: Counter<string> | Gauge<string>): void {
    for (const [labels, delta] of pending) this.inc(labels, delta);
    pending.clear();
  }
  switch (def.type) {
    case 'counter':
      return { metric: new Counter({ ...base, collect: flush }), pending };
    case 'gauge':
      return { metric: new Gauge({ ...base, collect: flush }), pending };
    case 'histogram':
      return { metric: new BucketHistogram(def.name, def.help, def.labels, def.buckets ?? [], registry), pending: undefined };
  }
}
