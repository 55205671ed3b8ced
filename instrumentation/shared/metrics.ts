import { Counter, Gauge, Registry, register as globalRegister } from 'prom-client';
import type { Histogram } from 'prom-client';
import type { Metric, RegistryContentType } from 'prom-client';
import { INVALID_SPAN_CONTEXT, TraceFlags, diag, isSpanContextValid, trace } from './otel-api';
import type { SpanContext } from '@opentelemetry/api';
import { DEFAULT_MAX_SERIES_PER_METRIC, LABEL, LABEL_OVERFLOW_VALUE, METRIC } from './vocabulary';
import type { LabelName, MetricDefinition, MetricKey } from '@eda-harness/semconv';
import { BucketHistogram } from './bucket-histogram';
import type { Series } from './bucket-histogram';

type AnyRegistry = Registry<RegistryContentType>;

export type MetricLabels = Partial<Record<LabelName, string | undefined>>;

/** The instrumentation's metrics, recorded only through these methods (cardinality-capped). */
export interface MessagingMetrics {
  readonly registry: Registry<RegistryContentType>;
  readonly exemplars: boolean;
  inc(key: MetricKey, labels: MetricLabels, value?: number): void;
  observe(key: MetricKey, labels: MetricLabels, value: number, exemplarFrom?: SpanContext): void;
  add(key: MetricKey, labels: MetricLabels, delta: number): void;
  /**
   * One series of `key` bound once (the labels prepared, the series found) for the per-message hot
   * path: then an increment is one addition, an observation a bucket scan. Never throws.
   */
  cell(key: MetricKey, labels: MetricLabels): MetricCell;
}

/** A pre-bound series (see {@link MessagingMetrics.cell}). */
export interface MetricCell {
  /** Adds to a counter (negative ignored) or gauge series. */
  add(value: number): void;
  /**
   * One histogram observation. The exemplar comes from `exemplarFrom` only, when exemplars are on
   * and it is sampled (an unsampled trace cannot be opened); `nowMs` saves a clock read.
   */
  observe(value: number, exemplarFrom: SpanContext | undefined, nowMs?: number): void;
}

