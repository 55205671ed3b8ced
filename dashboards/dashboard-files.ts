import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { deadLetters } from './dead-letters';
import { exporterHealth } from './exporter-health';
import { kafkaConsumerGroups } from './kafka-consumer-groups';
import { messagingOverview } from './messaging-overview';
import { rabbitmqQueues } from './rabbitmq-queues';

/** Every dashboard, by the file name it is written to (dashboards/grafana/<name>.json). */
export function allDashboards(): ReadonlyMap<string, Dashboard> {
  return new Map([
    ['messaging-overview', messagingOverview()],
    ['kafka-consumer-groups', kafkaConsumerGroups()],
    ['rabbitmq-queues', rabbitmqQueues()],
    ['dead-letters', deadLetters()],
    ['exporter-health', exporterHealth()],
  ]);
}

/** Generated files, path relative to the repository root → content (what `dashboards build` writes). */
export function dashboardFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, d] of allDashboards()) files.set(`dashboards/grafana/${name}.json`, `${JSON.stringify(d, null, 2)}\n`);
  return files;
}

export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

/** Every PromQL query of every panel, and of every template variable (as `label_values(...)`). */
export function dashboardQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [name, d] of allDashboards()) {
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

export function dashboardVariableQueries(): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [name, d] of allDashboards()) {
    for (const v of d.templating?.list ?? []) {
      if (v.type === 'query' && typeof v.definition === 'string') out.push({ dashboard: name, panel: `$${v.name}`, expr: v.definition });
    }
  }
  return out;
}
