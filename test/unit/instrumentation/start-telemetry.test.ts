import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Counter, Registry } from 'prom-client';
import { startTelemetry } from '../../../instrumentation/index';

describe('startTelemetry', () => {
  it('serves the registry on /metrics, exports spans through the SDK, and shuts both down', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'probe', registers: [registry] }).inc(3);
    const exporter = new InMemorySpanExporter();
    const telemetry = await startTelemetry({ serviceName: 'unit-svc', metricsPort: 0, metricsHost: '127.0.0.1', registry, traceExporter: exporter });
    try {
      expect(telemetry.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(telemetry.metricsUrl!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(registry.contentType);
      expect(await res.text()).toContain('probe_total 3');
      expect((await fetch(telemetry.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);

      trace.getTracer('unit').startSpan('work').end();
      await telemetry.forceFlush();
      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(['work']);
      expect(spans[0]!.resource.attributes['service.name']).toBe('unit-svc');
    } finally {
      await telemetry.shutdown();
    }
    await expect(fetch(telemetry.metricsUrl!)).rejects.toThrow();
    await telemetry.shutdown(); // idempotent
  });

  it('fails loudly, without leaking the SDK, when the metrics port is taken', async () => {
    const first = await startTelemetry({ serviceName: 'a', metricsPort: 0, metricsHost: '127.0.0.1', registry: new Registry(), traceExporter: new InMemorySpanExporter() });
    try {
      await expect(startTelemetry({ serviceName: 'b', metricsPort: first.metricsPort!, metricsHost: '127.0.0.1', registry: new Registry(), traceExporter: new InMemorySpanExporter() })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.shutdown();
    }
  });
});
