import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, clusterMatchers, clusterVariable, dashboard, labelVariable, row, timeseries, type ResolvedDashboardOptions } from './dashboard-kit';

/** Exporter health: is it scraped, does each collection succeed, how long it takes, how stale it is, what it read. */
export function exporterHealth(o: ResolvedDashboardOptions): Dashboard {
  const C = o.clusterLabel;
  const cm = clusterMatchers(o);
  const e = `job=~"$exporter", ${cm.exporter}`;
  const by = `${C}, ${L.TARGET}`;
  const legend = `{{${C}}} {{${L.TARGET}}}`;
  return build(
    dashboard('eda-exporter-health', 'eda-harness / Exporter health', 'Scrape status, per-target collection success, duration, staleness, partial failures and what each collection read, for the eda-harness lag / DLQ / queue exporter.')
      .withVariable(labelVariable('exporter', 'job', METRIC.EXPORTER_UP.name, 'Exporter job'))
      .withVariable(clusterVariable(o, METRIC.EXPORTER_UP.name, 'job=~"$exporter"'))
      .withRow(row('Collection'))
      .withPanel(
        timeseries('Scraped by Prometheus', '1 while Prometheus can scrape the exporter (the `up` series). One exporter serves several clusters: `up` has a cluster label only if the scrape configuration adds one.', 'short', [
          { expr: `max by (job, instance) (up{job=~"$exporter", ${cm.instrumentation}})`, legend: '{{instance}}' },
        ]),
      )
      .withPanel(
        timeseries('Last collection succeeded', '1 when the last collection from the target succeeded.', 'short', [
          { expr: `max by (${by}) (${METRIC.EXPORTER_UP.name}{${e}})`, legend },
        ]),
      )
      .withPanel(
        timeseries('Collection duration', 'How long the last collection from each target took.', 's', [
          { expr: `max by (${by}) (${METRIC.EXPORTER_COLLECT_DURATION.name}{${e}})`, legend },
        ]),
      )
      .withPanel(
        timeseries('Time since last successful collection', 'Staleness of what the exporter serves; EdaExporterStale fires above its threshold.', 's', [
          { expr: `time() - max by (${by}) (${METRIC.EXPORTER_LAST_SUCCESS.name}{${e}})`, legend },
        ]),
      )
      .withPanel(
        timeseries('Sample age', 'Age of the broker state behind the values the exporter serves now: time() minus when it was read (eda_exporter_last_collection_timestamp_seconds). Up to one interval plus one collection when healthy; keeps growing while collections fail.', 's', [
          { expr: `time() - max by (${by}) (${METRIC.EXPORTER_LAST_COLLECTION.name}{${e}})`, legend },
        ]),
      )
      .withPanel(
        timeseries('Collected objects', 'What the last successful collection read, by object: groups, group partitions, topics, partitions, DLQs (Kafka); queues, DLQs (RabbitMQ). A sudden drop means the exporter sees less (ACLs, a filter, a broker down).', 'short', [
          { expr: `max by (${by}, ${L.OBJECT}) (${METRIC.EXPORTER_COLLECTED_OBJECTS.name}{${e}})`, legend: `{{${C}}} {{${L.TARGET}}} {{${L.OBJECT}}}` },
        ]),
      )
      .withRow(row('Errors'))
      .withPanel(
        timeseries('Collection errors per second', 'Failed collections per target (0 when none failed).', 'ops', [
          {
            expr: `sum by (${by}) (rate(${METRIC.EXPORTER_COLLECT_ERRORS.name}{${e}}[$__rate_interval])) or 0 * max by (${by}) (${METRIC.EXPORTER_UP.name}{${e}})`,
            legend,
          },
        ]),
      )
      .withPanel(
        timeseries('Partial failures per second, by request', 'Requests that failed inside a collection that still succeeded (describe_group, fetch_offsets, list_offsets, management…): only the series that request feeds go stale. 0 when none failed.', 'ops', [
          {
            expr: `sum by (${by}, ${L.REQUEST}) (rate(${METRIC.EXPORTER_PARTIAL_FAILURES.name}{${e}}[$__rate_interval])) or 0 * max by (${by}) (${METRIC.EXPORTER_UP.name}{${e}})`,
            legend: `{{${C}}} {{${L.TARGET}}} {{${L.REQUEST}}}`,
          },
        ]),
      ),
  );
}
