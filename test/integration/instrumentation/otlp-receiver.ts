import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../../core/wait-for';

/** A span as decoded from OTLP/JSON, with ids in hex and attributes as plain values. */
export interface ReceivedSpan {
  readonly serviceName: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Record<string, unknown>;
  readonly links: ReadonlyArray<{ traceId: string; spanId: string }>;
  readonly status: { code?: number; message?: string };
  readonly events: ReadonlyArray<{ name: string }>;
}

/** OTLP span kinds (proto enum values). */
export const OTLP_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export const OTLP_STATUS_ERROR = 2;

/** An OTLP/HTTP trace receiver that accepts the JSON encoding, for asserting on exported spans. */
export interface OtlpReceiver {
  /** Base URL of the /v1/traces endpoint. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly requests: number;
  /** Content types seen, to prove what went over the wire. */
  readonly contentTypes: Set<string>;
  close(): Promise<void>;
}

function toHex(id: unknown): string {
  if (typeof id !== 'string' || id === '') return '';
  // The JS exporter writes hex in JSON; the OTLP spec's proto3 JSON mapping would be base64.
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

function anyValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v['stringValue'];
  if ('boolValue' in v) return v['boolValue'];
  if ('intValue' in v) return Number(v['intValue']);
  if ('doubleValue' in v) return v['doubleValue'];
  if ('arrayValue' in v) return ((v['arrayValue'] as { values?: Record<string, unknown>[] }).values ?? []).map(anyValue);
  return undefined;
}

function attributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of (list as Array<{ key: string; value: Record<string, unknown> }> | undefined) ?? []) out[a.key] = anyValue(a.value);
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      contentTypes.add(String(req.headers['content-type']));
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: unknown[] };
      for (const rs of (body.resourceSpans ?? []) as Array<{ resource?: { attributes?: unknown }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>) {
        const serviceName = attributes(rs.resource?.attributes)['service.name'] as string | undefined;
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              serviceName,
              name: s['name'] as string,
              kind: s['kind'] as number,
              traceId: toHex(s['traceId']),
              spanId: toHex(s['spanId']),
              parentSpanId: toHex(s['parentSpanId']) || undefined,
              startNs: BigInt(String(s['startTimeUnixNano'])),
              endNs: BigInt(String(s['endTimeUnixNano'])),
              attributes: attributes(s['attributes']),
              links: ((s['links'] as Array<{ traceId: string; spanId: string }> | undefined) ?? []).map((l) => ({ traceId: toHex(l.traceId), spanId: toHex(l.spanId) })),
              status: (s['status'] as { code?: number; message?: string }) ?? {},
              events: (s['events'] as Array<{ name: string }> | undefined) ?? [],
            });
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    get requests() {
      return requests;
    },
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Waits until the receiver holds spans matching `predicate` and returns all it holds. `flush` (an
 * in-process SDK's forceFlush) runs before each look; an app in a child process flushes itself.
 */
export function receivedSpans(
  receiver: OtlpReceiver,
  description: string,
  predicate: (spans: ReceivedSpan[]) => boolean,
  options: { readonly flush?: () => Promise<void>; readonly timeoutMs?: number } = {},
): Promise<ReceivedSpan[]> {
  return waitFor(
    async () => {
      await options.flush?.();
      return predicate(receiver.spans) ? receiver.spans : undefined;
    },
    { description, timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 250 },
  );
}

export function durationMs(s: ReceivedSpan): number {
  return Number(s.endNs - s.startNs) / 1e6;
}
