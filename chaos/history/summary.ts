import { countsOf } from '../scenario';
import type { HistoryCheck } from './check';

/** One terminal line, no control characters (a recorded error could carry escape sequences). */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\t]+\s*/g, ' ').replace(/\p{Cc}/gu, '').trim();
}

/**
 * `chaos check`'s terminal output, shaped like the run's summary (a line per history, a line per
 * invariant), with what only a re-check can say: the offending messages of a failed invariant,
 * invariants that could not be rebuilt, and verdicts that differ from the ones the run recorded.
 */
export function summarizeChecks(checks: readonly HistoryCheck[]): string {
  const indent = ' '.repeat(6);
  const lines = checks.flatMap((c) => {
    const n = countsOf(c.observations);
    const head = `${c.passed ? 'PASS' : 'FAIL'}  ${oneLine(c.scenario)}  (${oneLine(c.source)})  sent ${n.sent}, acked ${n.acked}, consumed ${n.uniqueConsumed} unique, ${n.duplicates} duplicates`;
    const error = c.error === undefined ? [] : [`${indent}! did not run to the end: ${oneLine(c.error)}`];
    const invariants = c.invariants.flatMap((i) => [`${indent}${i.passed ? '✓' : '✗'} ${oneLine(i.name)}: ${oneLine(i.summary)}`, ...(i.passed ? [] : i.examples.map((e) => `${indent}    - ${oneLine(e)}`))]);
    const skipped = c.notRecheckable.map((s) => `${indent}? ${oneLine(s.name)}: not re-checkable (${oneLine(s.reason)})${s.runPassed === undefined ? '' : `; the run said ${s.runPassed ? 'PASS' : 'FAIL'}`}`);
    const changed = c.changed.map((d) => `${indent}≠ ${oneLine(d.name)}: the run said ${d.runPassed ? 'PASS' : 'FAIL'}, this history now says ${d.nowPassed ? 'PASS' : 'FAIL'} (was it edited?)`);
    return [head, ...error, ...invariants, ...skipped, ...changed];
  });
  const passed = checks.filter((c) => c.passed).length;
  return [...lines, `${passed} of ${checks.length} ${checks.length === 1 ? 'history' : 'histories'} passed`].join('\n');
}

/** The JSON `chaos check --json` prints: verdicts and figures, not the rebuilt observations. */
export function checksJson(checks: readonly HistoryCheck[]): string {
  const out = checks.map((c) => ({
    scenario: c.scenario,
    history: c.source,
    passed: c.passed,
    error: c.error,
    counts: countsOf(c.observations),
    invariants: c.invariants,
    notRecheckable: c.notRecheckable,
    changed: c.changed,
  }));
  return `${JSON.stringify({ passed: checks.every((c) => c.passed), histories: out }, null, 2)}\n`;
}
