import type { MetricDefinition } from '@eda-harness/semconv';

/** One series of a {@link RenderedMetric}: what prom-client's registry formats. */
interface SeriesValue {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * One of the exporter's metrics, refilled from the rendered samples after every collection. It
 * stands in for a prom-client Gauge / Counter in the registry (the registry only asks a metric for
 * `get()` and `reset()`), without what makes those costly at 15k series: hashing every label set
 * on each set() (a plain join of names and values is the key here), and writing the page on every
 * scrape: the page of these metrics is written at most once per collection ({@link text}, at the
 * first scrape after it). The text is what prom-client's registry writes for the same series, byte for
 * byte (`registry.metrics()` still works, and is what a user's own registry serves).
 */
export class RenderedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly aggregator = 'sum' as const;
  private readonly series = new Map<string, SeriesValue>();
  private cachedText: string | undefined;

  constructor(def: Pick<MetricDefinition, 'name' | 'help' | 'type'>) {
    this.name = def.name;
    this.help = def.help;
    this.type = def.type === 'counter' ? 'counter' : 'gauge';
  }

  /** Sets a gauge series, or adds to a counter series, as prom-client's set() / inc() would. */
  add(labels: Readonly<Record<string, string>>, value: number): void {
    const key = seriesKey(labels);
    const existing = this.series.get(key);
    if (existing === undefined) this.series.set(key, { labels, value });
    else existing.value = this.type === 'counter' ? existing.value + value : value;
    this.cachedText = undefined;
  }

  reset(): void {
    this.series.clear();
    this.cachedText = undefined;
  }

  /** What prom-client's registry asks of a metric. */
  get(): Promise<{ name: string; help: string; type: 'gauge' | 'counter'; aggregator: 'sum'; values: SeriesValue[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.series.values()] });
  }

  /** The metric's block in the Prometheus text format (no trailing newline), as the registry writes it. */
  text(): string {
    if (this.cachedText === undefined) {
      const name = escapeString(this.name);
      const lines = [`# HELP ${name} ${escapeString(this.help)}`, `# TYPE ${name} ${this.type}`];
      for (const s of this.series.values()) {
        const labels = formatLabels(s.labels);
        lines.push(`${name}${labels === '' ? '' : `{${labels}}`} ${valueText(s.value)}`);
      }
      this.cachedText = lines.join('\n');
    }
    return this.cachedText;
  }
}

/** One series' identity (prom-client hashes the label set likewise; the page text is written later, once). */
function seriesKey(labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const name in labels) key += `${name}\u0001${labels[name]}\u0002`;
  return key;
}

const NEEDS_ESCAPE = /[\\\n"]/;

function formatLabels(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name in labels) {
    const value = labels[name] ?? '';
    out += `${out === '' ? '' : ','}${name}="${NEEDS_ESCAPE.test(value) ? escapeString(value).replace(/"/g, '\\"') : value}"`;
  }
  return out;
}

function escapeString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** prom-client's number format (the exporter never renders NaN or infinities, but the same words). */
function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}
