import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import type { Registry, RegistryContentType } from 'prom-client';
import type { TraceSpan } from '@eda-harness/environment';

/**
 * Pure pieces of the `npm start` demo's live summary: quantiles from a prom-client histogram (the
 * way PromQL's histogram_quantile reads buckets), counter totals, and a trace drawn as a tree.
 */

export interface Bucket {
  readonly le: number;
  /** Cumulative count of observations ≤ le. */
  readonly count: number;
}

/** Linear interpolation inside the bucket holding the q-quantile, as Prometheus does. */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

async function values(registry: Registry<RegistryContentType>, name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const got = (await metric.get()) as { values: MetricValue[] };
  return got.values;
}

type LabelFilter = Record<string, string> | ((labels: Record<string, string | number>) => boolean);

function matches(labels: Record<string, string | number>, where: LabelFilter): boolean {
  if (typeof where === 'function') return where(labels);
  return Object.entries(where).every(([k, want]) => String(labels[k]) === want);
}

/** Sum of a counter over the series whose labels match `where`. */
export async function counterTotal(registry: Registry<RegistryContentType>, name: string, where: LabelFilter = {}): Promise<number> {
  return (await values(registry, name)).filter((v) => matches(v.labels, where)).reduce((sum, v) => sum + v.value, 0);
}

/** A histogram's buckets summed over the series whose labels match `where`. */
export async function histogramBuckets(registry: Registry<RegistryContentType>, name: string, where: LabelFilter = {}): Promise<Bucket[]> {
  const byLe = new Map<number, number>();
  for (const v of await values(registry, name)) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    if (!matches(v.labels, where)) continue;
    const le = v.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + v.value);
  }
  return [...byLe.entries()].map(([le, count]) => ({ le, count }));
}

const KIND: Record<number, string> = {
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.SERVER]: 'server',
  [SpanKind.INTERNAL]: 'internal',
};

/** The span's parent span id (SDK 2 `parentSpanContext`, older SDKs `parentSpanId`). */
export function parentId(span: ReadableSpan): string | undefined {
  const s = span as ReadableSpan & { parentSpanId?: string; parentSpanContext?: { spanId: string } };
  return s.parentSpanContext?.spanId ?? s.parentSpanId;
}

/** One span as the tree needs it: from the SDK's ReadableSpan (in memory) or Jaeger's TraceSpan (its query API). */
export interface TreeSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly service: string;
  readonly name: string;
  /** producer, consumer, server, … */
  readonly kind: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly error: boolean;
}

/** A span recorded in this process, for the tree. */
export function treeSpanOfReadable(s: ReadableSpan, serviceOf: (span: ReadableSpan) => string): TreeSpan {
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: parentId(s),
    service: serviceOf(s),
    name: s.name,
    kind: KIND[s.kind] ?? String(s.kind),
    startMs: s.startTime[0] * 1e3 + s.startTime[1] / 1e6,
    durationMs: s.duration[0] * 1e3 + s.duration[1] / 1e6,
    error: s.status.code === 2,
  };
}

/** A span as Jaeger's query API returned it (TraceSpan of @eda-harness/environment), for the tree. */
export function treeSpanOfTrace(s: TraceSpan): TreeSpan {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    service: s.service,
    name: s.name,
    kind: s.kind,
    startMs: s.startTimeUnixMs,
    durationMs: s.durationMs,
    error: s.statusCode === 'error',
  };
}

/**
 * Draws the spans of one trace as a tree: each line is `service: name (kind, duration)`. Spans
 * whose parent is not in the set (or that only link to it) hang from the root; siblings in start
 * order.
 */
export function renderSpanTree(spans: readonly TreeSpan[]): string {
  if (spans.length === 0) return '(no spans)';
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, TreeSpan[]>();
  for (const s of spans) {
    const key = s.parentSpanId !== undefined && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
    children.set(key, [...(children.get(key) ?? []), s]);
  }
  const lines: string[] = [`trace ${spans[0]?.traceId}`];
  const walk = (parent: string | undefined, prefix: string): void => {
    const kids = [...(children.get(parent) ?? [])].sort((a, b) => a.startMs - b.startMs);
    kids.forEach((s, i) => {
      const last = i === kids.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${s.service}: ${s.name} (${s.kind}, ${s.durationMs.toFixed(1)} ms)${s.error ? ' ERROR' : ''}`);
      walk(s.spanId, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(undefined, '');
  return lines.join('\n');
}

/** {@link renderSpanTree} over spans recorded in this process. */
export function renderTraceTree(spans: readonly ReadableSpan[], serviceOf: (span: ReadableSpan) => string): string {
  return renderSpanTree(spans.map((s) => treeSpanOfReadable(s, serviceOf)));
}
