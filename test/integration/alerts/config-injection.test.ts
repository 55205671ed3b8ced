import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { alertFiles, ruleAnnotations } from '../../../alerts/alert-files';
import { alertPack, type AlertRule } from '../../../alerts/alert-rules';
import { resolveAlertsConfig } from '../../../alerts/alerts-config';
import { ensurePrometheus } from '../../../environment/index';

/**
 * Issue 15, item 7: an `exporterJob` of `x"} or vector(1) #` used to end the selector and comment
 * out the rest, writing a valid EdaExporterDown rule that always fires. promtool evaluates the
 * generated rule on healthy series: it must stay silent, and fire only for a target whose job
 * label is that exact string and whose `up` is 0.
 */
const INJECTION = 'x"} or vector(1) #';
const config = resolveAlertsConfig({ exporterJob: INJECTION });
const rule = alertPack(config)
  .flatMap((g) => g.alertRules)
  .find((r) => r.alert === 'EdaExporterDown') as AlertRule;
let promtool: string;
let dir: string;

beforeAll(async () => {
  ({ promtool } = await ensurePrometheus());
});
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'eda-alerts-injection-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function promtoolRun(args: string[]): { code: number | null; output: string } {
  const res = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8' });
  return { code: res.status, output: `${res.stdout}${res.stderr}` };
}

/** A promtool unit test of `ruleFile`: the given series for 10 minutes, the expected alerts at 5m. */
function unitTest(ruleFile: string, series: Record<string, string>, expAlerts: unknown[]): { code: number | null; output: string } {
  const test = {
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: Object.entries(series).map(([s, values]) => ({ series: s, values })),
        alert_rule_test: [{ eval_time: '5m', alertname: 'EdaExporterDown', exp_alerts: expAlerts }],
      },
    ],
  };
  writeFileSync(join(dir, 'injection.test.yml'), stringify(test, { lineWidth: 0 }));
  return promtoolRun(['test', 'rules', 'injection.test.yml']);
}

const healthy = { 'up{job="eda-exporter", instance="a:9"}': '1x10', 'up{job="other", instance="b:9"}': '1x10', 'up{job="x", instance="c:9"}': '0x10' };

it('the generated rule file loads', () => {
  writeFileSync(join(dir, 'exporter.yml'), alertFiles(config).get('alerts/prometheus/exporter.yml')!);
  const res = promtoolRun(['check', 'rules', 'exporter.yml']);
  expect(res).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
});

it('does not fire while no target of that exact job is down (a job named "x" is down: not ours)', () => {
  writeFileSync(join(dir, 'exporter.yml'), alertFiles(config).get('alerts/prometheus/exporter.yml')!);
  const res = unitTest('exporter.yml', healthy, []);
  expect(res).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
});

it('fires for a down target whose job label is exactly the configured string', () => {
  writeFileSync(join(dir, 'exporter.yml'), alertFiles(config).get('alerts/prometheus/exporter.yml')!);
  const annotations = Object.fromEntries(Object.entries(ruleAnnotations(config, rule)).map(([k, v]) => [k, v.replace('{{ $labels.instance }}', 'd:9')]));
  const res = unitTest('exporter.yml', { ...healthy, 'up{job="x\\"} or vector(1) #", instance="d:9"}': '0x10' }, [
    { exp_labels: { severity: 'critical', job: INJECTION, instance: 'd:9' }, exp_annotations: annotations },
  ]);
  expect(res).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
});

it('the same test catches the unescaped rule, which fired on healthy series (the tests can fail)', () => {
  const unescaped = { groups: [{ name: 'injected', rules: [{ alert: 'EdaExporterDown', expr: `up{job="${INJECTION}"} == 0`, for: '2m' }] }] };
  writeFileSync(join(dir, 'unescaped.yml'), stringify(unescaped, { lineWidth: 0 }));
  expect(promtoolRun(['check', 'rules', 'unescaped.yml']).code).toBe(0);
  const res = unitTest('unescaped.yml', healthy, []);
  expect(res.code).not.toBe(0);
  expect(res.output).toContain('FAILED');
});
