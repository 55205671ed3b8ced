import type { ChaosReport } from '../types';
import { scenariosPassed, seconds, verdict } from './format';

/** Terminal output: one line, no control characters (an error message could carry escape sequences). */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\t]+\s*/g, ' ').replace(/\p{Cc}/gu, '').trim();
}

/** The terminal summary: a line per scenario, a line per invariant under it, and the total. */
export function summarize(report: ChaosReport): string {
  const width = Math.max(0, ...report.scenarios.map((s) => oneLine(s.name).length));
  const indent = ' '.repeat(6);
  const lines = report.scenarios.flatMap((s) => {
    const c = s.counts;
    const head = `${verdict(s.passed)}  ${oneLine(s.name).padEnd(width)}  (${seconds(s.durationMs, 1)} s)  sent ${c.sent}, acked ${c.acked}, consumed ${c.uniqueConsumed} unique, ${c.duplicates} duplicates`;
    // The error comes first: it explains why the invariants below look the way they do.
    const error = s.error === undefined ? [] : [`${indent}! did not run to the end: ${oneLine(s.error)}`];
    const invariants = s.invariants.map((i) => `${indent}${i.passed ? '✓' : '✗'} ${oneLine(i.name)}: ${oneLine(i.summary)}`);
    return [head, ...error, ...invariants];
  });
  return [...lines, `${scenariosPassed(report)} of ${report.scenarios.length} scenarios passed`].join('\n');
}
