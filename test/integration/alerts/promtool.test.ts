import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { alertFiles, inlineRecordingRules, ruleAnnotations, ruleLabels } from '../../../alerts/alert-files';
import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG, resolveAlertsConfig } from '../../../alerts/alerts-config';
import { main } from '../../../cli/main';
import { ensurePrometheus } from '../../../environment/index';
import { ensurePromtool3 } from '../../../environment/provision';

const root = join(__dirname, '..', '..', '..');
const alertsDir = join(root, 'alerts');
const testFiles = readdirSync(join(alertsDir, 'tests')).filter((f) => f.endsWith('.test.yml'));
// The pack must hold on both majors: Debian's promtool (Prometheus 2) and Prometheus 3's, built by
// provisioning from the Go module proxy (3 changed range-selector boundaries and `le` formatting).
const promtools = new Map<string, string>();

beforeAll(async () => {
  promtools.set('2', (await ensurePrometheus()).promtool);
  promtools.set('3', await ensurePromtool3());
}, 20 * 60_000);

describe.each(['2', '3'])('promtool of Prometheus %s', (major) => {
  function run(args: string[], cwd: string): { code: number | null; output: string } {
    const promtool = promtools.get(major);
    if (!promtool) throw new Error(`promtool of Prometheus ${major} was not provisioned`);
    const res = spawnSync(promtool, args, { cwd, encoding: 'utf8' });
    return { code: res.status, output: `${res.stdout}${res.stderr}` };
  }

  it('evaluates ranges as Prometheus of that major does (2: [t-r, t]; 3: (t-r, t])', () => {
    // A go-installed promtool prints no version, so tell the two apart by what changed between
    // them: the sample exactly at t - range is inside a range selector on 2 and outside on 3.
    const dir = mkdtempSync(join(tmpdir(), 'eda-promtool-major-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'g', rules: [{ alert: 'ThreeSamples', expr: 'count_over_time(x[2m]) == 3' }] }] }));
      const expAlerts = major === '2' ? [{ exp_labels: {} }] : [];
      writeFileSync(
        join(dir, 'major.test.yml'),
        stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests: [{ interval: '1m', input_series: [{ series: 'x', values: '1 1 1' }], alert_rule_test: [{ eval_time: '2m', alertname: 'ThreeSamples', exp_alerts: expAlerts }] }] }),
      );
      const res = run(['test', 'rules', 'major.test.yml'], dir);
      expect(res).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('check rules passes on every Prometheus rule file', () => {
    const files = readdirSync(join(alertsDir, 'prometheus')).map((f) => join('prometheus', f));
    expect(files.length).toBe(alertPack(DEFAULT_ALERTS_CONFIG).length);
    const res = run(['check', 'rules', ...files], alertsDir);
    expect(res).toEqual({ code: 0, output: expect.not.stringMatching(/FAILED/) });
  });

  it.each(testFiles)('test rules %s', (file) => {
    const res = run(['test', 'rules', file], join(alertsDir, 'tests'));
    expect(res.output).toContain('SUCCESS');
    expect(res.code).toBe(0);
  });

  it('test rules fails when an expectation is wrong (the tests can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-promtool-'));
    try {
      const text = readFileSync(join(alertsDir, 'tests', 'kafka-consumers.test.yml'), 'utf8')
        .replace(/\.\.\/prometheus\//g, `${join(alertsDir, 'prometheus')}/`)
        .replace('- eval_time: 10m\n        alertname: KafkaConsumerLagSecondsHigh', '- eval_time: 6m\n        alertname: KafkaConsumerLagSecondsHigh\n        exp_alerts: [{exp_labels: {severity: warning, group: inventory, topic: orders}}]');
      writeFileSync(join(dir, 'broken.test.yml'), text);
      const res = run(['test', 'rules', 'broken.test.yml'], dir);
      expect(res.code).not.toBe(0);
      expect(res.output).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Grafana rules (recording rules inlined) pass the same tests as the Prometheus rules', () => {
    // Grafana evaluates the inlined PromQL; running it through the same promtool cases proves
    // the two formats agree on when each alert fires, with which labels and values.
    const dir = mkdtempSync(join(tmpdir(), 'eda-grafana-equiv-'));
    try {
      for (const group of alertPack(DEFAULT_ALERTS_CONFIG)) {
        const doc = {
          groups: [
            {
              name: group.name,
              rules: group.alertRules.map((r) => ({
                alert: r.alert,
                expr: inlineRecordingRules(r.expr, group.recordingRules),
                for: r.for,
                labels: ruleLabels(DEFAULT_ALERTS_CONFIG, r),
                annotations: ruleAnnotations(DEFAULT_ALERTS_CONFIG, r),
              })),
            },
          ],
        };
        writeFileSync(join(dir, `${group.file}.yml`), stringify(doc, { lineWidth: 0 }));
      }
      for (const file of testFiles) {
        writeFileSync(join(dir, file), readFileSync(join(alertsDir, 'tests', file), 'utf8').replace(/\.\.\/prometheus\//g, './'));
        const res = run(['test', 'rules', file], dir);
        expect({ file, code: res.code, output: res.output }).toEqual({ file, code: 0, output: expect.stringContaining('SUCCESS') });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('groupOverrides: a Connect sink committing every 20 minutes does not page as stopped; it still does once it really stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-rare-committer-'));
    try {
      const stoppedAt = (labels: string): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } => ({
        exp_labels: { severity: 'critical', group: labels, topic: 'orders' },
        exp_annotations: {
          summary: `Consumer group ${labels} stopped consuming topic orders.`,
          description: `1 partition(s) of topic orders have messages waiting, and group ${labels} has neither moved its committed offset for ${labels === 'inventory' ? '10m' : '1h'} nor received a message.`,
          runbook_url: `${DEFAULT_ALERTS_CONFIG.runbookUrl}#kafkaconsumerstopped`,
        },
      });
      const series = (group: string, commits: string, lag: string): { series: string; values: string }[] => [
        { series: `eda_kafka_consumer_last_commit_timestamp_seconds{group="${group}",topic="orders",partition="0"}`, values: commits },
        { series: `eda_kafka_consumer_lag_messages{group="${group}",topic="orders",partition="0"}`, values: lag },
      ];
      const test = {
        rule_files: ['kafka-consumers.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // Commits about every 20 minutes (the exporter's timestamp of the last commit); messages always wait.
              ...series('connect-files', '0x19 1200x20 2400x20 3600x20 4800x10', '500x90'),
              // Commits at 0 and 20m, then never again: stopped for over an hour from 81m, firing from 86m.
              ...series('connect-audit', '0x19 1200x70', '500x90'),
              ...series('inventory', '0x90', '5x90'),
            ],
            alert_rule_test: [
              { eval_time: '19m', alertname: 'KafkaConsumerStopped', exp_alerts: [stoppedAt('inventory')] },
              { eval_time: '90m', alertname: 'KafkaConsumerStopped', exp_alerts: [stoppedAt('connect-audit'), stoppedAt('inventory')] },
            ],
          },
        ],
      };
      writeFileSync(join(dir, 'rare.test.yml'), stringify(test));
      const rulesWith = (config: unknown): void => {
        const files = alertFiles(resolveAlertsConfig(config));
        writeFileSync(join(dir, 'kafka-consumers.yml'), files.get('alerts/prometheus/kafka-consumers.yml')!);
      };
      // The default thresholds page the rare committer 15 minutes into every 20-minute cycle.
      rulesWith(undefined);
      const before = run(['test', 'rules', 'rare.test.yml'], dir);
      expect(before.code).not.toBe(0);
      expect(before.output).toContain('connect-files');
      rulesWith({ groupOverrides: [{ groups: 'connect-*', kafkaStoppedAfterSeconds: 3600 }] });
      expect(run(['test', 'rules', 'rare.test.yml'], dir)).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the PrometheusRule resource (alerts/kubernetes) holds rules that pass check rules and every promtool test', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-prometheusrule-'));
    try {
      const resource = parse(readFileSync(join(alertsDir, 'kubernetes', 'prometheus-rule.yml'), 'utf8')) as { kind: string; spec: { groups: unknown[] } };
      expect(resource.kind).toBe('PrometheusRule');
      writeFileSync(join(dir, 'from-resource.yml'), stringify({ groups: resource.spec.groups }, { lineWidth: 0 }));
      expect(run(['check', 'rules', 'from-resource.yml'], dir)).toEqual({ code: 0, output: expect.not.stringMatching(/FAILED/) });
      for (const file of testFiles) {
        const text = readFileSync(join(alertsDir, 'tests', file), 'utf8').replace(/rule_files:\n(\s+- \.\.\/prometheus\/[a-z-]+\.yml\n)+/, 'rule_files:\n  - from-resource.yml\n');
        expect(text).toContain('- from-resource.yml');
        writeFileSync(join(dir, file), text);
        const res = run(['test', 'rules', file], dir);
        expect({ file, code: res.code, output: res.output }).toEqual({ file, code: 0, output: expect.stringContaining('SUCCESS') });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`eda-harness alerts build --config` writes rule files promtool accepts, with the configured thresholds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-alerts-build-'));
    try {
      const config = join(dir, 'alerts.json');
      writeFileSync(config, JSON.stringify({ thresholds: { kafkaLagSecondsWarning: 42, kafkaLagSecondsCritical: 84 }, labels: { team: 'orders' } }));
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        expect(await main(['alerts', 'build', '--config', config, '--out', dir])).toBe(0);
      } finally {
        log.mockRestore();
      }
      const expected = alertFiles({ ...DEFAULT_ALERTS_CONFIG });
      expect(readdirSync(join(dir, 'alerts', 'prometheus')).length).toBe([...expected.keys()].filter((k) => k.includes('/prometheus/')).length);
      const kafka = readFileSync(join(dir, 'alerts', 'prometheus', 'kafka-consumers.yml'), 'utf8');
      expect(kafka).toContain('max by (group, topic, cluster, namespace, env, team) (eda_kafka_consumer_lag_seconds) > 42');
      expect(kafka).toContain('team: orders');
      const res = run(['check', 'rules', ...readdirSync(join(dir, 'alerts', 'prometheus')).map((f) => join('alerts', 'prometheus', f))], dir);
      expect(res.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
