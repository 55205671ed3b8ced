import type { Registry, RegistryContentType } from 'prom-client';

interface Exemplar {
  readonly labelSet: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number;
}

/** An exemplar kept as the trace ids of a sampled span: its label object is built at scrape time. */
interface TraceExemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  readonly timestamp: number;
}

/** One series of a {@link BucketHistogram}, for callers that hold it (pre-bound metric cells). */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  readonly exemplars: Array<Exemplar | TraceExemplar | undefined>;
  sum: number;
  count: number;
}

function formatExemplar(e: Exemplar | TraceExemplar | undefined): Exemplar | null {
  if (e === undefined) return null;
  if ('labelSet' in e) return e;
  return { labelSet: { trace_id: e.traceId, span_id: e.spanId }, value: e.value, timestamp: e.timestamp };
}

interface Sample {
  labels: Record<string, string | number>;
  sharedLabels: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
  exemplar: Exemplar | null | undefined;
}

/**
 * A Prometheus histogram that prom-client's registry exposes exactly like its own (same text and
 * OpenMetrics output, exemplars included), built for the per-message hot path: series are found by
 * the identity of the (cached, frozen) label object the metrics layer passes, and an observation
 * is one short bucket scan and three additions. prom-client's Histogram re-validates and re-hashes
 * the labels on every observation, which was the largest cost of the consumer wrappers.
 */
export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<Readonly<Record<string, string>>, Series>();
  private readonly bounds: readonly number[];
  /** Bumped by reset(): a series held by a caller from an earlier generation is no longer exposed. */
  generation = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry<RegistryContentType>,
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    registry.registerMetric(this as never);
  }

  /** `labels` must be the same object for the same label values (the metrics layer guarantees it). */
  observe(labels: Readonly<Record<string, string>>, value: number, exemplarLabels?: Readonly<Record<string, string>>): void {
    if (!Number.isFinite(value)) return;
    const i = this.add(this.seriesOf(labels), value);
    if (exemplarLabels) (this.series.get(labels) as Series).exemplars[i] = { labelSet: exemplarLabels, value, timestamp: Date.now() / 1000 };
  }

  /** The series of `labels` (created on first use), to hold and pass to {@link observeSeries}. */
  seriesOf(labels: Readonly<Record<string, string>>): Series {
    let s = this.series.get(labels);
    if (!s) {
      s = { labels, counts: new Float64Array(this.bounds.length + 1), exemplars: [], sum: 0, count: 0 };
      this.series.set(labels, s);
    }
    return s;
  }

  /**
   * One observation into a held series: a bucket scan and three additions. The exemplar, if any,
   * is kept as trace ids (`traceId` undefined: none) and formatted when scraped.
   */
  observeSeries(s: Series, value: number, traceId?: string, spanId?: string, nowMs?: number): void {
    if (!Number.isFinite(value)) return;
    const i = this.add(s, value);
    if (traceId !== undefined && spanId !== undefined) s.exemplars[i] = { traceId, spanId, value, timestamp: (nowMs ?? Date.now()) / 1000 };
  }

  private add(s: Series, value: number): number {
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > (bounds[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += value;
    s.count += 1;
    return i;
  }

  reset(): void {
    this.series.clear();
    this.generation++;
  }

  /** What prom-client's registry formats for /metrics. */
  async getForPromString(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += s.counts[i] ?? 0;
        const le: string | number = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucketName, exemplar: formatExemplar(s.exemplars[i]) });
      }
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's JSON form: the series labels merged into each sample's labels. */
  async get(): Promise<{ name: string; help: string; type: string; values: Array<Omit<Sample, 'sharedLabels'>>; aggregator: string }> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } })) };
  }
}
