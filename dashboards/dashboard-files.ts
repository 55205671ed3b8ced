import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { deadLetters } from './dead-letters';
import { exporterHealth } from './exporter-health';
import { kafkaConsumerGroups } from './kafka-consumer-groups';
import { messagingOverview } from './messaging-overview';
import { rabbitmqQueues } from './rabbitmq-queues';
import { resolveDashboardOptions, type DashboardOptions } from './dashboard-kit';

/** Every dashboard, by the file name it is written to (dashboards/grafana/<name>.json). */
export function allDashboards(options: DashboardOptions = {}): ReadonlyMap<string, Dashboard> {
  const o = resolveDashboardOptions(options);
  return new Map([
    ['messaging-overview', messagingOverview(o)],
    ['kafka-consumer-groups', kafkaConsumerGroups(o)],
    ['rabbitmq-queues', rabbitmqQueues(o)],
    ['dead-letters', deadLetters(o)],
    ['exporter-health', exporterHealth(o)],
  ]);
}

/** Generated files, path relative to the repository root → content (what `dashboards build` writes). */
export function dashboardFiles(options: DashboardOptions = {}): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, d] of allDashboards(options)) files.set(`dashboards/grafana/${name}.json`, `${JSON.stringify(d, null, 2)}\n`);
  return files;
}

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

/** Every PromQL query of every panel, and of every template variable (as `label_values(...)`). */
export function dashboardQueries(options: DashboardOptions = {}): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [name, d] of allDashboards(options)) {
    for (const p of d.panels ?? []) {
      const targets = 'targets' in p ? (p.targets ?? []) : [];
      for (const t of targets) {
        const expr = (t as { expr?: unknown }).expr;
        if (typeof expr === 'string') out.push({ dashboard: name, panel: p.title ?? '', expr });
      }
    }
  }
  return out;
}

export function dashboardVariableQueries(options: DashboardOptions = {}): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [name, d] of allDashboards(options)) {
    for (const v of d.templating?.list ?? []) {
      if (v.type === 'query' && typeof v.definition === 'string') out.push({ dashboard: name, panel: `$${v.name}`, expr: v.definition });
    }
  }
  return out;
}
