import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OtlpHttpSpanExporter } from '../../../chaos/otlp-http-exporter';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { Environment, jaegerQuery, type StartedEnvironment, type TraceSpan } from '../../../environment/index';
import { untilJaegerAnswers } from '../../../environment/external/external';
import { jaegerConfigListens } from '../../../environment/jaeger-config';
import { startReferenceSystem, type ReferenceSystem } from '../../../examples/reference-system';
import { ATTR } from '../../../semconv/attributes';
import { BrokerUnreachableError, ConfigError } from '../../../core/errors';
import { silentProgress } from '../../../core/progress';
import { uniqueName } from '../../support/names';
import { until } from '../../support/until';

/**
 * Jaeger v2 (the native provider's module build) as the trace backend: it listens on loopback only,
 * and the reference system's spans, sent over real OTLP/HTTP in both encodings (protobuf, the SDK
 * default, and JSON), come back through its query API as one trace across the three services.
 */

/**
 * OTLP/HTTP with the SDK's own serializers (the bodies OTLPTraceExporter sends, protobuf or JSON)
 * and a plain POST to /v1/traces: the harness's OtlpHttpSpanExporter. The stock exporters load
 * `http` with a dynamic import(), which Jest's CommonJS runtime refuses without
 * --experimental-vm-modules; the demo uses the stock one. Failed exports are kept, so a test says
 * why nothing arrived.
 */
class OtlpHttpExporter extends OtlpHttpSpanExporter {
  constructor(url: string, encoding: 'protobuf' | 'json') {
    super(url, { encoding });
  }
}

let env: StartedEnvironment;

beforeAll(async () => {
  env = await new Environment().withProvider('native').withKafka().withRabbitMq().withToxiproxy(false).withJaeger().start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

/** host:port of every TCP socket `pid` listens on, from /proc (its socket inodes matched against /proc/net/tcp{,6}). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      /* the fd closed meanwhile */
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9] as string)) continue; // 0A: LISTEN
      const [ipHex = '', portHex = ''] = (f[1] as string).split(':');
      const ip = table === 'tcp' ? ipHex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : `[${ipHex}]`;
      out.push(`${ip}:${parseInt(portHex, 16)}`);
    }
  }
  return out.sort();
}

test('Jaeger listens on 127.0.0.1 only, on exactly the ports its config names; describe() and the getters name it', () => {
  const jaeger = env.jaeger!;
  expect(jaeger.provider).toBe('native');
  const pid = jaeger.node!.pid!;
  const config = readFileSync(`${env.runDir}/jaeger/jaeger.yaml`, 'utf8');
  expect(listeningAddresses(pid)).toEqual(jaegerConfigListens(config).sort());
  expect(listeningAddresses(pid).every((a) => a.startsWith('127.0.0.1:'))).toBe(true);
  expect(listeningAddresses(pid)).toHaveLength(7);

  expect(env.getJaegerQueryUrl()).toBe(jaeger.queryUrl);
  expect(env.getJaegerQueryUrl()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(env.getOtlpEndpoint()).toBe(jaeger.otlpHttpUrl);
  expect(env.describe().jaeger).toEqual({
    provider: 'native',
    version: '1.76.0',
    queryUrl: jaeger.queryUrl,
    otlpHttpUrl: jaeger.otlpHttpUrl,
    otlpGrpcAddress: jaeger.otlpGrpcAddress,
    pid,
  });
  expect(env.describe().processes.map((p) => p.name)).toContain('jaeger');
});

/**
 * Runs the reference system with one tracer provider per service, each exporting over OTLP/HTTP to
 * Jaeger with `exporter()`, places one order, and returns its trace as Jaeger's query API gives it.
 * The trace id is taken from an in-memory copy of the order service's spans; everything asserted
 * comes from Jaeger.
 */
async function orderTraceThroughJaeger(encoding: 'protobuf' | 'json'): Promise<TraceSpan[]> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const local = new InMemorySpanExporter();
  const providers: BasicTracerProvider[] = [];
  const exporters: OtlpHttpExporter[] = [];
  const exporter = (): OtlpHttpExporter => {
    const e = new OtlpHttpExporter(`${env.getOtlpEndpoint()}/v1/traces`, encoding);
    exporters.push(e);
    return e;
  };
  let system: ReferenceSystem | undefined;
  try {
    system = await startReferenceSystem({
      kafkaBrokers: env.getKafkaBrokers(),
      amqpUrl: env.getAmqpUrl(),
      prefix: uniqueName('jaeger'),
      instrumentation: (service) => {
        const provider = new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': service }),
          spanProcessors: [new BatchSpanProcessor(exporter(), { scheduledDelayMillis: 100 }), ...(service === 'order-service' ? [new SimpleSpanProcessor(local)] : [])],
        });
        providers.push(provider);
        return { registry: new Registry(), tracerProvider: provider };
      },
      logger: { info: () => undefined, warn: () => undefined },
    });
    await system.placeOrder();
    const root = await until('the order service\u2019s place order span', () => local.getFinishedSpans().find((s) => s.name === 'place order'), { timeoutMs: 10_000 });
    const traceId = root.spanContext().traceId;
    const spans = await jaegerQuery(env.getJaegerQueryUrl())
      .waitForTrace(traceId, { minSpans: 5, services: ['order-service', 'inventory-service', 'notification-service'], timeoutMs: 20_000 })
      .catch((err: unknown) => {
        throw new Error(`${String(err)}; failed exports: ${exporters.flatMap((e) => e.failures).join(', ') || 'none'}`);
      });
    expect(exporters.flatMap((e) => e.failures)).toEqual([]);
    return spans;
  } finally {
    await system?.stop();
    for (const p of providers) await p.shutdown();
    propagation.disable();
    context.disable();
    contextManager.disable();
  }
}