export interface MessagingMetricsOptions {
  readonly registry?: Registry<RegistryContentType>;
  readonly exemplars?: boolean;
  readonly maxSeriesPerMetric?: number;
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string> | BucketHistogram;
type SeriesLabels = Readonly<Record<string, string>>;

/**
 * The metrics state of one registry, kept ON the registry under a registered, versioned symbol so
 * that every copy of this package in a process (a bundle plus node_modules, two versions in one
 * tree) records into the same metric objects and the same series: prom-client refuses a second
 * metric of one name, and two copies each keeping their own label objects would expose duplicate
 * series, which Prometheus rejects. Contract v1 (members may be added, never changed): whichever
 * copy comes first creates the state and its recorders; later copies only call these methods.
 */
const SHARED = Symbol.for('eda-harness.instrumentation.metrics.v1');

interface SharedMetricsV1 {
  readonly version: 1;
  readonly exemplars: boolean;
  /** Applies a wrapper's explicit options: the lowest explicit series cap wins, the first explicit exemplars choice. */
  configure(options: { readonly maxSeriesPerMetric?: number | undefined; readonly exemplars?: boolean | undefined }): void;
  /** The recorder of one metric, created on first use by whichever copy asks first. */
  recorder(def: MetricDefinition): RecorderV1;
}

interface RecorderV1 {
  inc(labels: MetricLabels, value: number): void;
  add(labels: MetricLabels, delta: number): void;
  observe(labels: MetricLabels, value: number, exemplarFrom: SpanContext | undefined): void;
  /** Added after v1 was first published: absent on a recorder made by an older copy. */
  cell?(labels: MetricLabels): MetricCell;
}

/**
 * Labels that keep their value once a metric is over its cap: they take a handful of values each,
 * so the overflow series stay few and still say what happened (system, operation, error, stage).
 * Every other label (destination, group, source, dlq, any new one) becomes `_overflow`.
 */
const LOW_CARDINALITY: ReadonlySet<string> = new Set<string>([
  LABEL.MESSAGING_SYSTEM,
  LABEL.MESSAGING_OPERATION_NAME,
  LABEL.ERROR_TYPE,
  LABEL.STAGE,
  LABEL.REASON,
  LABEL.EVENT,
  LABEL.HOOK,
]);

/** Over-cap label combinations remembered per metric, so a repeated one is one lookup; cleared when full. */
const MAX_OVERFLOW_CACHE = 4096;

const local = new WeakMap<AnyRegistry, MessagingMetrics>();
/** For a registry that cannot carry the symbol (frozen): shared within this copy only. */
const fallbackShared = new WeakMap<AnyRegistry, SharedMetricsV1>();

/**
 * The metrics for `registry` (default prom-client's global one), created once per registry and
 * shared by every instrumented client, because prom-client refuses a second metric of one name.
 * An explicit `maxSeriesPerMetric` takes effect whoever created the metrics first (the lowest
 * explicit value wins; a conflict is reported once through the OpenTelemetry diag logger).
 */
export function messagingMetrics(options: MessagingMetricsOptions = {}): MessagingMetrics {
  const registry: AnyRegistry = options.registry ?? globalRegister;
  const shared = sharedState(registry, options.exemplars);
  shared.configure({ maxSeriesPerMetric: options.maxSeriesPerMetric, exemplars: options.exemplars });
  let facade = local.get(registry);
  if (!facade) {
    facade = createFacade(registry, shared);
    local.set(registry, facade);
  }
  return facade;
}

function sharedState(registry: AnyRegistry, exemplars: boolean | undefined): SharedMetricsV1 {
  const found = (registry as unknown as Record<symbol, SharedMetricsV1 | undefined>)[SHARED] ?? fallbackShared.get(registry);
  if (found) return found;
  const created = createShared(registry, exemplars);
  if (!Reflect.defineProperty(registry, SHARED, { value: created, enumerable: false, configurable: true, writable: false })) fallbackShared.set(registry, created);
  return created;
}

/** This copy's view: metric keys resolved to its own definitions, recorders looked up once each. */
function createFacade(registry: AnyRegistry, shared: SharedMetricsV1): MessagingMetrics {
  const recorders = new Map<MetricKey, RecorderV1>();
  const recorder = (key: MetricKey): RecorderV1 => {
    let r = recorders.get(key);
    if (!r) {
      r = shared.recorder(METRIC[key]);
      recorders.set(key, r);
    }
    return r;
  };
  return {
    registry,
    get exemplars() {
      return shared.exemplars;
    },
    inc: (key, labels, value = 1) => recorder(key).inc(labels, value),
    add: (key, labels, delta) => recorder(key).add(labels, delta),
    observe: (key, labels, value, exemplarFrom) => recorder(key).observe(labels, value, exemplarFrom),
    cell(key, labels) {
      const r = recorder(key);
      return r.cell ? r.cell(labels) : new DelegatingCell(r, labels);
    },
  };
}

/** A cell over a recorder without cells of its own (made by an older copy of this package). */
class DelegatingCell implements MetricCell {
  constructor(
    private readonly r: RecorderV1,
    private readonly labels: MetricLabels,
  ) {}

  add(value: number): void {
    try {
      this.r.inc(this.labels, value);
    } catch {
      /* a cell never throws */
    }
  }

  observe(value: number, exemplarFrom: SpanContext | undefined): void {
    try {
      this.r.observe(this.labels, value, exemplarFrom ?? INVALID_SPAN_CONTEXT);
    } catch {
      /* a cell never throws */
    }
  }
}

/** A counter or gauge series' not-yet-collected sum. */
interface CounterCell {
  readonly labels: SeriesLabels;
  value: number;
  /** Added to since the last collection (even if the sum is 0: a gauge back at 0 is still exposed). */
  dirty: boolean;
}

/** A series bound once; rebinds itself when the cap changed or the histogram was reset. */
class BoundCell implements MetricCell {
  private generation = -1;
  private counter: CounterCell | undefined;
  private hist: BucketHistogram | undefined;
  private histGeneration = -1;
  private series: Series | undefined;
  private prepared: SeriesLabels | undefined;

