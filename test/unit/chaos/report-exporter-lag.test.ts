import { exporterLagBySecond, exporterLagQuery, withExporterLag } from '../../../chaos/exporter-lag';
import { renderHtml } from '../../../chaos/report';
import type { TimelinePoint } from '../../../chaos/types';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const matrix = (...series: [number, string][][]) => ({ status: 'success', data: { resultType: 'matrix', result: series.map((values) => ({ values })) } });

describe('exporterLagQuery', () => {
  it('sums the lag of the topic or the messages in the queue, escaping the name', () => {
    expect(exporterLagQuery('kafka', 'chaos-1-orders')).toBe('sum(eda_kafka_consumer_lag_messages{topic="chaos-1-orders"})');
    expect(exporterLagQuery('rabbitmq', 'q"\\x')).toBe('sum(eda_rabbitmq_queue_messages{queue="q\\"\\\\x"})');
  });
});

describe('exporterLagBySecond', () => {
  it('gives the last sample of each second since the start, adding series at one instant', () => {
    const answer = matrix(
      [[T0 / 1000 - 1, '9'], [T0 / 1000 + 0.5, '1'], [T0 / 1000 + 0.9, '2'], [T0 / 1000 + 2, '5']],
      [[T0 / 1000 + 0.9, '3'], [T0 / 1000 + 3, 'NaN']],
    );
    expect([...exporterLagBySecond(answer, T0)]).toEqual([[0, 5], [2, 5]]);
  });

  it('says what came back when it is not a matrix', () => {
    expect(() => exporterLagBySecond({ status: 'error' }, T0)).toThrow(/expected a successful Prometheus matrix.*"error"/);
  });
});

describe('withExporterLag', () => {
  it('puts the figures on the timeline, and the report then draws the exporter lag', () => {
    const timeline: TimelinePoint[] = [0, 1, 2].map((second) => ({ second, sent: 10, acked: 10, failed: 0, consumed: 10, latencyP50Ms: 5, latencyMaxMs: 9 }));
    const points = withExporterLag(timeline, new Map([[0, 0], [1, 40], [2, 3]]));
    expect(points.map((p) => p.consumerLag)).toEqual([0, 40, 3]);
    const scenario = { name: 's', description: '', system: 'kafka' as const, passed: true, startedAt: new Date(T0).toISOString(), durationMs: 3000, counts: { sent: 30, acked: 30, failed: 0, deliveries: 30, uniqueConsumed: 30, duplicates: 0, poison: 0 }, faults: [], invariants: [], timeline: points, events: [], alerts: [], error: undefined };
    const html = renderHtml({ tool: 't', startedAt: scenario.startedAt, durationMs: 3000, passed: true, scenarios: [scenario] });
    expect(html).toContain('<polyline class="lag lag-exporter"');
    expect(html).toContain('consumer lag (exporter, from the broker)');
  });
});
