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

/**
 * Shared building blocks for the eda-harness dashboards: one datasource variable, label-value
 * variables, and panel helpers that take PromQL plus a legend. Every dashboard queries through
 * `${datasource}`, so importing into a Grafana whose Prometheus has another uid just works.
 */

export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

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