  constructor(
    private readonly r: SeriesRecorder,
    private readonly labels: MetricLabels,
  ) {}

  private bind(): void {
    const r = this.r;
    this.generation = r.generation;
    const l = r.prepare(this.labels);
    this.prepared = l;
    this.counter = r.counterCell(l);
    const h = r.histogram;
    this.hist = h;
    if (h) {
      this.series = h.seriesOf(l);
      this.histGeneration = h.generation;
    }
  }

  add(value: number): void {
    try {
      if (!Number.isFinite(value) || (this.r.isCounter && value < 0)) return;
      if (this.generation !== this.r.generation) this.bind();
      const c = this.counter;
      if (c) {
        c.value += value;
        c.dirty = true;
      } else this.r.incPrepared(this.prepared as SeriesLabels, value);
    } catch (err) {
      diag.error('eda-harness: recording a metric failed', err);
    }
  }

  observe(value: number, exemplarFrom: SpanContext | undefined, nowMs?: number): void {
    try {
      if (this.generation !== this.r.generation || (this.hist && this.hist.generation !== this.histGeneration)) this.bind();
      const h = this.hist;
      if (!h) {
        this.r.observePrepared(this.prepared as SeriesLabels, value, exemplarFrom ?? INVALID_SPAN_CONTEXT);
        return;
      }
      if (exemplarFrom !== undefined && (exemplarFrom.traceFlags & TraceFlags.SAMPLED) !== 0 && this.r.exemplarsOn() && isSpanContextValid(exemplarFrom)) {
        h.observeSeries(this.series as Series, value, exemplarFrom.traceId, exemplarFrom.spanId, nowMs);
      } else {
        h.observeSeries(this.series as Series, value);
      }
    } catch (err) {
      diag.error('eda-harness: recording a metric failed', err);
    }
  }
}

function createShared(registry: AnyRegistry, explicitExemplars: boolean | undefined): SharedMetricsV1 {
  let exemplars = explicitExemplars ?? (registry.contentType as string) === Registry.OPENMETRICS_CONTENT_TYPE;
  let explicitExemplarsSet = explicitExemplars !== undefined;
  let cap: number = DEFAULT_MAX_SERIES_PER_METRIC;
  let explicitCap: number | undefined;
  let warned = false;
  const recorders = new Map<string, SeriesRecorder>();
  const limits: SeriesLimits = { max: () => cap };
  return {
    version: 1,
    get exemplars() {
      return exemplars;
    },
    configure(options) {
      // The first explicit choice decides (as when the metrics were created by the first wrapper).
      if (options.exemplars !== undefined && !explicitExemplarsSet) {
        exemplars = options.exemplars;
        explicitExemplarsSet = true;
      }
      const wanted = options.maxSeriesPerMetric;
      if (wanted === undefined || !Number.isFinite(wanted)) return;
      const max = Math.max(1, Math.floor(wanted));
      if (explicitCap !== undefined && max !== explicitCap && !warned) {
        warned = true;
        diag.warn(`eda-harness: maxSeriesPerMetric ${max} differs from ${explicitCap} set earlier for the same registry; the lowest, ${Math.min(max, explicitCap)}, applies`);
      }
      explicitCap = explicitCap === undefined ? max : Math.min(explicitCap, max);
      if (explicitCap !== cap) {
        cap = explicitCap;
        for (const r of recorders.values()) r.capChanged();
      }
    },
    recorder(def) {
      let r = recorders.get(def.name);
      if (!r) {
        r = new SeriesRecorder(registry, def, limits, () => exemplars);
        recorders.set(def.name, r);
      }
      return r;
    },
  };
}

interface SeriesLimits {
  max(): number;
}

/**
 * One metric: label objects prepared once per combination (capped), then handed to prom-client or
 * to our BucketHistogram. Hot path (several calls per message): one short key build and a Map
 * lookup, or a WeakMap lookup for the frozen label objects the wrappers reuse per destination.
 */
class SeriesRecorder implements RecorderV1 {
  private readonly metric: AnyMetric;
  /** Counter/gauge deltas not yet handed to prom-client (flushed when it collects). */
  private readonly pending: Map<SeriesLabels, CounterCell> | undefined;
  private readonly names: readonly string[];
  readonly isCounter: boolean;
  /** Our histogram, when this metric is one (a foreign one is driven through prom-client's API). */
  readonly histogram: BucketHistogram | undefined;
  /** Bumped when the cap changes: cells bound under the old cap rebind. */
  generation = 0;
  /** Admitted series: collision-free key → the label object prom-client gets. Bounded by the cap. */
  private readonly admitted = new Map<string, SeriesLabels>();
  /** Over-cap combinations → their overflow label object (bounded, cleared when full). */
  private readonly overflowByKey = new Map<string, SeriesLabels>();
  /** One overflow label object per combination of low-cardinality values. */
  private readonly overflowSeries = new Map<string, SeriesLabels>();
  /** Same lookups by the label object itself, for frozen ones. */
  private byIdentity = new WeakMap<MetricLabels, SeriesLabels>();

