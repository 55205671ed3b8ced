import { OtlpHttpSpanExporter } from '../../../chaos/otlp-http-exporter';

/**
 * OTLP/HTTP JSON to the in-test receiver: the harness's exporter (the official serializer and a
 * plain POST) in its JSON encoding.
 *
 * Why not OTLPTraceExporter inside Jest: since 0.2xx it loads `http` with a dynamic `import()`,
 * which Jest's CommonJS runtime rejects unless Node runs with --experimental-vm-modules. The
 * payload and transport here are the same protocol (OTLP/HTTP, application/json, POST
 * /v1/traces); the stock exporter itself is exercised in the child-process (ESM) test.
 */
export class OtlpJsonHttpExporter extends OtlpHttpSpanExporter {
  constructor(url: string) {
    super(url, { encoding: 'json' });
  }
}
