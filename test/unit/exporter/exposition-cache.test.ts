import { Counter, Gauge, Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import { METRIC } from '../../../semconv/index';
import type { MetricDefinition, MetricKey } from '../../../semconv/index';
import { createExporter } from '../../../exporter/exporter';
import { renderSamples, withClusterLabel } from '../../../exporter/render-samples';
import type { Collector, KafkaSnapshot } from '../../../exporter/types';
import { parseExposition, valueOf } from '../../support/exposition';

/**
 * The exporter writes its metrics without prom-client's Gauge / Counter (no label hashing per
 * series, the page built once per collection): the page must be what those would have written,
 * byte for byte, on the registry and on /metrics alike.
 */

// Label values that need escaping, a counter, a DLQ, two partitions.
const odd = 'g"quote\\back\nline';
const snapshot: KafkaSnapshot = {
  atMs: 1_700_000_000_000,
  groups: [
    { group: odd, state: 'Reconciling', members: 2, status: 'WARN', uncommitted: new Map([['t', 1]]) },
    { group: 'h', state: 'Stable', members: 1, status: 'OK', uncommitted: new Map() },
  ],
  partitions: [
    { group: odd, topic: 't', partition: 0, committedOffset: 1, highWatermark: 6, lagMessages: 5, lagSeconds: 2.5, lagSecondsSource: 'record', lastCommitMs: 1_000 },
    { group: 'h', topic: 't', partition: 1, committedOffset: 7, highWatermark: 7, lagMessages: 0, lagSeconds: 0, lagSecondsSource: 'caught-up', lastCommitMs: 2_000 },
  ],
  watermarks: [
    { topic: 't', partition: 0, high: 6 },
    { topic: 't', partition: 1, high: 7 },
  ],
  dlqs: [{ system: 'kafka', dlq: 't.dlq', sources: ['t'], depth: 1, oldestAgeSeconds: 2 }],
  clamps: [{ labels: { group: odd, topic: 't' }, value: 3 }],
  dlqInflow: [{ labels: { dlq: 't.dlq', source: 't' }, value: 4 }],
  warnings: ['listOffsets(t/2): LEADER_NOT_AVAILABLE'],
};

const collector: Collector<KafkaSnapshot> = { target: 'kafka', collect: () => Promise.resolve(snapshot), close: () => Promise.resolve() };

/** The page prom-client's own metrics give for the same samples (the exporter's former way). */
function reference(exporter: ReturnType<typeof createExporter>, before: (r: Registry) => void): Promise<string> {
  const registry = new Registry();
  before(registry);
  const metrics = new Map<MetricKey, Gauge | Counter>();
  for (const [key, def] of Object.entries(METRIC) as [MetricKey, MetricDefinition][]) {
    if (def.producedBy !== 'exporter') continue;
    const options = { name: def.name, help: def.help, labelNames: [...def.labels, 'cluster'], registers: [registry] };
    metrics.set(key, def.type === 'counter' ? new Counter(options) : new Gauge(options));
  }
  const [health] = exporter.health();
  const samples = withClusterLabel(renderSamples({ granularity: 'partition', kafka: exporter.latest.kafka, rabbitmq: undefined, health: [health!] }), 'cluster', health!.cluster!);
  for (const s of samples) {
    const m = metrics.get(s.key);
    if (m instanceof Counter) m.inc(s.labels, s.value);
    else m?.set(s.labels, s.value);
  }
  return registry.metrics();
}

describe('exporter exposition', () => {
  it('writes what prom-client would, on /metrics and through the registry, with a user metric on the same registry', async () => {
    const registry = new Registry();
    const userMetric = (r: Registry) => new Counter({ name: 'user_requests_total', help: 'A user\'s "own" metric\\', labelNames: ['path'], registers: [r] }).inc({ path: '/a"b' }, 2);
    userMetric(registry);
    const exporter = createExporter({ config: {}, registry, collectors: { kafka: collector } });
    await exporter.collectNow();
    const expected = await reference(exporter, userMetric);
    const page = await exporter.metrics();
    expect(page).toBe(expected);
    expect(await registry.metrics()).toBe(expected);
    const samples = parseExposition(page);
    expect(valueOf(samples, 'eda_kafka_consumer_lag_messages', { group: odd, partition: '0' })).toBe(5);
    expect(valueOf(samples, 'user_requests_total', { path: '/a"b' })).toBe(2);
    // The page is built once per collection: a second scrape is the same text, and a collection changes it.
    expect(await exporter.metrics()).toBe(page);
    await exporter.collectNow();
    expect(await exporter.metrics()).toBe(await reference(exporter, userMetric));
    await exporter.stop();
  });

  it('leaves an OpenMetrics registry to write the page itself', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const exporter = createExporter({ config: {}, registry, collectors: { kafka: collector } });
    await exporter.collectNow();
    const page = await exporter.metrics();
    expect(page.endsWith('# EOF\n')).toBe(true);
    expect(valueOf(parseExposition(page), 'eda_kafka_consumer_lag_clamped_total', { group: odd })).toBe(3);
    await exporter.stop();
  });
});
