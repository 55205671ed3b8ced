import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Counter, Gauge, Registry } from 'prom-client';
import { startTelemetry } from '../../../instrumentation/index';
import { messagingMetrics } from '../../../instrumentation/shared/metrics';
import { registerServiceInfo, serviceNameFrom } from '../../../instrumentation/telemetry/service-info';

/**
 * eda_service_info: the one series naming the service of a process, which the dashboards join on
 * the scrape target. The service name is the spans' service.name; the application's own metrics in
 * the same registry keep exactly the labels they had.
 */

afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

const ENV_NAMES = ['OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES'] as const;

/** Runs `body` with exactly these OTEL_* service variables set (the others unset), then restores them. */
async function withServiceEnv<T>(vars: Partial<Record<(typeof ENV_NAMES)[number], string>>, body: () => Promise<T>): Promise<T> {
  const saved = ENV_NAMES.map((k) => [k, process.env[k]] as const);
  for (const k of ENV_NAMES) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The /metrics page startTelemetry serves for `registry`, and the spans' service.name. */
async function page(registry: Registry, options: { serviceInfo?: boolean } = {}): Promise<{ text: string; spanService: unknown }> {
  const exporter = new InMemorySpanExporter();
  const telemetry = await startTelemetry({ serviceName: 'from-code', metricsPort: 0, metricsHost: '127.0.0.1', registry, traceExporter: exporter, ...options });
  try {
    const text = await (await fetch(telemetry.metricsUrl!)).text();
    trace.getTracer('unit').startSpan('work').end();
    await telemetry.forceFlush();
    return { text, spanService: exporter.getFinishedSpans()[0]?.resource.attributes['service.name'] };
  } finally {
    await telemetry.shutdown();
  }
}

const infoLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('eda_service_info'));

describe('eda_service_info', () => {
  it('carries the spans\' service.name: serviceName, OTEL_RESOURCE_ATTRIBUTES over it, OTEL_SERVICE_NAME over both', async () => {
    for (const [vars, expected] of [
      [{}, 'from-code'],
      [{ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-attributes' }, 'from-attributes'],
      [{ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes', OTEL_SERVICE_NAME: 'from-env' }, 'from-env'],
    ] as const) {
      const { text, spanService } = await withServiceEnv(vars, () => page(new Registry()));
      expect({ vars, info: infoLines(text), spanService }).toEqual({ vars, info: [`eda_service_info{service_name="${expected}"} 1`], spanService: expected });
      trace.disable();
    }
  });

  it('leaves every other metric of a registry the application shares exactly as it was (no label added)', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ region: 'eu' });
    new Counter({ name: 'orders_total', help: 'the application\'s own', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'web' }, 2);
    new Gauge({ name: 'queue_depth', help: 'the application\'s own', registers: [registry] }).set(5);
    messagingMetrics({ registry }).inc('CONSUMED_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: 'orders' });
    const before = (await registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const { text } = await withServiceEnv({}, () => page(registry));
    const after = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(after.filter((l) => !l.startsWith('eda_service_info'))).toEqual(before);
    expect(before).toContain('orders_total{kind="web",region="eu"} 2');
    // The registry's own default labels reach the info series too, as they reach every metric of it.
    expect(infoLines(text)).toEqual(['eda_service_info{service_name="from-code",region="eu"} 1']);
    // Shut down: the series is gone, the application's metrics are not.
    expect(await registry.getSingleMetricAsString('orders_total')).toContain('orders_total{kind="web",region="eu"} 2');
    expect(registry.getSingleMetric('eda_service_info')).toBeUndefined();
  });

  it('is not written with serviceInfo: false', async () => {
    const { text } = await withServiceEnv({}, () => page(new Registry(), { serviceInfo: false }));
    expect(infoLines(text)).toEqual([]);
  });

  it('is one series per registry: a second registration replaces it, and the replaced one\'s removal leaves it', async () => {
    const registry = new Registry();
    const removeFirst = registerServiceInfo(registry, 'first');
    const removeSecond = registerServiceInfo(registry, 'second');
    expect(infoLines(await registry.metrics())).toEqual(['eda_service_info{service_name="second"} 1']);
    removeFirst();
    expect(infoLines(await registry.metrics())).toEqual(['eda_service_info{service_name="second"} 1']);
    removeSecond();
    expect(infoLines(await registry.metrics())).toEqual([]);
  });

  it('refuses an empty name and a registry whose eda_service_info is someone else\'s, saying what to do; nothing is left started', async () => {
    expect(() => registerServiceInfo(new Registry(), ' ')).toThrow('eda_service_info: the service name is empty. Pass startTelemetry a serviceName or set OTEL_SERVICE_NAME');
    const registry = new Registry();
    new Gauge({ name: 'eda_service_info', help: 'not ours', registers: [registry] }).set(1);
    await expect(withServiceEnv({}, () => startTelemetry({ serviceName: 'svc', metricsPort: 0, registry }))).rejects.toThrow(
      'eda_service_info: the registry already holds a metric of that name that eda-harness did not register. Rename that metric, or pass startTelemetry serviceInfo: false',
    );
    expect(await registry.getSingleMetricAsString('eda_service_info')).toContain('eda_service_info 1');
    // Refused before the SDK started: no tracer provider was registered.
    const provider = trace.getTracerProvider() as unknown as { getDelegate(): object };
    expect(provider.getDelegate().constructor.name).toBe('NoopTracerProvider');
  });

  it('takes the name the environment detector found, else the code\'s', () => {
    expect(serviceNameFrom('code', {})).toBe('code');
    expect(serviceNameFrom('code', { 'service.name': '' })).toBe('code');
    expect(serviceNameFrom('code', { 'service.name': 'env' })).toBe('env');
  });
});
