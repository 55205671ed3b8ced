import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface OtlpHttpSpanExporterOptions {
  /** Per request (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** `protobuf` (the SDKs' default, and this one's) or `json`. */
  readonly encoding?: 'protobuf' | 'json';
}

/**
 * OTLP/HTTP span export in protobuf (what the SDKs send by default) or JSON: the official
 * serializer and a plain POST to `<base>/v1/traces`. The SDK's OTLPTraceExporter loads `http` through a dynamic
 * `import()`, which a CommonJS host without ESM support (Jest's runtime, where the chaos suite runs
 * in tests) refuses; this sends the same bytes with a static import. A request that fails or is
 * answered with anything but 2xx is a FAILED export carrying the reason, also kept in `failures`
 * (so a test can say why nothing arrived).
 */
export class OtlpHttpSpanExporter implements SpanExporter {
  /** Why each failed export failed, in order. */
  readonly failures: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly encoding: 'protobuf' | 'json';

  constructor(
    private readonly url: string,
    options: OtlpHttpSpanExporterOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.encoding = options.encoding ?? 'protobuf';
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const json = this.encoding === 'json';
    const body = json ? JsonTraceSerializer.serializeRequest(spans) : ProtobufTraceSerializer.serializeRequest(spans);
    if (!body) {
      const why = `the spans could not be serialized to OTLP ${this.encoding}`;
      this.failures.push(why);
      return done({ code: ExportResultCode.FAILED, error: new Error(why) });
    }
    const send = this.url.startsWith('https:') ? httpsRequest : request;
    const p = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (result: ExportResult): void => {
        if (settled) return;
        settled = true;
        if (result.code !== ExportResultCode.SUCCESS) this.failures.push(result.error?.message ?? 'failed');
        done(result);
        resolve();
      };
      const req = send(this.url, { method: 'POST', timeout: this.timeoutMs, headers: { 'Content-Type': json ? 'application/json' : 'application/x-protobuf', 'Content-Length': body.byteLength } }, (res) => {
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
