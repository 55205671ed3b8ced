import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { spansOfOtlpProtobuf } from './otlp-protobuf';

/**
 * The harness's OTLP/HTTP trace receiver for a service under test: accepts `POST /v1/traces` in
 * both OTLP/HTTP encodings, protobuf (`application/x-protobuf`, what the OpenTelemetry SDKs send
 * by default: OTEL_EXPORTER_OTLP_PROTOCOL defaults to http/protobuf) and JSON
 * (`application/json`), either gzip-compressed or not, and hands each span to `onSpan`. It answers
 * an empty ExportTraceServiceResponse in the request's encoding. A body it cannot read is answered
 * 400, counted, and reported through `onProblem` (each distinct message once), never thrown.
 */

export interface ReceivedServiceSpan {
  readonly serviceName: string | undefined;
  /** The resource's service.version, when it has one. */
  readonly serviceVersion?: string;
  readonly name: string;
  readonly kind: 'producer' | 'consumer' | 'other';
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  /** End time, epoch milliseconds. */
  readonly endMs: number;
}

export interface ReceiverStats {
  readonly accepted: number;
  /** Of those, the ones in protobuf (the rest were JSON). */
  readonly protobuf: number;
  readonly spans: number;
  readonly rejected: number;
  /** Metrics and logs exports (same base URL by default): answered with success, not read. */
  readonly ignored: number;
}

/** What the receiver passed on to a trace backend (`relayTo`): spans per trace, and how many did not get there. */
export interface RelayStats {
  readonly perTrace: ReadonlyMap<string, number>;
  readonly spans: number;
  readonly failed: number;
  readonly lastError: string | undefined;
}

export interface ServiceOtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces). */
  readonly endpoint: string;
  /** Trace export requests answered so far: accepted (with their spans) and refused (400, 404, 413, 415). */
  stats(): ReceiverStats;
  /** What was relayed to `relayTo` (all zero without one). */
  relayed(): RelayStats;
  /** Ends the server once every relay in flight has settled. */
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /**
   * An OTLP/HTTP base URL (a Jaeger's) every accepted trace export is passed on to, as it came
   * (same bytes, content type and encoding): the service's spans reach the backend too, while the
   * harness still sees them live. A relay that fails is counted and said once, never thrown.
   */
  readonly relayTo?: string;
}

const RELAY_TIMEOUT_MS = 10_000;

/** OTLP span kinds (proto enum): 4 producer, 5 consumer. */
const kindOf = (k: unknown): ReceivedServiceSpan['kind'] => (k === 4 || k === 'SPAN_KIND_PRODUCER' ? 'producer' : k === 5 || k === 'SPAN_KIND_CONSUMER' ? 'consumer' : 'other');

