import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { alertFiles, grafanaRuleFile, inlineRecordingRules } from '../../../alerts/alert-files';
import { alertPack, type AlertRule } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG, resolveAlertsConfig } from '../../../alerts/alerts-config';
import { ConfigError } from '../../../core/errors';

const root = join(__dirname, '..', '..', '..');
const allRules = (config = DEFAULT_ALERTS_CONFIG): AlertRule[] => alertPack(config).flatMap((g) => [...g.alertRules]);

describe('alert pack', () => {
  it('committed rule files are exactly what the generator produces from the defaults', () => {
    const files = alertFiles(DEFAULT_ALERTS_CONFIG);
    for (const [rel, content] of files) expect({ file: rel, content: readFileSync(join(root, rel), 'utf8') }).toEqual({ file: rel, content });
    // No stale file left behind by a renamed group.
    for (const dir of ['alerts/prometheus', 'alerts/grafana']) {
      for (const f of readdirSync(join(root, dir))) expect([...files.keys()]).toContain(`${dir}/${f}`);
    }
  });

  it('has every alert the issue asks for', () => {
    const names = new Set(allRules().map((r) => r.alert));
    for (const n of [
      'KafkaConsumerLagSecondsHigh', 'KafkaConsumerStopped', 'KafkaConsumerStalled', 'KafkaConsumerFallingBehind', 'KafkaTimeToDrainHigh',
      'KafkaConsumerGroupEmptyWithLag', 'DeadLetterMessagesArriving', 'DeadLetterRatioHigh', 'RabbitMqQueueWithoutConsumers', 'RabbitMqQueueGrowing',
      'MessageLatencySloBurn', 'ProducerErrorRatioHigh', 'ProcessingErrorRatioHigh', 'ClockSkewSuspected', 'EdaExporterDown', 'EdaExporterStale',
    ]) expect(names).toContain(n);
    const severities = allRules().filter((r) => r.alert === 'KafkaConsumerLagSecondsHigh').map((r) => r.severity);
    expect(severities.sort()).toEqual(['critical', 'warning']);
  });

  it('every rule in both formats has a summary, a description and a runbook link to its own section of alerts/runbook.md', () => {
    const runbook = readFileSync(join(root, 'alerts/runbook.md'), 'utf8');
    const headings = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => m[1]));
    for (const group of alertPack(DEFAULT_ALERTS_CONFIG)) {
      const prom = parse(alertFiles(DEFAULT_ALERTS_CONFIG).get(`alerts/prometheus/${group.file}.yml`)!) as { groups: { rules: { alert?: string; annotations?: Record<string, string> }[] }[] };
      const graf = parse(alertFiles(DEFAULT_ALERTS_CONFIG).get(`alerts/grafana/${group.file}.yml`)!) as { groups: { rules: { title: string; annotations: Record<string, string> }[] }[] };
      const annotated = [
        ...prom.groups.flatMap((g) => g.rules.filter((r) => r.alert).map((r) => ({ name: r.alert!, a: r.annotations ?? {} }))),
        ...graf.groups.flatMap((g) => g.rules.map((r) => ({ name: r.title, a: r.annotations }))),
      ];
      expect(annotated.length).toBe(group.alertRules.length * 2);
      for (const { name, a } of annotated) {
        expect(a['summary']).toBeTruthy();
        expect(a['description']).toBeTruthy();
        expect(a['runbook_url']).toBe(`${DEFAULT_ALERTS_CONFIG.runbookUrl}#${name.toLowerCase()}`);
        expect(headings).toContain(name);
      }
    }
  });

  it('counters are only read through rate() or increase(), so no alert fires forever on a total', () => {
    // The one deliberate exception: `counter unless counter offset w` selects counters that did not
    // exist w ago (their first increment, which increase() cannot see); it compares presence only.
    const presenceOnly = /\(([a-z_:]+) unless \1 offset \w+\)/g;
    for (const group of alertPack(DEFAULT_ALERTS_CONFIG)) {
      for (const r of [...group.alertRules, ...group.recordingRules]) {
        const name = 'alert' in r ? r.alert : r.record;
        const outside = r.expr.replace(/\b(rate|increase)\((?:[^()]|\([^()]*\))*\)/g, '').replace(presenceOnly, '');
        expect({ name, counters: outside.match(/[a-z_:]+(_total|_bucket|_count)\b/g) ?? [] }).toEqual({ name, counters: [] });
      }
    }
  });

  it('thresholds, for: overrides and labels from a config change the generated rules', () => {
    const config = resolveAlertsConfig({
      thresholds: { kafkaLagSecondsWarning: 5, kafkaLagSecondsCritical: 7, dlqRatio: 0.2 },
      for: { KafkaConsumerLagSecondsHigh: '10s', 'KafkaConsumerLagSecondsHigh:critical': '20s' },
      labels: { team: 'orders' },
      exporterJob: 'lag',
      evaluationInterval: '1s',
    });
    const rules = allRules(config);
    const lag = rules.filter((r) => r.alert === 'KafkaConsumerLagSecondsHigh');
    expect(lag.map((r) => [r.severity, r.expr.endsWith('> 5') || r.expr.endsWith('> 7'), r.for])).toEqual([
      ['warning', true, '10s'],
      ['critical', true, '20s'],
    ]);
    expect(rules.find((r) => r.alert === 'DeadLetterRatioHigh')!.expr).toMatch(/> 0\.2$/);
    expect(rules.find((r) => r.alert === 'EdaExporterDown')!.expr).toBe('up{job="lag"} == 0');
    const file = parse(alertFiles(config).get('alerts/prometheus/kafka-consumers.yml')!) as { groups: { interval: string; rules: { labels: Record<string, string> }[] }[] };
    expect(file.groups[0]!.interval).toBe('1s');
    expect(file.groups[0]!.rules[0]!.labels).toEqual({ severity: 'warning', team: 'orders' });
  });

  it('rejects unknown keys, bad durations and an SLO threshold between latency buckets', () => {
    expect(() => resolveAlertsConfig({ thresholds: { kafkaLagSeconds: 5 } })).toThrow(ConfigError);
    expect(() => resolveAlertsConfig({ thresold: {} })).toThrow(/unknown key/);
    expect(() => resolveAlertsConfig({ for: { KafkaConsumerStopped: 'soon' } })).toThrow(/duration/);
    expect(() => resolveAlertsConfig({ for: { KafkaConsumerStoped: '1m' } })).toThrow(/names no alert rule/);
    expect(() => resolveAlertsConfig({ for: { 'KafkaConsumerStopped:warning': '1m' } })).toThrow(/names no alert rule/);
    expect(resolveAlertsConfig({ for: { 'KafkaConsumerStopped:critical': '1m' } }).for).toEqual({ 'KafkaConsumerStopped:critical': '1m' });
    expect(() => resolveAlertsConfig({ thresholds: { e2eLatencySloSeconds: 0.7 } })).toThrow(/bucket/);
    expect(() => resolveAlertsConfig({ thresholds: { dlqRatio: 1.5 } })).toThrow(/ratio/);
    expect(() => resolveAlertsConfig({ thresholds: { kafkaLagSecondsWarning: 1000 } })).toThrow(/Critical/);
    expect(() => resolveAlertsConfig({ labels: { severity: 'x' } })).toThrow(/label/);
  });

  it('Grafana provisioning files: apiVersion 1, unique short uids, one query and a condition per rule, recording rules inlined', () => {
    const uids = new Set<string>();
    for (const group of alertPack(DEFAULT_ALERTS_CONFIG)) {
      const doc = grafanaRuleFile(DEFAULT_ALERTS_CONFIG, group) as {
        apiVersion: number;
        groups: { folder: string; interval: string; rules: { uid: string; condition: string; for: string; data: { refId: string; model: { expr?: string } }[] }[] }[];
      };
      expect(doc.apiVersion).toBe(1);
      for (const g of doc.groups) {
        expect(g.folder).toBe('eda-harness');
        for (const r of g.rules) {
          expect(r.uid.length).toBeLessThanOrEqual(40);
          expect(uids.has(r.uid)).toBe(false);
          uids.add(r.uid);
          expect(r.condition).toBe('B');
          expect(r.data.map((d) => d.refId)).toEqual(['A', 'B']);
          expect(r.data[0]!.model.expr).not.toMatch(/eda:/);
        }
      }
    }
    expect(uids.size).toBe(allRules().length);
  });

  it('refuses to inline a recording rule used with a range, which would change its meaning', () => {
    const rec = [{ record: 'eda:x', expr: 'sum(eda_kafka_consumer_lag_messages)' }];
    expect(inlineRecordingRules('eda:x > 1', rec)).toBe('(sum(eda_kafka_consumer_lag_messages)) > 1');
    expect(() => inlineRecordingRules('deriv(eda:x[5m]) > 0', rec)).toThrow(/cannot be inlined/);
  });

  it('Grafana rules keep their last state on a query error instead of raising a DatasourceError per rule', () => {
    for (const group of alertPack(DEFAULT_ALERTS_CONFIG)) {
      const doc = grafanaRuleFile(DEFAULT_ALERTS_CONFIG, group) as { groups: { rules: { execErrState: string; noDataState: string }[] }[] };
      for (const r of doc.groups[0]!.rules) expect({ execErrState: r.execErrState, noDataState: r.noDataState }).toEqual({ execErrState: 'KeepLast', noDataState: 'OK' });
    }
  });
});
