import { ConfigError, HttpRequestError, TimeoutError, requestJson, waitFor } from '@eda-harness/core';

/**
 * A client of Jaeger's query API (v3, `/api/v3/…`), which answers in OTLP JSON: span and trace ids
 * as lower-case hex, typed attributes, links and status as the services sent them. Parsing (pure,
 * `parseOtlpTraces` and friends) is kept apart from fetching (`jaegerQuery`).
 */

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
export type SpanStatusName = 'unset' | 'ok' | 'error';

/** One span as Jaeger stored it. */
export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** The resource's `service.name` ("unknown" when it has none). */
  readonly service: string;
  readonly kind: SpanKindName;
  readonly startTimeUnixMs: number;
  readonly durationMs: number;
  /** Scalar attributes as typed; arrays, maps and bytes as their JSON text. */
  readonly attributes: Record<string, string | number | boolean>;
  readonly links: { traceId: string; spanId: string }[];
  readonly statusCode: SpanStatusName;
}

export interface WaitForTraceOptions {
  /** At least this many spans (default 1). */
  readonly minSpans?: number;
  /** Every one of these services has a span in it. */
  readonly services?: readonly string[];
  /** Default 15 s. */
  readonly timeoutMs?: number;
}

export interface FindTracesOptions {
  readonly service: string;
  /** Most traces returned (default 20). */
  readonly limit?: number;
  /** How far back from now (default 1 hour). */
  readonly lookbackMs?: number;
  /** Only traces with a span of this name in `service`. */
  readonly operation?: string;
}

export interface JaegerQuery {
  /** Every service Jaeger has spans of. */
  services(): Promise<string[]>;
  /** The spans of one trace, sorted by start time; [] when Jaeger has no such trace. */
  trace(traceId: string): Promise<TraceSpan[]>;
  /** Polls `trace` until it has `minSpans` spans and a span of every one of `services`; the timeout says what it saw. */
  waitForTrace(traceId: string, options?: WaitForTraceOptions): Promise<TraceSpan[]>;
  /** Recent traces having a span of `service` (each sorted by start time). */
  findTraces(options: FindTracesOptions): Promise<TraceSpan[][]>;
}

// ----------------------------------------------------------------------------------- parsing

/** OTLP JSON as the query API writes it (the fields read here). */
interface OtlpAnyValue {
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: string | number;
  readonly doubleValue?: number | string;
  readonly arrayValue?: unknown;
  readonly kvlistValue?: unknown;
  readonly bytesValue?: string;
}
interface OtlpKeyValue {
  readonly key?: string;
  readonly value?: OtlpAnyValue;
}
interface OtlpSpan {
  readonly traceId?: string;
  readonly spanId?: string;
  readonly parentSpanId?: string;
  readonly name?: string;
  readonly kind?: number | string;
  readonly startTimeUnixNano?: string | number;
  readonly endTimeUnixNano?: string | number;
  readonly attributes?: readonly OtlpKeyValue[];
  readonly links?: readonly { traceId?: string; spanId?: string }[];
  readonly status?: { code?: number | string };
}
interface OtlpTraces {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly OtlpKeyValue[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly OtlpSpan[] }[];
  }[];
}

/** Thrown by the parser for a body that is not the query API's OTLP JSON. */
export class JaegerResponseError extends HttpRequestError {}

const KINDS: readonly SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES: readonly SpanStatusName[] = ['unset', 'ok', 'error'];

/** An OTLP enum given as its number (protojson's default) or its name ("SPAN_KIND_SERVER"). */
function enumName<T extends string>(value: number | string | undefined, names: readonly T[], prefix: string): T {
  if (value === undefined) return names[0] as T;
  if (typeof value === 'number') return names[value] ?? (names[0] as T);
  const name = value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value.toLowerCase();
  return (names as readonly string[]).includes(name) ? (name as T) : (names[0] as T);
}

/** Nanoseconds (a decimal string, to keep their precision) to milliseconds. */
function nanosToMs(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const n = BigInt(typeof value === 'number' ? Math.trunc(value) : value);
  return Number(n / 1_000_000n) + Number(n % 1_000_000n) / 1e6;
}

/** An OTLP value as a TraceSpan attribute: scalars as typed (int64 as a number), the rest as JSON. */
export function attributeValue(value: OtlpAnyValue | undefined): string | number | boolean {
  if (value === undefined) return '';
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined) return JSON.stringify(value.arrayValue);
  if (value.kvlistValue !== undefined) return JSON.stringify(value.kvlistValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return '';
}

function attributes(list: readonly OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) if (kv.key !== undefined) out[kv.key] = attributeValue(kv.value);
  return out;
}

const hex = (id: string | undefined): string => (id ?? '').toLowerCase();

/**
 * Every span of an OTLP JSON `TracesData` (the query API's `result`), in the order given. A span
 * without a trace or span id is an error: Jaeger never stores one.
 */
export function parseOtlpTraces(data: unknown): TraceSpan[] {
  if (typeof data !== 'object' || data === null || (data as OtlpTraces).resourceSpans === undefined || !Array.isArray((data as OtlpTraces).resourceSpans)) {
    throw new JaegerResponseError(`Jaeger's answer is not OTLP trace data (no resourceSpans): ${JSON.stringify(data)?.slice(0, 200)}`);
  }
  const spans: TraceSpan[] = [];
  for (const rs of (data as OtlpTraces).resourceSpans ?? []) {
    const service = attributes(rs.resource?.attributes)['service.name'];
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        if (!s.traceId || !s.spanId) throw new JaegerResponseError(`Jaeger's answer holds a span without ids: ${JSON.stringify(s).slice(0, 200)}`);
        const start = nanosToMs(s.startTimeUnixNano);
        spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: s.parentSpanId ? hex(s.parentSpanId) : undefined,
          name: s.name ?? '',
          service: typeof service === 'string' && service !== '' ? service : 'unknown',
          kind: enumName(s.kind, KINDS, 'SPAN_KIND_'),
          startTimeUnixMs: start,
          durationMs: Math.max(0, nanosToMs(s.endTimeUnixNano) - start),
          attributes: attributes(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          statusCode: enumName(s.status?.code, STATUSES, 'STATUS_CODE_'),
        });
      }
    }
  }
  return spans;
}

