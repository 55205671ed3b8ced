import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG } from '../../../alerts/alerts-config';
import { PROMETHEUS_BUILTIN_METRICS, promqlReferences, referenceProblems, type KnownMetric } from '../../../alerts/promql-references';
import { METRICS } from '../../../semconv/index';

const groups = alertPack(DEFAULT_ALERTS_CONFIG);
/** What the code exports (@eda-harness/semconv, read afresh on every run), plus Prometheus's own `up`. */
const exported: KnownMetric[] = [...METRICS, ...PROMETHEUS_BUILTIN_METRICS];
/** Recorded series carry the labels of the metrics their expression reads. */
const recorded: KnownMetric[] = groups.flatMap((g) =>
  g.recordingRules.map((r) => ({
    name: r.record,
    type: 'gauge' as const,
    labels: [...new Set(promqlReferences(r.expr).metrics.flatMap((m) => exported.find((e) => m.startsWith(e.name))?.labels ?? []))],
  })),
);

describe('alert and recording rules refer only to exported metrics and labels', () => {
  const cases = groups.flatMap((g) => [
    ...g.recordingRules.map((r) => [`recording rule ${r.record}`, r.expr] as const),
    ...g.alertRules.map((r) => [`alert ${r.alert} (${r.severity})`, r.expr] as const),
  ]);
  it.each(cases)('%s', (_name, expr) => {
    expect(promqlReferences(expr).metrics.length).toBeGreaterThan(0);
    expect(referenceProblems(expr, [...exported, ...recorded], DEFAULT_ALERTS_CONFIG.keptLabels)).toEqual([]);
  });
});

describe('the reference check', () => {
  it('finds metric names and labels in selectors, grouping clauses, joins and label_replace', () => {
    const refs = promqlReferences(
      'sum by (group) (rate(a_total{x="1", y=~"b|c"}[5m] offset 1m)) / on (group) group_left (z) label_replace(b_bucket{le="+Inf"}, "dst", "$1", "src", "(.*)") > bool 0 and max(c) without (w)',
    );
    expect(refs.metrics).toEqual(['a_total', 'b_bucket', 'c']);
    expect(refs.labels.map((l) => `${l.label}:${l.metric ?? ''}:${l.created}`)).toEqual([
      'group::false', 'x:a_total:false', 'y:a_total:false', 'group::false', 'z::false', 'le:b_bucket:false', 'dst::true', 'src::false', 'w::false',
    ]);
  });

  it('reads Grafana variables and $__rate_interval without mistaking them for metrics', () => {
    expect(promqlReferences('sum(rate(eda_dlq_messages_total{dlq=~"$dlq"}[$__rate_interval]))').metrics).toEqual(['eda_dlq_messages_total']);
  });

  it('fails on an unknown metric, a histogram read without a suffix, a label the metric lacks, and a grouping label nobody carries', () => {
    expect(referenceProblems('eda_kafka_consumer_lagg_seconds > 1', exported)).toEqual(['unknown metric eda_kafka_consumer_lagg_seconds']);
    expect(referenceProblems('rate(eda_message_e2e_latency_seconds[5m])', exported)).toEqual(['unknown metric eda_message_e2e_latency_seconds']);
    expect(referenceProblems('rate(messaging_client_sent_messages[5m])', exported)).toEqual(['unknown metric messaging_client_sent_messages']);
    expect(referenceProblems('eda_kafka_consumer_lag_seconds{consumer_group="g"}', exported)).toEqual(['metric eda_kafka_consumer_lag_seconds has no label consumer_group']);
    expect(referenceProblems('max by (cluster) (eda_kafka_consumer_lag_seconds)', exported)).toEqual(['label cluster is carried by none of eda_kafka_consumer_lag_seconds']);
    expect(referenceProblems('max by (cluster) (eda_kafka_consumer_lag_seconds)', exported, ['cluster'])).toEqual([]);
    expect(referenceProblems('max by (cluster, tenant) (eda_kafka_consumer_lag_seconds)', exported, ['cluster'])).toEqual(['label tenant is carried by none of eda_kafka_consumer_lag_seconds']);
    expect(referenceProblems('sum({__name__=~"eda_.*"})', exported)).toEqual([expect.stringContaining('selector without a metric name')]);
  });

  it('accepts histogram suffixes, le on buckets, and target labels', () => {
    expect(referenceProblems('sum by (le, job) (rate(eda_message_e2e_latency_seconds_bucket{stage="processed"}[5m]))', exported)).toEqual([]);
    expect(referenceProblems('eda_message_e2e_latency_seconds_sum / eda_message_e2e_latency_seconds_count', exported)).toEqual([]);
  });
});
