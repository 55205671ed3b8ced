// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the SDK subpaths need the ambient shims under moduleResolution node10 (see that file)
/// <reference path="./grafana-foundation-sdk.d.ts" />
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as HeatmapPanel } from '@grafana/grafana-foundation-sdk/heatmap';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { VisibilityMode, type DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { RESOURCE_LABEL, SERVICE_INFO_JOIN_LABELS, SERVICE_INFO_METRIC } from '@eda-harness/semconv';

/**
 * Shared building blocks for the eda-harness dashboards: one datasource variable, label-value
 * variables, and panel helpers that take PromQL plus a legend. Every dashboard queries through
 * `${datasource}`, so importing into a Grafana whose Prometheus has another uid just works.
 */

export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** What `dashboards build` can change; every field has a default (DEFAULT_DASHBOARD_OPTIONS). */
export interface DashboardOptions {
  /** Label carrying the cluster name on the exporter's series (the exporter's `clusterLabel`, default `cluster`). */
  readonly clusterLabel?: string;
  /** Per-partition panels show only the N partitions with the highest value at each step. */
  readonly partitionTopK?: number;
  /** A group whose status stayed STOP for this long is "abandoned": left out of the worst-lag panels, counted apart. */
  readonly abandonedAfter?: string;
}

export type ResolvedDashboardOptions = Required<DashboardOptions>;

export const DEFAULT_DASHBOARD_OPTIONS: ResolvedDashboardOptions = { clusterLabel: RESOURCE_LABEL.CLUSTER, partitionTopK: 20, abandonedAfter: '1h' };

/** Options with their defaults; a value Prometheus or Grafana could not use is an error naming it. */
export function resolveDashboardOptions(options: DashboardOptions = {}): ResolvedDashboardOptions {
  const o = { ...DEFAULT_DASHBOARD_OPTIONS, ...options };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.clusterLabel) || o.clusterLabel.startsWith('__')) {
    throw new Error(`dashboards: clusterLabel must be a Prometheus label name (letters, digits, _; not starting with __), got ${JSON.stringify(o.clusterLabel)}. Use the exporter's clusterLabel (default "${RESOURCE_LABEL.CLUSTER}").`);
  }
  if (!Number.isInteger(o.partitionTopK) || o.partitionTopK < 1 || o.partitionTopK > 1000) {
    throw new Error(`dashboards: partitionTopK must be a whole number from 1 to 1000, got ${String(o.partitionTopK)}.`);
  }
  if (!/^[1-9][0-9]*[smhdw]$/.test(o.abandonedAfter)) {
    throw new Error(`dashboards: abandonedAfter must be a Prometheus duration such as 30m or 1h, got ${JSON.stringify(o.abandonedAfter)}.`);
  }
  return o;
}

/**
 * Matchers on the cluster variable. The exporter puts the cluster label on every series it writes
 * (`exporter`); application series carry it only if the scrape configuration adds it as a target
 * label, so they also pass when they have none (`instrumentation`).
 */
export function clusterMatchers(o: ResolvedDashboardOptions): { exporter: string; instrumentation: string } {
  return { exporter: `${o.clusterLabel}=~"$cluster"`, instrumentation: `${o.clusterLabel}=~"$cluster|"` };
}

/** The `cluster` variable: values of the exporter's cluster label (optionally for one target: kafka, rabbitmq). */
export function clusterVariable(o: ResolvedDashboardOptions, metric: string, filter = ''): QueryVariableBuilder {
  return labelVariable('cluster', o.clusterLabel, metric, 'Cluster', filter);
}

/**
 * The label naming an instrumented service: OpenTelemetry's `service_name`. A series gets it from
 * the process's info series (`eda_service_info{service_name} 1`, written by startTelemetry and
 * joined on the scrape target), or carries it itself (OTLP ingestion or a relabel rule promoted
 * `service.name`). A series with neither falls back to the scrape `job`, which under Kubernetes
 * is the scrape configuration's name, not the service's.
 */
export const SERVICE_LABEL = RESOURCE_LABEL.SERVICE_NAME;

const INFO = SERVICE_INFO_METRIC.name;
const ON_TARGET = `on (${SERVICE_INFO_JOIN_LABELS.join(', ')})`;

/**
 * `metric{matchers}` for the series of the services in `$service`, in three disjoint parts: series
 * carrying service_name themselves; series without it, named by their target's eda_service_info;
 * series of targets without an info series, by job. `infoMatchers` filter the info series (the
 * cluster matcher: it carries the same target labels as the series it names).
 */
