import { TraceFlags } from '@opentelemetry/api';
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
});
