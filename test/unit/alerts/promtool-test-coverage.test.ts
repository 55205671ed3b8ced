import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG } from '../../../alerts/alerts-config';
import { promqlReferences } from '../../../alerts/promql-references';
import { promtoolTestCoverage } from '../../../alerts/promtool-test-coverage';

const testsDir = join(__dirname, '..', '..', '..', 'alerts', 'tests');
const testFiles = readdirSync(testsDir)
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => readFileSync(join(testsDir, f), 'utf8'));
const groups = alertPack(DEFAULT_ALERTS_CONFIG);
const rules = groups.flatMap((g) => [...g.alertRules]);
const recording = new Map(groups.flatMap((g) => g.recordingRules.map((r) => [r.record, promqlReferences(r.expr).metrics] as const)));

describe('promtool test coverage', () => {
  it('every alert rule has a firing case (silent just before for: runs out), a must-not-fire case and an absent-input case', () => {
    expect(promtoolTestCoverage(rules, recording, testFiles)).toEqual([]);
  });

  it('every rule file is tested and every test file names an existing rule file', () => {
    const ruleFiles = new Set<string>();
    for (const text of testFiles) for (const f of (parse(text) as { rule_files: string[] }).rule_files) ruleFiles.add(f);
    expect([...ruleFiles].sort()).toEqual(groups.map((g) => `../prometheus/${g.file}.yml`).sort());
  });

  // The checker must be able to fail: remove cases from the real files and see it notice.
  const without = (predicate: (t: { name?: string }) => boolean): string[] =>
    testFiles.map((text) => {
      const doc = parse(text) as { tests: { name?: string }[] };
      return stringify({ ...doc, tests: doc.tests.filter((t) => !predicate(t)) });
    });

  it('reports an alert whose firing case is missing', () => {
    const gaps = promtoolTestCoverage(rules, recording, without((t) => t.name?.startsWith('group empty while lag exists') ?? false));
    expect(gaps).toEqual([{ alert: 'KafkaConsumerGroupEmptyWithLag', severity: 'critical', missing: 'firing' }]);
  });

  it('reports an alert whose must-not-fire case is missing', () => {
    const gaps = promtoolTestCoverage(rules, recording, without((t) => ['a group with members and lag', 'idle caught-up consumer', 'a manual-assignment group', 'transactional topic'].some((n) => t.name?.startsWith(n) === true)));
    expect(gaps).toContainEqual({ alert: 'KafkaConsumerGroupEmptyWithLag', severity: 'critical', missing: 'must-not-fire' });
  });

  it('reports alerts without an absent-input case', () => {
    const gaps = promtoolTestCoverage(rules, recording, without((t) => t.name?.startsWith('absent input') ?? false));
    // EdaExporterAbsent fires on absent input by design: its firing case is its absent-input case.
    expect(gaps.map((g) => g.missing)).toEqual(rules.filter((r) => !r.firesOnAbsentInput).map(() => 'absent-input'));
  });

  it('reports a firing case that does not show the alert silent before for: elapses', () => {
    const edited = testFiles.map((text) => {
      const doc = parse(text) as { tests: { name?: string; alert_rule_test?: { eval_time: string; exp_alerts?: unknown[] }[] }[] };
      for (const t of doc.tests) if (t.name?.startsWith('group empty while lag exists') && t.alert_rule_test) t.alert_rule_test = t.alert_rule_test.filter((e) => e.exp_alerts);
      return stringify(doc);
    });
    expect(promtoolTestCoverage(rules, recording, edited)).toEqual([{ alert: 'KafkaConsumerGroupEmptyWithLag', severity: 'critical', missing: 'silent-before-for' }]);
  });

  it('does not count a firing case without exact annotations', () => {
    const edited = testFiles.map((text) => text.replace(/(summary: Consumer group inventory has no members while 7 messages wait\.\n)/, '').replace(/\n\s+description: 'Group inventory has no live consumer[^\n]*/, ''));
    expect(promtoolTestCoverage(rules, recording, edited)).toEqual([{ alert: 'KafkaConsumerGroupEmptyWithLag', severity: 'critical', missing: 'firing' }]);
  });
});