function expectOneOrderTrace(spans: TraceSpan[]): void {
  const shape = spans.map((s) => `${s.service} ${s.kind} ${String(s.attributes[ATTR.MESSAGING_SYSTEM] ?? '')}`.trim()).sort();
  expect(shape).toEqual(
    ['inventory-service consumer kafka', 'notification-service consumer rabbitmq', 'order-service producer kafka', 'order-service producer rabbitmq', 'order-service server'].sort(),
  );
  const traceId = spans[0]!.traceId;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(spans.every((s) => s.traceId === traceId && /^[0-9a-f]{16}$/.test(s.spanId))).toBe(true);
  // The tree holds together: one root, every other span's parent in the trace.
  const ids = new Set(spans.map((s) => s.spanId));
  expect(spans.filter((s) => s.parentSpanId === undefined).map((s) => s.name)).toEqual(['place order']);
  expect(spans.filter((s) => s.parentSpanId !== undefined).every((s) => ids.has(s.parentSpanId!))).toBe(true);
  for (const s of spans.filter((x) => x.kind === 'producer' || x.kind === 'consumer')) {
    expect(typeof s.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBe('string');
    expect(s.attributes[ATTR.MESSAGING_OPERATION_TYPE]).toBe(s.kind === 'producer' ? 'send' : 'process');
    expect(s.statusCode).not.toBe('error');
    expect(s.durationMs).toBeGreaterThanOrEqual(0);
    expect(s.startTimeUnixMs).toBeGreaterThan(Date.now() - 120_000);
  }
  // A consumer span links (or is parented) to the producer span that sent its message.
  const kafkaSend = spans.find((s) => s.service === 'order-service' && s.kind === 'producer' && s.attributes[ATTR.MESSAGING_SYSTEM] === 'kafka')!;
  const kafkaProcess = spans.find((s) => s.service === 'inventory-service')!;
  expect([kafkaProcess.parentSpanId, ...kafkaProcess.links.map((l) => l.spanId)]).toContain(kafkaSend.spanId);
}

test('the reference system\u2019s spans over OTLP/HTTP protobuf come back from Jaeger as one trace across the three services', async () => {
  const spans = await orderTraceThroughJaeger('protobuf');
  expectOneOrderTrace(spans);
}, 60_000);

test('the same over OTLP/HTTP JSON; the services are listed and the trace is found by service', async () => {
  const spans = await orderTraceThroughJaeger('json');
  expectOneOrderTrace(spans);
  const query = jaegerQuery(env.getJaegerQueryUrl());
  expect(await query.services()).toEqual(expect.arrayContaining(['inventory-service', 'notification-service', 'order-service']));
  const found = await query.findTraces({ service: 'inventory-service', limit: 10, lookbackMs: 600_000 });
  expect(found.map((t) => t[0]!.traceId)).toContain(spans[0]!.traceId);
  const byOperation = await query.findTraces({ service: 'order-service', operation: 'place order', limit: 10 });
  expect(byOperation.length).toBeGreaterThanOrEqual(2);
  expect(await query.trace('0'.repeat(31) + '1')).toEqual([]);
}, 60_000);

test('an external Jaeger (JAEGER_QUERY_URL with OTEL_EXPORTER_OTLP_ENDPOINT) is used once it answers; one that is not Jaeger is refused, naming it', async () => {
  const saved = { ...process.env };
  try {
    process.env['JAEGER_QUERY_URL'] = `${env.getJaegerQueryUrl()}/`;
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = env.getOtlpEndpoint();
    delete process.env['EDA_HARNESS_PROVIDER'];
    const external = await new Environment().withProgress(silentProgress).withJaeger().start();
    try {
      expect(external.jaeger).toEqual({ provider: 'external', version: undefined, queryUrl: env.getJaegerQueryUrl(), otlpHttpUrl: env.getOtlpEndpoint(), otlpGrpcAddress: undefined, node: undefined });
      expect(external.describe().processes).toEqual([]);
    } finally {
      await external.stop();
    }
  } finally {
    process.env = saved;
  }
  // The OTLP receiver is no query API (it answers 404), and nothing listens on port 1.
  const err = await untilJaegerAnswers(env.getOtlpEndpoint(), 'http://127.0.0.1:1', 1_000).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BrokerUnreachableError);
  expect((err as Error).message).toContain(`JAEGER_QUERY_URL ${env.getOtlpEndpoint()}: `);
  expect((err as Error).message).toContain('404');
  expect((err as Error).message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT http://127.0.0.1:1: ');
}, 30_000);

test('getJaegerQueryUrl() on an environment without Jaeger says how to ask for it', async () => {
  const withoutJaeger = Object.create(Object.getPrototypeOf(env) as object) as StartedEnvironment;
  expect(() => withoutJaeger.getJaegerQueryUrl()).toThrow(ConfigError);
  expect(() => withoutJaeger.getOtlpEndpoint()).toThrow('withJaeger()');
});
