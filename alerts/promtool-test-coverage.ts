import { parse } from 'yaml';
import type { AlertRule } from './alert-rules';
import { promqlReferences } from './promql-references';

/**
 * Checks that the promtool unit tests (alerts/tests/*.test.yml) cover every alert rule the way the
 * pack promises. For each rule (alert name + severity) there must be:
 * - a **firing** case: an expected alert with that severity and exact summary, description and
 *   runbook_url annotations, preceded in the same test by an evaluation, within `for:` of it,
 *   where that alert is expected to be silent (so the `for:` is proven, not just the condition);
 * - a **must-not-fire** case with input: a test that feeds at least one metric the rule reads,
 *   never expects the rule to fire, and evaluates it no earlier than its `for:`;
 * - an **absent-input** case: a test feeding none of the metrics the rule reads that evaluates it
 *   and expects nothing.
 * promtool itself checks that the expectations hold; this checks that they exist.
 */

interface ExpAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: ExpAlert[];
}
interface TestItem {
  name?: string;
  input_series?: { series: string }[];
  alert_rule_test?: AlertRuleTest[];
}

export function durationSeconds(d: string): number {
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let consumed = 0;
  for (const m of d.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1);
    consumed += m[0].length;
  }
  if (consumed !== d.length) throw new Error(`not a duration: "${d}"`);
  return total;
}

function seriesMetric(series: string): string {
  const m = /^\s*([A-Za-z_:][A-Za-z0-9_:]*)/.exec(series);
  if (!m?.[1]) throw new Error(`input series without a metric name: ${series}`);
  return m[1];
}

/** Metric names a rule reads, as they appear in input series (histograms by their suffixed names). */
function ruleMetrics(rule: AlertRule, recorded: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set<string>();
  for (const m of promqlReferences(rule.expr).metrics) {
    const inner = recorded.get(m);
    if (inner) for (const x of inner) out.add(x);
    else out.add(m);
  }
  return out;
}

export interface CoverageGap {
  readonly alert: string;
  readonly severity: string;
  readonly missing: 'firing' | 'silent-before-for' | 'must-not-fire' | 'absent-input';
}

/**
 * @param rules every alert rule of the pack
 * @param recording recorded series name → metric names its expression reads
 * @param testFiles the YAML texts of the promtool test files
 */
export function promtoolTestCoverage(rules: readonly AlertRule[], recording: ReadonlyMap<string, readonly string[]>, testFiles: readonly string[]): CoverageGap[] {
  const items: TestItem[] = [];
  for (const text of testFiles) {
    const doc = parse(text) as { tests?: TestItem[] };
    items.push(...(doc.tests ?? []));
  }
  const gaps: CoverageGap[] = [];
  for (const rule of rules) {
    const forSeconds = durationSeconds(rule.for);
    const metrics = ruleMetrics(rule, recording);
    const hasSeverity = (t: AlertRuleTest): boolean => (t.exp_alerts ?? []).some((a) => a.exp_labels?.['severity'] === rule.severity);
    let firing = false;
    let silentBefore = false;
    let mustNotFire = false;
    let absent = false;
    for (const item of items) {
      const evals = (item.alert_rule_test ?? []).filter((t) => t.alertname === rule.alert);
      if (evals.length === 0) continue;
      const fed = (item.input_series ?? []).map((s) => seriesMetric(s.series));
      const feedsRule = fed.some((m) => metrics.has(m));
      const firingEvals = evals.filter(hasSeverity);
      for (const f of firingEvals) {
        const exact = (f.exp_alerts ?? []).filter((a) => a.exp_labels?.['severity'] === rule.severity);
        if (!exact.every((a) => a.exp_annotations?.['summary'] && a.exp_annotations['description'] && a.exp_annotations['runbook_url'])) continue;
        firing = true;
        const at = durationSeconds(f.eval_time);
        // Silent at some earlier point that lies within `for:` of the firing evaluation.
        if (evals.some((e) => !hasSeverity(e) && durationSeconds(e.eval_time) < at && at - durationSeconds(e.eval_time) <= Math.max(forSeconds, 60))) silentBefore = true;
      }
      if (firingEvals.length === 0) {
        const lateEnough = evals.some((e) => durationSeconds(e.eval_time) >= forSeconds);
        if (lateEnough && feedsRule) mustNotFire = true;
        if (lateEnough && !feedsRule) absent = true;
      }
    }
    if (!firing) gaps.push({ alert: rule.alert, severity: rule.severity, missing: 'firing' });
    else if (!silentBefore && forSeconds > 0) gaps.push({ alert: rule.alert, severity: rule.severity, missing: 'silent-before-for' });
    if (!mustNotFire) gaps.push({ alert: rule.alert, severity: rule.severity, missing: 'must-not-fire' });
    // A rule that fires on absent input by design proves that with its firing case.
    if (!absent && !rule.firesOnAbsentInput) gaps.push({ alert: rule.alert, severity: rule.severity, missing: 'absent-input' });
  }
  return gaps;
}
