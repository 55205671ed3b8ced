import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { exporterDependency, inhibitRules, type InhibitRule } from '../../../alerts/alert-files';
import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG, resolveAlertsConfig } from '../../../alerts/alerts-config';

const rules = alertPack(DEFAULT_ALERTS_CONFIG).flatMap((g) => [...g.alertRules]);
const names = new Set(rules.map((r) => r.alert));
const alertnames = (matchers: readonly string[]): string[] => {
  const m = matchers.map((x) => /^alertname=~"(.*)"$/.exec(x)).find((x) => x);
  return m?.[1] ? m[1].split('|') : [];
};
/** The rules that would inhibit `target` (alert name + labels) while `source` fires, by Alertmanager's matching. */
function inhibits(all: readonly InhibitRule[], source: Record<string, string>, target: Record<string, string>): boolean {
  const matches = (matchers: readonly string[], labels: Record<string, string>): boolean =>
    matchers.every((m) => {
      const eq = /^(\w+)="(.*)"$/.exec(m);
      if (eq) return (labels[eq[1]!] ?? '') === eq[2];
      const re = /^(\w+)=~"(.*)"$/.exec(m)!;
      return new RegExp(`^(?:${re[2]})$`).test(labels[re[1]!] ?? '');
    });
  return all.some((r) => matches(r.source_matchers, source) && matches(r.target_matchers, target) && (r.equal ?? []).every((l) => (source[l] ?? '') === (target[l] ?? '')));
}

describe('Alertmanager inhibition shipped with the pack', () => {
  const inhibit = inhibitRules(DEFAULT_ALERTS_CONFIG);

  it('names only alerts of the pack, and never an empty alternation', () => {
    for (const r of inhibit) {
      for (const n of [...alertnames(r.source_matchers), ...alertnames(r.target_matchers)]) expect(names).toContain(n);
      expect(alertnames(r.target_matchers).length).toBeGreaterThan(0);
    }
  });

  it('every alert that reads exporter series is inhibited while the exporter is down or absent; instrumentation alerts are not', () => {
    for (const r of rules) {
      const gone = ['EdaExporterDown', 'EdaExporterAbsent'].some((s) => inhibits(inhibit, { alertname: s, job: 'eda-exporter' }, { alertname: r.alert, cluster: 'eu' }));
      const dependsOnExporter = exporterDependency(r) !== undefined && !['EdaExporterDown', 'EdaExporterAbsent'].includes(r.alert);
      expect({ alert: r.alert, inhibited: gone }).toEqual({ alert: r.alert, inhibited: dependsOnExporter });
    }
    expect(inhibits(inhibit, { alertname: 'EdaExporterDown' }, { alertname: 'MessageLatencySloBurn' })).toBe(false);
  });

  it('a blind Kafka target inhibits Kafka alerts and Kafka DLQ alerts of its own cluster only, not RabbitMQ ones', () => {
    const stale = { alertname: 'EdaExporterCollectionFailing', target: 'kafka', cluster: 'eu' };
    expect(inhibits(inhibit, stale, { alertname: 'KafkaConsumerLagSecondsHigh', cluster: 'eu', group: 'g' })).toBe(true);
    expect(inhibits(inhibit, stale, { alertname: 'KafkaConsumerLagSecondsHigh', cluster: 'us', group: 'g' })).toBe(false);
    expect(inhibits(inhibit, stale, { alertname: 'DeadLetterMessagesArriving', system: 'kafka', cluster: 'eu' })).toBe(true);
    expect(inhibits(inhibit, stale, { alertname: 'DeadLetterMessagesArriving', system: 'rabbitmq', cluster: 'eu' })).toBe(false);
    expect(inhibits(inhibit, stale, { alertname: 'RabbitMqQueueGrowing', cluster: 'eu' })).toBe(false);
    const rabbit = { alertname: 'EdaExporterNeverCollected', target: 'rabbitmq', cluster: 'eu' };
    expect(inhibits(inhibit, rabbit, { alertname: 'RabbitMqQueueWithoutConsumers', cluster: 'eu' })).toBe(true);
    expect(inhibits(inhibit, rabbit, { alertname: 'KafkaConsumerStopped', cluster: 'eu' })).toBe(false);
  });

  it('matches on the configured kept labels', () => {
    const r = inhibitRules(resolveAlertsConfig({ keptLabels: ['tenant'] }));
    expect(inhibits(r, { alertname: 'EdaExporterStale', target: 'kafka', tenant: 'a' }, { alertname: 'KafkaConsumerStopped', tenant: 'b' })).toBe(false);
    expect(inhibits(r, { alertname: 'EdaExporterStale', target: 'kafka', tenant: 'a' }, { alertname: 'KafkaConsumerStopped', tenant: 'a' })).toBe(true);
  });

  it('the committed file holds these rules', () => {
    const file = parse(readFileSync(join(__dirname, '..', '..', '..', 'alerts', 'alertmanager', 'inhibit-rules.yml'), 'utf8')) as { inhibit_rules: InhibitRule[] };
    expect(file.inhibit_rules).toEqual(inhibit);
  });
});

describe('the compose stack Alertmanager', () => {
  it('carries every inhibition the pack generates (deploy/alertmanager/alertmanager.yml)', () => {
    const root = join(__dirname, '..', '..', '..');
    const deployed = parse(readFileSync(join(root, 'deploy/alertmanager/alertmanager.yml'), 'utf8')) as { inhibit_rules: unknown[] };
    const generated = parse(readFileSync(join(root, 'alerts/alertmanager/inhibit-rules.yml'), 'utf8')) as { inhibit_rules: unknown[] };
    expect(generated.inhibit_rules.length).toBeGreaterThan(0);
    for (const rule of generated.inhibit_rules) expect(deployed.inhibit_rules).toContainEqual(rule);
  });
});
