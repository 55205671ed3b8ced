import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { alertFiles, inlineRecordingRules, ruleAnnotations, ruleLabels } from '../../../alerts/alert-files';
import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG, resolveAlertsConfig } from '../../../alerts/alerts-config';
import { main } from '../../../cli/main';
import { KAFKA_CONSUMER_STATUS } from '@eda-harness/semconv';
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

  /**
   * A groupOverrides case: `test` (a promtool test over kafka-consumers.yml) fails on the rules built
   * with the default config, naming `pagedGroup` (the false page), and passes on the rules built
   * with `config` (the override silences it, and the real fault still pages).
   */
  function overrideCase(name: string, config: unknown, test: unknown, pagedGroup: string): void {
    const dir = mkdtempSync(join(tmpdir(), `eda-override-${name}-`));
    try {
      writeFileSync(join(dir, 'case.test.yml'), stringify({ rule_files: ['kafka-consumers.yml'], evaluation_interval: '1m', tests: [test] }));
      const rulesWith = (c: unknown): void => writeFileSync(join(dir, 'kafka-consumers.yml'), alertFiles(resolveAlertsConfig(c)).get('alerts/prometheus/kafka-consumers.yml')!);
      rulesWith(undefined);
      const before = run(['test', 'rules', 'case.test.yml'], dir);
      expect({ code: before.code, paged: before.output.includes(`group="${pagedGroup}"`) }).toEqual({ code: 1, paged: true });
      rulesWith(config);
      expect(run(['test', 'rules', 'case.test.yml'], dir)).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const runbook = (alert: string): string => `${DEFAULT_ALERTS_CONFIG.runbookUrl}#${alert.toLowerCase()}`;

  it('groupOverrides kafkaAllowedLagMessages: a group that keeps 1 message by design is neither stopped nor empty; one of the same groups with 50 waiting still pages', () => {
    const group = (g: string, lag: number): { series: string; values: string }[] => [
      { series: `eda_kafka_consumer_last_commit_timestamp_seconds{group="${g}",topic="payments",partition="0"}`, values: '0x30' },
      { series: `eda_kafka_consumer_lag_messages{group="${g}",topic="payments",partition="0"}`, values: `${lag}x30` },
      { series: `eda_kafka_consumer_group_members{group="${g}"}`, values: '0x30' },
    ];
    const allowed = ' (more than the 1 allowed)';
    overrideCase(
      'allowed-lag',
      { groupOverrides: [{ groups: 'tx-*', kafkaAllowedLagMessages: 1 }] },
      {
        interval: '1m',
        input_series: [...group('tx-legacy', 1), ...group('tx-dead', 50)],
        alert_rule_test: [
          {
            eval_time: '20m',
            alertname: 'KafkaConsumerStopped',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', group: 'tx-dead', topic: 'payments' },
                exp_annotations: {
                  summary: 'Consumer group tx-dead stopped consuming topic payments.',
                  description: `1 partition(s) of topic payments have messages waiting${allowed}, and group tx-dead has neither moved its committed offset for 10m nor received a message.`,
                  runbook_url: runbook('KafkaConsumerStopped'),
                },
              },
            ],
          },
          {
            eval_time: '20m',
            alertname: 'KafkaConsumerGroupEmptyWithLag',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', group: 'tx-dead' },
                exp_annotations: {
                  summary: 'Consumer group tx-dead has no members while 50 messages wait.',
                  description: `Group tx-dead has no live consumer, and 50 messages wait on its partitions${allowed}: nothing will consume them until a consumer joins.`,
                  runbook_url: runbook('KafkaConsumerGroupEmptyWithLag'),
                },
              },
            ],
          },
        ],
      },
      'tx-legacy',
    );
  });

  it('groupOverrides for: a nightly ETL group may lag 30 minutes before its warning pages; it still pages once that passes', () => {
    const lagHigh = (severity: string, threshold: string) => ({
      exp_labels: { severity, group: 'etl-nightly', topic: 'orders' },
      exp_annotations: {
        summary: 'Consumer group etl-nightly is 40m 0s behind on topic orders.',
        description: `The oldest message group etl-nightly has not yet consumed from topic orders is 40m 0s old (${severity} above ${threshold}).`,
        runbook_url: runbook('KafkaConsumerLagSecondsHigh'),
      },
    });
    overrideCase(
      'for',
      { groupOverrides: [{ groups: 'etl-*', for: { 'KafkaConsumerLagSecondsHigh:warning': '30m' } }] },
      {
        interval: '1m',
        // Above 300 s from 6m: the default warning pages at 11m, the override's at 36m.
        input_series: [{ series: 'eda_kafka_consumer_lag_seconds{group="etl-nightly",topic="orders",partition="0"}', values: '0+60x45' }],
        alert_rule_test: [
          { eval_time: '15m', alertname: 'KafkaConsumerLagSecondsHigh' },
          { eval_time: '40m', alertname: 'KafkaConsumerLagSecondsHigh', exp_alerts: [lagHigh('warning', '5m'), lagHigh('critical', '15m')] },
        ],
      },
      'etl-nightly',
    );
  });

  it('groupOverrides FallingBehind floor: a bulk loader whose delay creeps up under 10 minutes does not page; past 10 minutes for the whole window it does', () => {
    overrideCase(
      'falling-behind',
      { groupOverrides: [{ groups: 'bulk-*', kafkaFallingBehindMinLagSeconds: 600 }] },
      {
        interval: '1m',
        input_series: [
          // The delay grows 10 s a minute (910 s at 90m) and the exporter rates the trend WARN throughout.
          { series: 'eda_kafka_consumer_lag_seconds{group="bulk-load",topic="orders",partition="0"}', values: '10+10x90' },
          { series: 'eda_kafka_consumer_status{group="bulk-load"}', values: `${KAFKA_CONSUMER_STATUS.WARN}x90` },
        ],
        alert_rule_test: [
          { eval_time: '40m', alertname: 'KafkaConsumerFallingBehind' },
          {
            eval_time: '90m',
            alertname: 'KafkaConsumerFallingBehind',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', group: 'bulk-load', topic: 'orders' },
                exp_annotations: {
                  summary: 'Consumer group bulk-load is falling behind on topic orders.',
                  description:
                    'On 1 partition(s) of topic orders, the delay of group bulk-load (lag in seconds) has not reached zero (above 10m throughout) and kept growing over 15m, and the exporter rates its lag trend WARN: messages arrive faster than they are consumed.',
                  runbook_url: runbook('KafkaConsumerFallingBehind'),
                },
              },
            ],
          },
        ],
      },
      'bulk-load',
    );
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