/** Ids are hex in the JS exporter's JSON; the proto3 JSON mapping would make them base64. */
export function hexId(id: unknown): string {
  if (typeof id !== 'string' || id === '') return '';
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

interface JsonAttribute {
  readonly key?: string;
  readonly value?: { readonly stringValue?: string };
}

/** The spans of one OTLP/JSON export request body (pure: unit-tested). */
export function spansOfOtlpJson(body: unknown): ReceivedServiceSpan[] {
  const out: ReceivedServiceSpan[] = [];
  const resourceSpans = (body as { resourceSpans?: unknown } | null)?.resourceSpans;
  if (!Array.isArray(resourceSpans)) return out;
  for (const rs of resourceSpans as { resource?: { attributes?: JsonAttribute[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]) {
    const attribute = (key: string): string | undefined => rs.resource?.attributes?.find((a) => a.key === key)?.value?.stringValue;
    const serviceName = attribute('service.name');
    const serviceVersion = attribute('service.version');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = hexId(s['parentSpanId']);
        out.push({
          serviceName,
          ...(serviceVersion === undefined ? {} : { serviceVersion }),
          name: String(s['name']),
          kind: kindOf(s['kind']),
          traceId: hexId(s['traceId']),
          spanId: hexId(s['spanId']),
          parentSpanId: parent === '' ? undefined : parent,
          endMs: Math.round(Number(String(s['endTimeUnixNano'] ?? '0')) / 1e6),
        });
      }
    }
  }
  return out;
}

/** Largest export body accepted, compressed or not (the SDK's batches are far smaller). */
export const MAX_EXPORT_BYTES = 32 * 1024 * 1024;

export type OtlpEncoding = 'protobuf' | 'json';

/** The encoding a Content-Type names, or undefined for one OTLP/HTTP does not define. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

/** The spans of one export body in `encoding` (already decompressed). Throws on a body it cannot read. */
export function spansOfOtlpBody(body: Buffer, encoding: OtlpEncoding): ReceivedServiceSpan[] {
  if (encoding === 'protobuf') return spansOfOtlpProtobuf(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Error(`the body is not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the body is not a JSON object (an ExportTraceServiceRequest is {"resourceSpans":[…]})');
  return spansOfOtlpJson(parsed);
}

const gunzipped = (body: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => gunzip(body, { maxOutputLength: MAX_EXPORT_BYTES }, (err, out) => (err ? reject(new Error(`the gzip body could not be decompressed (${err.message})`)) : resolve(out))));

export async function startServiceOtlpReceiver(onSpan: (s: ReceivedServiceSpan) => void, onProblem: (message: string) => void, options: ReceiverOptions = {}): Promise<ServiceOtlpReceiver> {
  const told = new Set<string>();
  const problem = (m: string): void => {
    if (told.has(m)) return;
    told.add(m);
    onProblem(m);
  };
  let accepted = 0;
  let spans = 0;
  let rejected = 0;
  let ignored = 0;
  let protobuf = 0;
  const relayTarget = options.relayTo === undefined ? undefined : `${options.relayTo.replace(/\/+$/, '')}/v1/traces`;
  const relayPerTrace = new Map<string, number>();
  let relayedSpans = 0;
  let relayFailed = 0;
  let relayError: string | undefined;
  const relaying = new Set<Promise<void>>();
  /** Passes one accepted export on to the backend, as it came. */
  const relay = (raw: Buffer, headers: Record<string, string>, spanList: readonly ReceivedServiceSpan[]): void => {
    if (relayTarget === undefined || spanList.length === 0) return;
    for (const s of spanList) relayPerTrace.set(s.traceId, (relayPerTrace.get(s.traceId) ?? 0) + 1);
    relayedSpans += spanList.length;
    const failed = (why: string): void => {
      relayFailed += spanList.length;
      relayError = why;
      problem(`relaying the service's spans to ${relayTarget} failed: ${why}`);
    };
    const p = new Promise<void>((settle) => {
      const req = request(relayTarget, { method: 'POST', timeout: RELAY_TIMEOUT_MS, headers: { ...headers, 'content-length': raw.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) failed(`HTTP ${res.statusCode ?? '?'}`);
          settle();
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${RELAY_TIMEOUT_MS} ms`)));
      req.on('error', (err) => {
        failed(err.message);
        settle();
      });
      req.end(raw);
    });
    relaying.add(p);
    void p.finally(() => relaying.delete(p));
  };
  const refuse = (res: ServerResponse, status: number, message: string | undefined): void => {
    rejected++;
    if (message !== undefined) problem(message);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(message ?? '');
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_EXPORT_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', (err) => problem(`an OTLP export request failed while it was read: ${err.message}`));
    req.on('end', () => {
      const path = req.url?.split('?')[0];
      if (req.method === 'POST' && (path === '/v1/metrics' || path === '/v1/logs')) {
        // The SDK sends its metrics and logs to the same base URL by default: taken and dropped,
        // so the service's exporter does not log failures for signals the harness does not read.
        ignored++;
        if (otlpEncodingOf(req.headers['content-type']) === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      if (req.method !== 'POST' || path !== '/v1/traces') {
        refuse(res, 404, `the harness's OTLP receiver takes POST /v1/traces, not ${req.method ?? '?'} ${req.url ?? '?'}: set OTEL_EXPORTER_OTLP_ENDPOINT to the base URL (the SDK appends /v1/traces) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to the full one`);
        return;
      }
      const type = req.headers['content-type'];
      const encoding = otlpEncodingOf(type);
      if (encoding === undefined) {
        refuse(res, 415, `the service exported spans as ${type || 'an unknown content type'}; the harness's receiver reads OTLP/HTTP as application/x-protobuf or application/json: set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL to http/protobuf or http/json (grpc is not received)`);
        return;
      }
      if (tooLarge) {
        refuse(res, 413, `an OTLP export of more than ${MAX_EXPORT_BYTES} bytes was refused: lower the batch size (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)`);
        return;
      }
      const contentEncoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
        refuse(res, 415, `the service compressed its OTLP export with ${contentEncoding}; the harness's receiver reads gzip or uncompressed: set OTEL_EXPORTER_OTLP_TRACES_COMPRESSION to gzip or none`);
        return;
      }
      const raw = Buffer.concat(chunks);
      void (async () => {
        let received: ReceivedServiceSpan[];
        try {
          received = spansOfOtlpBody(contentEncoding === 'gzip' ? await gunzipped(raw) : raw, encoding);
        } catch (err) {
          refuse(res, 400, `an OTLP/HTTP ${encoding} export (${raw.length} bytes${contentEncoding === 'gzip' ? ', gzip' : ''}) could not be read: ${(err as Error).message}; its spans are lost (does the service export traces with an OTLP/HTTP exporter?)`);
          return;
        }
        accepted++;
        relay(raw, { 'content-type': String(type), ...(contentEncoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}) }, received);
        if (encoding === 'protobuf') protobuf++;
        spans += received.length;
        for (const s of received) {
          try {
            onSpan(s);
          } catch (err) {
            problem(`a received span could not be recorded: ${(err as Error).message}`);
          }
        }
        // An empty ExportTraceServiceResponse: no bytes in protobuf, {} in JSON.
        if (encoding === 'protobuf') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      })();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ accepted, protobuf, spans, rejected, ignored }),
    relayed: () => ({ perTrace: relayPerTrace, spans: relayedSpans, failed: relayFailed, lastError: relayError }),
    close: async () => {
      await Promise.all([...relaying]);
      await new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      });
    },
  };
}
