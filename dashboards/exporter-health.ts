import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, dashboard, labelVariable, row, timeseries } from './dashboard-kit';

/** Exporter health: is it scraped, does each collection succeed, how long it takes, how stale it is. */
export function exporterHealth(): Dashboard {
  return build(
    dashboard('eda-exporter-health', 'eda-harness / Exporter health', 'Scrape status, per-target collection success, duration, staleness and errors of the eda-harness lag / DLQ / queue exporter.')
      .withVariable(labelVariable('exporter', 'job', METRIC.EXPORTER_UP.name, 'Exporter job'))
      .withRow(row('Collection'))
      .withPanel(timeseries('Scraped by Prometheus', '1 while Prometheus can scrape the exporter (the `up` series).', 'short', [{ expr: 'max by (job, instance) (up{job=~"$exporter"})', legend: '{{instance}}' }]))
      .withPanel(
        timeseries('Last collection succeeded', '1 when the last collection from the target succeeded.', 'short', [
          { expr: `max by (${L.TARGET}) (${METRIC.EXPORTER_UP.name}{job=~"$exporter"})`, legend: `{{${L.TARGET}}}` },
        ]),
      )
      .withPanel(
        timeseries('Collection duration', 'How long the last collection from each target took.', 's', [
          { expr: `max by (${L.TARGET}) (${METRIC.EXPORTER_COLLECT_DURATION.name}{job=~"$exporter"})`, legend: `{{${L.TARGET}}}` },
        ]),
      )
      .withPanel(
        timeseries('Time since last successful collection', 'Staleness of what the exporter serves; EdaExporterStale fires above its threshold.', 's', [
          { expr: `time() - max by (${L.TARGET}) (${METRIC.EXPORTER_LAST_SUCCESS.name}{job=~"$exporter"})`, legend: `{{${L.TARGET}}}` },
        ]),
      )
      .withRow(row('Errors'))
      .withPanel(
        timeseries('Collection errors per second', 'Failed collections per target (0 when none failed).', 'short', [
          {
            expr: `sum by (${L.TARGET}) (rate(${METRIC.EXPORTER_COLLECT_ERRORS.name}{job=~"$exporter"}[$__rate_interval])) or 0 * max by (${L.TARGET}) (${METRIC.EXPORTER_UP.name}{job=~"$exporter"})`,
            legend: `{{${L.TARGET}}}`,
          },
        ]),
      ),
  );
}