  constructor(
    registry: AnyRegistry,
    def: MetricDefinition,
    private readonly limits: SeriesLimits,
    readonly exemplarsOn: () => boolean,
  ) {
    this.names = def.labels;
    this.isCounter = def.type === 'counter';
    const { metric, pending } = createOrReuse(registry, def);
    this.metric = metric;
    this.pending = pending;
    this.histogram = metric instanceof BucketHistogram ? metric : undefined;
  }

  inc(labels: MetricLabels, value: number): void {
    // prom-client throws on a negative counter increment when it collects, failing every later scrape.
    if (!Number.isFinite(value) || (this.isCounter && value < 0)) return;
    this.incPrepared(this.prepare(labels), value);
  }

  /** `inc` of labels already prepared (value checked by the caller). */
  incPrepared(l: SeriesLabels, value: number): void {
    const cell = this.counterCell(l);
    if (cell) {
      cell.value += value;
      cell.dirty = true;
    } else (this.metric as Counter<string>).inc(l, value);
  }

  /** The pending sum of a prepared series; undefined for a metric registered elsewhere (updated directly). */
  counterCell(l: SeriesLabels): CounterCell | undefined {
    const pending = this.pending;
    if (!pending) return undefined;
    let cell = pending.get(l);
    if (!cell) {
      cell = { labels: l, value: 0, dirty: false };
      pending.set(l, cell);
    }
    return cell;
  }

  cell(labels: MetricLabels): MetricCell {
    return new BoundCell(this, labels);
  }

  add(labels: MetricLabels, delta: number): void {
    this.inc(labels, delta);
  }

  observe(labels: MetricLabels, value: number, exemplarFrom: SpanContext | undefined): void {
    this.observePrepared(this.prepare(labels), value, exemplarFrom);
  }

  observePrepared(l: SeriesLabels, value: number, exemplarFrom: SpanContext | undefined): void {
    const metric = this.metric;
    if (metric instanceof BucketHistogram) {
      metric.observe(l, value, this.exemplarsOn() ? exemplarOf(exemplarFrom) : undefined);
      return;
    }
    // A histogram of this name registered elsewhere: prom-client's own API.
    const h = metric as Histogram<string>;
    if ((h as unknown as { enableExemplars?: boolean }).enableExemplars === true) h.observe({ labels: l, value, exemplarLabels: exemplarOf(exemplarFrom) ?? {} });
    else h.observe(l, value);
  }

  /** A different cap: over-cap mappings made under the old one no longer hold. */
  capChanged(): void {
    this.overflowByKey.clear();
    this.byIdentity = new WeakMap();
    this.generation++;
  }

