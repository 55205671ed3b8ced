import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OtlpHttpSpanExporter } from '../../../chaos/otlp-http-exporter';
import { spansOfOtlpProtobuf } from '../../../chaos/service/otlp-protobuf';
import { recordingHttpServer } from '../../support/recording-http-server';

/**
 * The Jaeger trace backend's export path: OTLP/HTTP protobuf to <base>/v1/traces, read back here
 * by the harness's own protobuf reader; a refused or unreachable endpoint is a FAILED export with
 * the reason (the backend counts those spans as failed). Loopback only, milliseconds.
 */

function spans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('t');
  const p = tracer.startSpan('orders publish', { kind: SpanKind.PRODUCER });
  tracer.startSpan('orders process', { kind: SpanKind.CONSUMER }, trace.setSpan(context.active(), p)).end();
  p.end();
  return memory.getFinishedSpans().slice();
}

const exportTo = (url: string, s: ReadableSpan[]): Promise<ExportResult> => new Promise((resolve) => new OtlpHttpSpanExporter(url, { timeoutMs: 2000 }).export(s, resolve));

describe('OtlpHttpSpanExporter', () => {
  it('POSTs the spans as OTLP protobuf that an OTLP reader decodes back to the same ids and kinds', async () => {
    const server = await recordingHttpServer(200, { 'content-type': 'application/x-protobuf' });
    const { got } = server;
    const url = `${server.url}/v1/traces`;
    const sent = spans();
    const result = await exportTo(url, sent);
    await server.close();
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(got).toHaveLength(1);
    expect(got[0]!.path).toBe('/v1/traces');
    expect(got[0]!.headers['content-type']).toBe('application/x-protobuf');
    const decoded = spansOfOtlpProtobuf(got[0]!.body);
    const [consumer, producer] = sent.map((s) => s.spanContext());
    expect(decoded.map((s) => [s.kind, s.traceId, s.spanId, s.parentSpanId])).toEqual([
      ['consumer', consumer!.traceId, consumer!.spanId, producer!.spanId],
      ['producer', producer!.traceId, producer!.spanId, undefined],
    ]);
  });

  it('fails an export the endpoint refuses or that cannot connect, saying why', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const refused = await exportTo(`http://127.0.0.1:${port}/v1/traces`, spans());
    await new Promise<void>((r) => server.close(() => r()));
    expect(refused).toMatchObject({ code: ExportResultCode.FAILED, error: new Error(`http://127.0.0.1:${port}/v1/traces answered HTTP 404`) });
    // A port nothing listens on any more (taken, then let go).
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const free = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const unreachable = await exportTo(`http://127.0.0.1:${free}/v1/traces`, spans());
    expect(unreachable.code).toBe(ExportResultCode.FAILED);
    expect(unreachable.error?.message).toMatch(/ECONNREFUSED/);
  });
});
