import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { exportToAll, jaegerPlan, traceCurl, traceRouting, userOtlpEndpoint } from '../../../cli/demo-traces';
import { parseStartFlags } from '../../../cli/start-command';

describe('where the demo sends its spans', () => {
  const jaeger = 'http://127.0.0.1:4318';

  it('sends to the demo\u2019s Jaeger, and to the user\u2019s collector as well when one is named', () => {
    expect(traceRouting({ jaegerOtlpUrl: jaeger, jaegerIsUsers: false, env: {} })).toEqual({ jaeger: `${jaeger}/v1/traces`, user: undefined });
    expect(traceRouting({ jaegerOtlpUrl: `${jaeger}/`, jaegerIsUsers: false, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } })).toEqual({ jaeger: `${jaeger}/v1/traces`, user: 'http://collector:4318' });
  });

  it('sends once when the Jaeger is the user\u2019s (external: named by the same variables)', () => {
    expect(traceRouting({ jaegerOtlpUrl: 'http://collector:4318', jaegerIsUsers: true, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } })).toEqual({ jaeger: 'http://collector:4318/v1/traces', user: undefined });
  });

  it('with --no-jaeger, sends to the user\u2019s collector only, or nowhere', () => {
    expect(traceRouting({ jaegerOtlpUrl: undefined, jaegerIsUsers: false, env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/v1/traces' } })).toEqual({ jaeger: undefined, user: 'http://c/v1/traces' });
    expect(traceRouting({ jaegerOtlpUrl: undefined, jaegerIsUsers: false, env: { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' } })).toEqual({ jaeger: undefined, user: undefined });
  });

  it('reads the traces endpoint before the general one, as the SDK does', () => {
    expect(userOtlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/v1/traces' })).toBe('http://b/v1/traces');
    expect(userOtlpEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' })).toBe('http://a');
  });

  it('prints a curl line for the trace on the query API', () => {
    expect(traceCurl('http://127.0.0.1:16686/', 'ab'.repeat(16))).toBe(`curl -s http://127.0.0.1:16686/api/v3/traces/${'ab'.repeat(16)}`);
  });
});

describe('exportToAll', () => {
  const exporter = (code: ExportResultCode, later: (f: () => void) => void = (f) => f()): SpanExporter & { got: number } => {
    const e = {
      got: 0,
      export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
        e.got += spans.length;
        later(() => done({ code, ...(code === ExportResultCode.FAILED ? { error: new Error('refused') } : {}) }));
      },
      shutdown: async () => undefined,
    };
    return e;
  };
  const spans = [{} as ReadableSpan, {} as ReadableSpan];

  it('answers once, after every destination answered, and fails when one failed', () => {
    const pending: (() => void)[] = [];
    const a = exporter(ExportResultCode.SUCCESS, (f) => pending.push(f));
    const b = exporter(ExportResultCode.FAILED, (f) => pending.push(f));
    const results: ExportResult[] = [];
    exportToAll([a, b], spans, (r) => results.push(r));
    expect([a.got, b.got, results.length]).toEqual([2, 2, 0]);
    pending.forEach((f) => f());
    expect(results.map((r) => [r.code, r.error?.message])).toEqual([[ExportResultCode.FAILED, 'refused']]);
  });

  it('succeeds with every destination successful, or with none', () => {
    const results: ExportResult[] = [];
    exportToAll([exporter(ExportResultCode.SUCCESS), exporter(ExportResultCode.SUCCESS)], spans, (r) => results.push(r));
    exportToAll([], spans, (r) => results.push(r));
    expect(results.map((r) => r.code)).toEqual([ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);
  });
});

describe('--no-jaeger', () => {
  it('is off by default (Jaeger is part of the picture) and leaves Jaeger out when given', () => {
    expect(parseStartFlags([]).jaeger).toBe(true);
    expect(parseStartFlags(['--no-jaeger']).jaeger).toBe(false);
  });
});

describe('jaegerPlan', () => {
  it('starts Jaeger by default, not with --no-jaeger, and says why when every service must be external but none names Jaeger', () => {
    expect(jaegerPlan(true, {})).toEqual({ start: true, note: undefined });
    expect(jaegerPlan(false, {})).toEqual({ start: false, note: undefined });
    expect(jaegerPlan(true, { EDA_HARNESS_PROVIDER: 'external', JAEGER_QUERY_URL: 'http://jaeger:16686' })).toEqual({ start: true, note: undefined });
    const external = jaegerPlan(true, { EDA_HARNESS_PROVIDER: 'external', KAFKA_BROKERS: 'k:9092' });
    expect(external.start).toBe(false);
    expect(external.note).toContain('no JAEGER_QUERY_URL');
  });
});