const byStart = (a: TraceSpan, b: TraceSpan): number => a.startTimeUnixMs - b.startTimeUnixMs;

/** The query API's answer to `/api/v3/traces/{id}` or a search (`{ result: TracesData }`), grouped by trace, each sorted by start time. */
export function parseTracesResponse(body: unknown): TraceSpan[][] {
  const result = typeof body === 'object' && body !== null ? (body as { result?: unknown }).result : undefined;
  if (result === undefined) throw new JaegerResponseError(`Jaeger's answer has no result: ${JSON.stringify(body)?.slice(0, 200)}`);
  const traces = new Map<string, TraceSpan[]>();
  for (const span of parseOtlpTraces(result)) {
    const list = traces.get(span.traceId);
    if (list) list.push(span);
    else traces.set(span.traceId, [span]);
  }
  return [...traces.values()].map((spans) => spans.sort(byStart));
}

/** `/api/v3/services`: `{ services: [...] }`, or `{}` while Jaeger has none. */
export function parseServicesResponse(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) throw new JaegerResponseError(`Jaeger's services answer is not an object: ${JSON.stringify(body)}`);
  const services = (body as { services?: unknown }).services ?? [];
  if (!Array.isArray(services) || !services.every((s) => typeof s === 'string')) {
    throw new JaegerResponseError(`Jaeger's services answer is not a list of names: ${JSON.stringify(body).slice(0, 200)}`);
  }
  return [...services].sort();
}

/** A W3C trace id: 32 hex digits (an id from OpenTelemetry, in either case). */
export function checkTraceId(traceId: string): string {
  if (!/^[0-9a-fA-F]{32}$/.test(traceId)) throw new ConfigError(`not a trace id (32 hex digits): "${traceId}"`);
  return traceId.toLowerCase();
}

/** What a trace lacks against `options`, or undefined when it has it all (pure; the wait's message). */
export function traceShortfall(spans: readonly TraceSpan[], options: WaitForTraceOptions): string | undefined {
  const minSpans = options.minSpans ?? 1;
  const present = new Set(spans.map((s) => s.service));
  const missing = (options.services ?? []).filter((s) => !present.has(s));
  const problems = [
    ...(spans.length < minSpans ? [`${spans.length} span(s), ${minSpans} wanted`] : []),
    ...(missing.length > 0 ? [`no span of ${missing.join(', ')}`] : []),
  ];
  if (problems.length === 0) return undefined;
  const seen = spans.length === 0 ? 'nothing' : spans.map((s) => `${s.service}: ${s.name}`).join('; ');
  return `${problems.join(' and ')} (seen: ${seen})`;
}

// ---------------------------------------------------------------------------------- fetching

/** A 404 from the query API means "no such trace" / "nothing found", not a failure. */
function isNotFound(err: unknown): boolean {
  return err instanceof HttpRequestError && err.status === 404;
}

/** A client of the Jaeger query API at `queryUrl` (http://host:port, a trailing slash is ignored). */
export function jaegerQuery(queryUrl: string): JaegerQuery {
  const base = queryUrl.replace(/\/+$/, '');
  const getTraces = async (path: string): Promise<TraceSpan[][]> => {
    try {
      return parseTracesResponse(await requestJson<unknown>(`${base}${path}`));
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  };
  const query: JaegerQuery = {
    async services() {
      return parseServicesResponse(await requestJson<unknown>(`${base}/api/v3/services`));
    },
    async trace(traceId) {
      const id = checkTraceId(traceId);
      // raw_traces: the spans as stored, without Jaeger's adjustments.
      const traces = await getTraces(`/api/v3/traces/${id}?raw_traces=true`);
      return traces.find((t) => t[0]?.traceId === id) ?? [];
    },
    async waitForTrace(traceId, options = {}) {
      let last: TraceSpan[] = [];
      const timeoutMs = options.timeoutMs ?? 15_000;
      try {
        return await waitFor(
          async () => {
            last = await query.trace(traceId);
            return traceShortfall(last, options) === undefined ? last : undefined;
          },
          { description: `trace ${traceId} in Jaeger at ${base}`, timeoutMs, intervalMs: 250 },
        );
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        throw new TimeoutError(`trace ${traceId} is not complete in Jaeger at ${base} after ${timeoutMs} ms: ${traceShortfall(last, options) ?? 'it was, at the last look'}`, { cause: err });
      }
    },
    async findTraces(options) {
      const now = Date.now();
      const params = new URLSearchParams({
        'query.service_name': options.service,
        'query.start_time_min': new Date(now - (options.lookbackMs ?? 3_600_000)).toISOString(),
        'query.start_time_max': new Date(now + 60_000).toISOString(),
        'query.num_traces': String(options.limit ?? 20),
        'query.raw_traces': 'true',
      });
      if (options.operation !== undefined) params.set('query.operation_name', options.operation);
      return getTraces(`/api/v3/traces?${params.toString()}`);
    },
  };
  return query;
}