  prepare(labels: MetricLabels): SeriesLabels {
    const known = this.byIdentity.get(labels);
    if (known) return known;
    const key = seriesKey(this.names, labels);
    let prepared = this.admitted.get(key) ?? this.overflowByKey.get(key);
    if (!prepared) {
      if (this.admitted.size < this.limits.max()) {
        prepared = this.clean(labels);
        this.admitted.set(key, prepared);
      } else {
        prepared = this.overflowFor(labels);
        if (this.overflowByKey.size >= MAX_OVERFLOW_CACHE) this.overflowByKey.clear();
        this.overflowByKey.set(key, prepared);
      }
    }
    if (Object.isFrozen(labels)) this.byIdentity.set(labels, prepared);
    return prepared;
  }

  /** The declared labels that are set, as text, frozen: a series key by identity and prom-client's label object. */
  private clean(labels: MetricLabels): SeriesLabels {
    const out: Record<string, string> = {};
    for (const name of this.names) {
      const v = labels[name as LabelName];
      if (v !== undefined) out[name] = String(v);
    }
    return Object.freeze(out);
  }

  private overflowFor(labels: MetricLabels): SeriesLabels {
    let key = '';
    for (const name of this.names) {
      const v = labels[name as LabelName];
      key += v === undefined ? '-' : LOW_CARDINALITY.has(name) ? token(String(v)) : '*';
    }
    let series = this.overflowSeries.get(key);
    if (!series) {
      const out: Record<string, string> = {};
      for (const name of this.names) {
        const v = labels[name as LabelName];
        if (v !== undefined) out[name] = LOW_CARDINALITY.has(name) ? String(v) : LABEL_OVERFLOW_VALUE;
      }
      series = Object.freeze(out);
      this.overflowSeries.set(key, series);
    }
    return series;
  }
}

/** `value` length-prefixed, so no value can be mistaken for a separator or for two values. */
function token(value: string): string {
  return `${value.length}:${value}`;
}

/** A key that tells every combination of label values apart, whatever characters they contain. */
function seriesKey(names: readonly string[], labels: MetricLabels): string {
  let key = '';
  for (let i = 0; i < names.length; i++) {
    const v = labels[names[i] as LabelName];
    key += v === undefined ? '-' : token(typeof v === 'string' ? v : String(v));
  }
  return key;
}

/** Exemplar labels from a sampled span only: an unsampled trace was never recorded, so it cannot be opened. */
function exemplarOf(from: SpanContext | undefined): Record<string, string> | undefined {
  const ctx = from ?? trace.getActiveSpan()?.spanContext();
  if (!ctx || (ctx.traceFlags & TraceFlags.SAMPLED) === 0 || !isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/**
 * Counters and gauges are bumped per message; prom-client hashes the label set on every call. Ours
 * add to a Map keyed by the (cached, identical) label object instead and hand prom-client the sums
 * when it collects, i.e. on every scrape, so what Prometheus reads is exact and the hot path cheap.
 * A metric of the same name registered by someone else is reused and updated directly.
 */
function createOrReuse(registry: AnyRegistry, def: MetricDefinition): { metric: AnyMetric; pending: Map<SeriesLabels, CounterCell> | undefined } {
  // An OpenMetrics registry renames counters to drop "_total" once scraped; look for both names.
  const found: Metric | undefined = registry.getSingleMetric(def.name) ?? registry.getSingleMetric(def.name.replace(/_total$/, ''));
  if (found) return { metric: found as AnyMetric, pending: undefined };
  const base = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [registry] };
  const pending = new Map<SeriesLabels, CounterCell>();
  function flush(this: Counter<string> | Gauge<string>): void {
    // Cells stay (bound ones hold them); only their sums move to prom-client.
    for (const cell of pending.values()) {
      if (!cell.dirty) continue;
      this.inc(cell.labels, cell.value);
      cell.value = 0;
      cell.dirty = false;
    }
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