export function serviceSeries(metric: string, matchers: string, wrap: (selector: string) => string = (s) => s, infoMatchers = ''): string {
  const extra = matchers ? `, ${matchers}` : '';
  const info = (svc: string) => {
    const m = [svc, infoMatchers].filter(Boolean).join(', ');
    return m ? `${INFO}{${m}}` : INFO;
  };
  // `!=""` too: with All selected ("$service" is .*) `=~` alone also matches series without the label, counting them twice.
  const own = wrap(`${metric}{${SERVICE_LABEL}!="", ${SERVICE_LABEL}=~"$service"${extra}}`);
  const named = `${wrap(`${metric}{${SERVICE_LABEL}=""${extra}}`)} * ${ON_TARGET} group_left (${SERVICE_LABEL}) ${info(`${SERVICE_LABEL}=~"$service"`)}`;
  const byJob = `${wrap(`${metric}{${SERVICE_LABEL}="", job=~"$service"${extra}}`)} unless ${ON_TARGET} ${info('')}`;
  return `(${own} or (${named}) or (${byJob}))`;
}

/**
 * The `service` variable: service_name where the series carry it, else their target's
 * eda_service_info, else job (see SERVICE_LABEL). Grafana reads the values from an instant query
 * through the regex.
 */
export function serviceVariable(metric: string, filter = '', infoMatchers = ''): QueryVariableBuilder {
  const f = filter ? `, ${filter}` : '';
  const info = `${INFO}${infoMatchers ? `{${infoMatchers}}` : ''}`;
  const unnamed = `group by (${SERVICE_INFO_JOIN_LABELS.join(', ')}) (${metric}{${SERVICE_LABEL}=""${f}})`;
  const query =
    `query_result(count by (${SERVICE_LABEL}) (${metric}{${SERVICE_LABEL}!=""${f}}` +
    ` or (${unnamed} * ${ON_TARGET} group_left (${SERVICE_LABEL}) ${info})` +
    ` or label_replace(${unnamed} unless ${ON_TARGET} ${info}, "${SERVICE_LABEL}", "$1", "job", "(.+)")))`;
  return new QueryVariableBuilder('service')
    .label('Service')
    .datasource(DATASOURCE)
    .query({ qryType: 3, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(query)
    .regex(`/${SERVICE_LABEL}="([^"]+)"/`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

/** A dashboard with the settings all of ours share (tags, refresh, time range, shared crosshair). */
export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['eda-harness', 'messaging'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'));
}

/** A multi-select variable over one label's values, "All" meaning any value (regex `.*`). */
export function labelVariable(name: string, label: string, metric: string, title: string, filter = ''): QueryVariableBuilder {
  const query = `label_values(${metric}${filter ? `{${filter}}` : ''}, ${label})`;
  return new QueryVariableBuilder(name)
    .label(title)
    .datasource(DATASOURCE)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

export function row(title: string): RowBuilder {
  return new RowBuilder(title);
}

export interface Query {
  readonly expr: string;
  readonly legend: string;
  /** Ask Prometheus for exemplars: the points link to the trace of that very message. */
  readonly exemplar?: boolean;
  readonly format?: 'heatmap';
}

function target(q: Query, refId: string): DataqueryBuilder {
  const t = new DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(q.expr).legendFormat(q.legend).range();
  if (q.exemplar) t.exemplar(true);
  if (q.format === 'heatmap') t.format(PromQueryFormat.Heatmap);
  return t;
}

const refIds = 'ABCDEFGHIJ';

export function timeseries(title: string, description: string, unit: string, queries: readonly Query[], width = 12): TimeseriesPanel {
  const p = new TimeseriesPanel().title(title).description(description).datasource(DATASOURCE).unit(unit).height(8).span(width).fillOpacity(10).showPoints(VisibilityMode.Never);
  queries.forEach((q, i) => p.withTarget(target(q, refIds.charAt(i))));
  return p;
}

export function stat(title: string, description: string, unit: string, query: Query, width = 6): StatPanel {
  return new StatPanel().title(title).description(description).datasource(DATASOURCE).unit(unit).height(4).span(width).withTarget(target(query, 'A'));
}

export function heatmap(title: string, description: string, query: Query, width = 12): HeatmapPanel {
  return new HeatmapPanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .height(8)
    .span(width)
    .withTarget(target({ ...query, format: 'heatmap' }, 'A'));
}

/** A state timeline whose numeric values are shown as the names in `states` (value → text, color). */
export function stateTimeline(title: string, description: string, query: Query, states: Readonly<Record<number, { text: string; color: string }>>, width = 24): StateTimelinePanel {
  const options: Record<string, { text: string; color: string; index: number }> = {};
  Object.entries(states).forEach(([value, s], index) => (options[value] = { ...s, index }));
  return new StateTimelinePanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .height(8)
    .span(width)
    .mappings([{ type: MappingType.ValueToText, options }])
    .withTarget(target(query, 'A'));
}

export function build(d: DashboardBuilder): Dashboard {
  return d.build();
}
