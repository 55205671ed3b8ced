import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * OTLP/HTTP span export in protobuf (what the SDKs send by default): the official serializer and a
 * plain POST to `<base>/v1/traces`. The SDK's OTLPTraceExporter loads `http` through a dynamic
 * `import()`, which a CommonJS host without ESM support (Jest's runtime, where the chaos suite runs
 * in tests) refuses; this sends the same bytes with a static import. A request that fails or is
 * answered with anything but 2xx is a FAILED export carrying the reason.
 */
export class OtlpHttpSpanExporter implements SpanExporter {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const body = ProtobufTraceSerializer.serializeRequest(spans);
    if (!body) return done({ code: ExportResultCode.FAILED, error: new Error('the spans could not be serialized to OTLP protobuf') });
    const send = this.url.startsWith('https:') ? httpsRequest : request;
    const p = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (result: ExportResult): void => {
        if (settled) return;
        settled = true;
        done(result);
        resolve();
      };
      const req = send(this.url, { method: 'POST', timeout: this.timeoutMs, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.byteLength } }, (res) => {
        res.resume();
        res.on('end', () => {
          const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
          finish(ok ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(`${this.url} answered HTTP ${res.statusCode ?? '?'}`) });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${this.url} did not answer within ${this.timeoutMs} ms`)));
      req.on('error', (error) => finish({ code: ExportResultCode.FAILED, error }));
      req.end(Buffer.from(body));
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
