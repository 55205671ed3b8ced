import { request } from 'node:http';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * An OTLP/HTTP JSON span exporter built from the official serializer and a plain POST.
 *
 * Why not OTLPTraceExporter inside Jest: since 0.2xx it loads `http` with a dynamic `import()`,
 * which Jest's CommonJS runtime rejects unless Node runs with --experimental-vm-modules. The
 * payload and transport here are the same protocol (OTLP/HTTP, application/json, POST
 * /v1/traces); the stock exporter itself is exercised in the child-process (ESM) test.
 */
export class OtlpJsonHttpExporter implements SpanExporter {
  private readonly inFlight = new Set<Promise<void>>();
  constructor(private readonly url: string) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('serialization failed') });
      return;
    }
    const p = new Promise<void>((resolve) => {
      const req = request(this.url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': body.byteLength } }, (res) => {
        res.resume();
        res.on('end', () => {
          resultCallback({ code: res.statusCode === 200 ? ExportResultCode.SUCCESS : ExportResultCode.FAILED });
          resolve();
        });
      });
      req.on('error', (error) => {
        resultCallback({ code: ExportResultCode.FAILED, error });
        resolve();
      });
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
