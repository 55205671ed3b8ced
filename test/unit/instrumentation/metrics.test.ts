import { TraceFlags, diag } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import { recordDeadLetter } from '../../../instrumentation/index';
import { messagingMetrics } from '../../../instrumentation/shared/metrics';
import { DURATION_BUCKETS_SECONDS, LABEL_OVERFLOW_VALUE, METRIC, METRICS } from '../../../semconv/index';
import { metricValue } from './metric-values';

describe('metrics', () => {
  it('declares every metric once, with Prometheus-valid names and the semconv duration buckets', () => {
    const names = METRICS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of METRICS) {
      expect(m.name).toMatch(/^[a-z_][a-z0-9_]*$/);
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
      for (const l of m.labels) expect(l).toMatch(/^[a-z_][a-z0-9_]*$/);
    }
    expect(METRIC.PROCESS_DURATION.buckets).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    expect(METRIC.OPERATION_DURATION.buckets).toBe(DURATION_BUCKETS_SECONDS);
  });

  it('caps label combinations per metric and folds the rest into _overflow', async () => {
    const registry = new Registry();
    const m = messagingMetrics({ registry, maxSeriesPerMetric: 3 });
    for (let i = 0; i < 10; i++) m.inc('SENT_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: `topic-${i}` });
    const text = await registry.getSingleMetricAsString(METRIC.SENT_MESSAGES.name);
    const series = text.split('\n').filter((l) => l.startsWith(METRIC.SENT_MESSAGES.name));
    expect(series).toHaveLength(4);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: LABEL_OVERFLOW_VALUE })).toBe(7);
  });

  it('respects a label object the caller changes between calls (only frozen ones are cached by identity)', async () => {
    const registry = new Registry();
    const m = messagingMetrics({ registry });
    const labels: Record<string, string> = { messaging_system: 'kafka', messaging_destination_name: 'a' };
    m.inc('SENT_MESSAGES', labels);
    labels['messaging_destination_name'] = 'b';
    m.inc('SENT_MESSAGES', labels);
    const frozen = Object.freeze({ messaging_system: 'kafka', messaging_destination_name: 'c' });
    m.inc('SENT_MESSAGES', frozen);
    m.inc('SENT_MESSAGES', frozen);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'a' })).toBe(1);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'b' })).toBe(1);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'c' })).toBe(2);
  });

  it('is created once per registry and shared', () => {
    const registry = new Registry();
    expect(messagingMetrics({ registry })).toBe(messagingMetrics({ registry }));
  });

  it('attaches trace exemplars to histograms in an OpenMetrics registry', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const m = messagingMetrics({ registry });
    expect(m.exemplars).toBe(true);
    const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    m.observe('E2E_LATENCY', { messaging_system: 'kafka', stage: 'received' }, 0.2, sc);
    const text = await registry.metrics();
    expect(text).toMatch(/eda_message_e2e_latency_seconds_bucket\{[^}]*le="0.25"[^}]*\} 1 # \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"\} 0.2/);
    // Counters keep working after the OpenMetrics registry renamed them on scrape.
    m.inc('SENT_MESSAGES', { messaging_system: 'kafka' });
    await registry.metrics();
    m.inc('SENT_MESSAGES', { messaging_system: 'kafka' });
    expect(await registry.metrics()).toContain('messaging_client_sent_messages_total{messaging_system="kafka"} 2');
  });

  it('recordDeadLetter counts application-level dead-lettering', async () => {
    const registry = new Registry();
    recordDeadLetter({ system: 'kafka', source: 'orders', dlq: 'orders.DLT', reason: 'decode_error', registry });
    expect(await metricValue(registry, METRIC.DLQ_MESSAGES.name, { source: 'orders', dlq: 'orders.DLT', reason: 'decode_error' })).toBe(1);
  });

  it('an explicit maxSeriesPerMetric takes effect even when recordDeadLetter created the metrics first; the lowest wins, a conflict is warned once', async () => {
    const registry = new Registry();
    const warn = jest.fn();
    diag.setLogger({ warn, error: jest.fn(), info: jest.fn(), debug: jest.fn(), verbose: jest.fn() } as DiagLogger);
    try {
      recordDeadLetter({ system: 'kafka', source: 'orders', dlq: 'orders.DLT', reason: 'decode_error', registry });
      const m = messagingMetrics({ registry, maxSeriesPerMetric: 2 });
      for (let i = 0; i < 6; i++) m.inc('SENT_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: `t-${i}` });
      for (let i = 0; i < 6; i++) recordDeadLetter({ system: 'kafka', source: 'orders', dlq: `dlq-${i}`, reason: 'decode_error', registry });
      messagingMetrics({ registry, maxSeriesPerMetric: 50 });
      messagingMetrics({ registry, maxSeriesPerMetric: 60 });
      for (let i = 6; i < 9; i++) m.inc('SENT_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: `t-${i}` });
      expect(await seriesCount(registry, METRIC.SENT_MESSAGES.name)).toBe(3);
      expect(await seriesCount(registry, METRIC.DLQ_MESSAGES.name)).toBe(3);
      expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: LABEL_OVERFLOW_VALUE })).toBe(7);
      expect(warn.mock.calls.filter(([msg]) => /maxSeriesPerMetric/.test(String(msg)))).toHaveLength(1);
    } finally {
      diag.disable();
    }
  });

  it('keeps series apart whatever characters their label values contain', async () => {
    const registry = new Registry();
    const m = messagingMetrics({ registry });
    // Same text once the old cache key (values joined by \u0001, \u0002 for absent) is built.
    m.inc('SENT_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: 'a\u0001\u0002' });
    m.inc('SENT_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: 'a', error_type: '\u0002\u0001\u0002' });
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'a\u0001\u0002' })).toBe(1);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'a', error_type: '\u0002\u0001\u0002' })).toBe(1);
  });

  it('over the cap, replaces only high-cardinality label values and keeps system, operation, error type, stage and reason', async () => {
    const registry = new Registry();
    const m = messagingMetrics({ registry, maxSeriesPerMetric: 1 });
    for (let i = 0; i < 4; i++) {
      m.inc('SENT_MESSAGES', { messaging_system: 'rabbitmq', messaging_destination_name: `amq.gen-${i}`, error_type: i % 2 ? 'timeout' : undefined });
      m.observe('E2E_LATENCY', { messaging_system: 'rabbitmq', messaging_destination_name: `q-${i}`, messaging_consumer_group_name: `c-${i}`, stage: 'processed' }, 0.1);
      recordDeadLetter({ system: 'rabbitmq', source: `q-${i}`, dlq: `dlx-${i}`, reason: 'expired', registry });
    }
    const text = await registry.metrics();
    expect(text).toContain('messaging_client_sent_messages_total{messaging_system="rabbitmq",messaging_destination_name="_overflow",error_type="timeout"} 2');
    expect(text).toContain('messaging_client_sent_messages_total{messaging_system="rabbitmq",messaging_destination_name="_overflow"} 1');
    expect(text).toMatch(/eda_message_e2e_latency_seconds_count\{messaging_system="rabbitmq",messaging_destination_name="_overflow",messaging_consumer_group_name="_overflow",stage="processed"\} 3/);
    expect(text).toContain('eda_dlq_messages_total{messaging_system="rabbitmq",source="_overflow",dlq="_overflow",reason="expired"} 3');
  });

  it('over the cap, an update costs about what a series under the cap costs (the overflow mapping is cached)', () => {
    // 1,000 destinations each: label objects built once and reused (not frozen, so not cached by identity).
    const names = (prefix: string) => Array.from({ length: 1000 }, (_, i) => ({ messaging_system: 'kafka', messaging_destination_name: `${prefix}-${i}` }));
    const time = (m: ReturnType<typeof messagingMetrics>, labels: ReadonlyArray<Record<string, string>>): number => {
      const start = performance.now();
      for (let i = 0; i < 200_000; i++) m.inc('SENT_MESSAGES', labels[i % 1000] as Record<string, string>);
      return performance.now() - start;
    };
    const capped = messagingMetrics({ registry: new Registry(), maxSeriesPerMetric: 10 });
    const roomy = messagingMetrics({ registry: new Registry() });
    const reply = names('amq.gen');
    const real = names('orders');
    time(capped, reply); // warm-up
    time(roomy, real);
    const over = time(capped, reply);
    const under = time(roomy, real);
    expect(over).toBeLessThan(under * 2 + 10);
  });

  it('takes exemplars only from sampled span contexts', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const m = messagingMetrics({ registry });
    const unsampled = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE };
    m.observe('E2E_LATENCY', { messaging_system: 'kafka', stage: 'received' }, 0.2, unsampled);
    expect(await registry.metrics()).not.toContain('trace_id=');
    m.observe('E2E_LATENCY', { messaging_system: 'kafka', stage: 'received' }, 0.2, { ...unsampled, traceFlags: TraceFlags.SAMPLED });
    expect(await registry.metrics()).toContain('trace_id="0af7651916cd43dd8448eb211c80319c"');
  });

  it('two copies of the package sharing one registry record into the same series', async () => {
    const registry = new Registry();
    type MetricsModule = typeof import('../../../instrumentation/shared/metrics');
    const copies: MetricsModule[] = [];
    for (let i = 0; i < 2; i++) jest.isolateModules(() => copies.push(require('../../../instrumentation/shared/metrics') as MetricsModule));
    const [a, b] = copies as [MetricsModule, MetricsModule];
    expect(a.messagingMetrics).not.toBe(b.messagingMetrics);
    const labels = { messaging_system: 'kafka', messaging_destination_name: 'orders', messaging_consumer_group_name: 'g', stage: 'received' };
    for (const copy of [a, b]) {
      const m = copy.messagingMetrics({ registry });
      m.observe('E2E_LATENCY', labels, 0.2);
      m.inc('SENT_MESSAGES', { messaging_system: 'kafka', messaging_destination_name: 'orders' });
      m.add('IN_FLIGHT', { messaging_system: 'kafka', messaging_destination_name: 'orders' }, 1);
    }
    const text = await registry.metrics();
    const counts = text.split('\n').filter((l) => l.startsWith('eda_message_e2e_latency_seconds_count'));
    expect(counts).toEqual(['eda_message_e2e_latency_seconds_count{messaging_system="kafka",messaging_destination_name="orders",messaging_consumer_group_name="g",stage="received"} 2']);
    expect(text.split('\n').filter((l) => l.startsWith('messaging_client_sent_messages_total{'))).toEqual(['messaging_client_sent_messages_total{messaging_system="kafka",messaging_destination_name="orders"} 2']);
    expect(text.split('\n').filter((l) => l.startsWith('eda_messages_in_flight{'))).toEqual(['eda_messages_in_flight{messaging_system="kafka",messaging_destination_name="orders"} 2']);
  });

  it('recordDeadLetter never throws, whatever it is given', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => recordDeadLetter(proxy as never)).not.toThrow();
    expect(() => recordDeadLetter({ system: 'kafka', source: 'a', dlq: 'b', reason: 'decode_error', registry: Object.freeze(new Registry()) })).not.toThrow();
  });
});

describe('recordDeadLetter input that a counter cannot take', () => {
  it('ignores a negative, NaN or infinite count instead of breaking every later scrape', async () => {
    const registry = new Registry();
    const event = { system: 'kafka', source: 'orders', dlq: 'orders.DLT', reason: 'decode_error', registry } as const;
    recordDeadLetter(event);
    for (const count of [-1, Number.NaN, Number.POSITIVE_INFINITY]) recordDeadLetter({ ...event, count });
    recordDeadLetter({ ...event, count: 2 });
    await expect(registry.metrics()).resolves.toContain('eda_dlq_messages_total{messaging_system="kafka",source="orders",dlq="orders.DLT",reason="decode_error"} 3');
  });
});

/** Distinct label sets of a counter in the text exposition. */
async function seriesCount(registry: Registry, name: string): Promise<number> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).length;
}
