import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The harness's OTLP/HTTP trace receiver for a service under test: accepts `POST /v1/traces` in
 * the JSON encoding (the harness sets OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json for the
 * services it starts) and hands each span to `onSpan`. A protobuf request is answered 415 and
 * reported once through `onProblem`, so a service exporting protobuf is told rather than ignored.
 */

export interface ReceivedServiceSpan {
  readonly serviceName: string | undefined;
  readonly name: string;
  readonly kind: 'producer' | 'consumer' | 'other';
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  /** End time, epoch milliseconds. */
  readonly endMs: number;
}

export interface ServiceOtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces). */
  readonly endpoint: string;
  close(): Promise<void>;
}

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
    const serviceName = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = hexId(s['parentSpanId']);
        out.push({
          serviceName,
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

export async function startServiceOtlpReceiver(onSpan: (s: ReceivedServiceSpan) => void, onProblem: (message: string) => void): Promise<ServiceOtlpReceiver> {
  const told = new Set<string>();
  const problem = (m: string): void => {
    if (told.has(m)) return;
    told.add(m);
    onProblem(m);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = String(req.headers['content-type'] ?? '');
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!type.includes('json')) {
        problem(`the service exported spans as ${type || 'an unknown content type'}; the harness's receiver reads OTLP/JSON: set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json`);
        res.writeHead(415).end();
        return;
      }
      try {
        for (const s of spansOfOtlpJson(JSON.parse(Buffer.concat(chunks).toString('utf8')))) onSpan(s);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        problem(`an OTLP export could not be read: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
