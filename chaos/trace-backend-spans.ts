import type { SpanRecord } from './types';

/**
 * The pure half of reading spans back from a trace backend: which traces to ask for, the span
 * records the traces invariant reads made from what the backend answered, and which traces to ask
 * again because the backend holds fewer of their spans than were exported (it may still be
 * ingesting them). Unit-tested over plain objects; the I/O is in trace-backend-jaeger.ts.
 */

/** The span facts a backend answers with (a subset of @eda-harness/environment's TraceSpan). */
export interface BackendSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string | undefined;
  readonly name: string;
  /** 'producer', 'consumer', 'client', 'server', 'internal', … */
  readonly kind: string;
  /** Start and duration, when the backend gives them: the record's time is the span's end. */
  readonly startTimeUnixMs?: number;
  readonly durationMs?: number;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/** A trace id as a backend indexes it: 32 lower-case hex digits, or undefined when it is not one. */
export function normalTraceId(id: string | undefined): string | undefined {
  const t = id?.toLowerCase();
  return t !== undefined && TRACE_ID.test(t) && !/^0+$/.test(t) ? t : undefined;
}

/**
 * The traces to read back: the one of every delivery's `traceparent` and of every producer span
 * the harness exported, each once, in first-seen order. An id that is not a valid trace id (a
 * garbled header) is left out: there is nothing to ask for, and the invariant breaks that message
 * on its own.
 */
export function traceIdsToFetch(deliveries: readonly { readonly producerTraceId?: string | undefined }[], exported: readonly Pick<SpanRecord, 'kind' | 'traceId'>[]): string[] {
  const ids = new Set<string>();
  for (const d of deliveries) {
    const t = normalTraceId(d.producerTraceId);
    if (t) ids.add(t);
  }
  for (const s of exported) {
    if (s.kind !== 'producer') continue;
    const t = normalTraceId(s.traceId);
    if (t) ids.add(t);
  }
  return [...ids];
}

const kindOf = (k: string): SpanRecord['kind'] => (k === 'producer' ? 'producer' : k === 'consumer' ? 'consumer' : 'other');

/** The invariant's span records of what a backend answered: each span once (a trace read twice is not doubled). */
export function spanRecordsOf(spans: readonly BackendSpan[]): SpanRecord[] {
  const seen = new Set<string>();
  const out: SpanRecord[] = [];
  for (const s of spans) {
    const traceId = s.traceId.toLowerCase();
    const spanId = s.spanId.toLowerCase();
    const key = `${traceId}/${spanId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const parent = s.parentSpanId ? s.parentSpanId.toLowerCase() : undefined;
    const end = s.startTimeUnixMs !== undefined ? Math.round(s.startTimeUnixMs + (s.durationMs ?? 0)) : undefined;
    out.push({ name: s.name, kind: kindOf(s.kind), traceId, spanId, parentSpanId: parent, ...(end === undefined ? {} : { atMs: end }) });
  }
  return out;
}

/** Spans exported per trace, counted by the exporter: what the backend should hold when it has them all. */
export function exportedPerTrace(spans: readonly Pick<SpanRecord, 'traceId'>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of spans) {
    const t = s.traceId.toLowerCase();
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

/**
 * The traces worth asking for again: fewer spans read than were exported. A trace that holds as
 * many is complete; one the harness exported nothing of (a delivery's trace only) is asked once.
 */
export function incompleteTraces(asked: readonly string[], read: ReadonlyMap<string, number>, exported: ReadonlyMap<string, number>): string[] {
  return asked.filter((t) => (read.get(t) ?? 0) < (exported.get(t) ?? 0));
}

/** `items` in batches of `size` (the last one shorter). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
