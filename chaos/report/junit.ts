import type { ChaosReport, FaultWindow, InvariantResult, ScenarioResult } from '../types';
import { COUNT_LABELS, formatNumber, originMs, relativeMs, seconds } from './format';
import { escapeMarkup, xmlAttr } from './markup';

/**
 * JUnit XML, for CI: a broken invariant fails the pipeline and shows up by name in the test tab.
 * One testsuite per scenario, one testcase per invariant, one more for a scenario that did not
 * run to the end.
 */

interface Tally {
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
}

// A scenario that did not run to the end is an error, not a failure: the invariants may all
// hold on the little that was observed, and the CI must still go red.
function tally(scenario: ScenarioResult): Tally {
  const hasError = scenario.error !== undefined;
  return {
    tests: scenario.invariants.length + (hasError ? 1 : 0),
    failures: scenario.invariants.filter((i) => !i.passed).length,
    errors: hasError ? 1 : 0,
  };
}

/** JUnit's schema wants a timestamp without zone or fraction; the value is UTC. */
function junitTimestamp(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19);
}

function faultRange(fault: FaultWindow, origin: number | undefined): string {
  const start = Math.round(relativeMs(fault.startMs, origin));
  const end = fault.endMs === undefined ? '?' : String(Math.round(relativeMs(fault.endMs, origin)));
  return `${start}..${end} ms`;
}

function junitProperties(scenario: ScenarioResult): string[] {
  const origin = originMs(scenario);
  const props: (readonly [string, string])[] = [['system', scenario.system]];
  for (const f of scenario.faults) {
    props.push([`fault.${f.name}`, faultRange(f, origin)]);
    if (f.error !== undefined) props.push([`fault.${f.name}.error`, f.error]);
  }
  for (const [key] of COUNT_LABELS) props.push([`counts.${key}`, String(scenario.counts[key])]);
  return ['    <properties>', ...props.map(([n, v]) => `      <property name="${xmlAttr(n)}" value="${xmlAttr(v)}"/>`), '    </properties>'];
}

/** What a CI shows under a failed test: the figures behind the verdict, then the offending messages. */
function failureText(inv: InvariantResult): string {
  const figures = Object.entries(inv.figures).map(([k, v]) => `${k}: ${formatNumber(v)}`);
  const examples = inv.examples.length === 0 ? [] : ['examples:', ...inv.examples.map((e) => `  ${e}`)];
  return [...figures, ...examples].join('\n');
}

function junitInvariant(scenario: ScenarioResult, inv: InvariantResult): string[] {
  const open = `    <testcase classname="${xmlAttr(`chaos.${scenario.name}`)}" name="${xmlAttr(inv.name)}" time="0.000"`;
  if (inv.passed) return [`${open}/>`];
  return [`${open}>`, `      <failure message="${xmlAttr(inv.summary)}" type="InvariantViolated">${escapeMarkup(failureText(inv))}</failure>`, '    </testcase>'];
}

function junitScenarioError(scenario: ScenarioResult, error: string): string[] {
  const firstLine = error.split(/\r?\n/, 1)[0] ?? error;
  return [
    `    <testcase classname="${xmlAttr(`chaos.${scenario.name}`)}" name="scenario ran to the end" time="${seconds(scenario.durationMs, 3)}">`,
    `      <error message="${xmlAttr(firstLine)}" type="ScenarioError">${escapeMarkup(error)}</error>`,
    '    </testcase>',
  ];
}

function junitSuite(scenario: ScenarioResult): string[] {
  const t = tally(scenario);
  const attrs = [
    `name="${xmlAttr(scenario.name)}"`,
    `tests="${t.tests}"`,
    `failures="${t.failures}"`,
    `errors="${t.errors}"`,
    'skipped="0"',
    `time="${seconds(scenario.durationMs, 3)}"`,
    `timestamp="${xmlAttr(junitTimestamp(scenario.startedAt))}"`,
  ];
  return [
    `  <testsuite ${attrs.join(' ')}>`,
    ...junitProperties(scenario),
    ...scenario.invariants.flatMap((inv) => junitInvariant(scenario, inv)),
    ...(scenario.error === undefined ? [] : junitScenarioError(scenario, scenario.error)),
    '  </testsuite>',
  ];
}

export function renderJUnit(report: ChaosReport): string {
  const totals = report.scenarios.map(tally).reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors }), { tests: 0, failures: 0, errors: 0 });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="eda-harness chaos" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${seconds(report.durationMs, 3)}">`,
    ...report.scenarios.flatMap(junitSuite),
    '</testsuites>',
    '',
  ].join('\n');
}
