// Numbers, times and verdicts, printed the same way in every report format.

import type { ChaosReport, ScenarioCounts, ScenarioResult } from '../types';

export function finiteOr0(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

export function seconds(ms: number, digits: number): string {
  return (Math.max(0, finiteOr0(ms)) / 1000).toFixed(digits);
}

/** Figures are counts or milliseconds: integers print as-is, anything else to three decimals. */
export function formatNumber(n: number): string {
  return Number.isInteger(n) || !Number.isFinite(n) ? String(n) : n.toFixed(3);
}

/** Epoch ms of the scenario's second 0, or undefined when `startedAt` is not a date. */
export function originMs(scenario: ScenarioResult): number | undefined {
  const ms = Date.parse(scenario.startedAt);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An epoch-ms instant as milliseconds since the scenario started (epoch ms if that is unknown). */
export function relativeMs(atMs: number, origin: number | undefined): number {
  return origin === undefined ? atMs : atMs - origin;
}

export const COUNT_LABELS: readonly (readonly [keyof ScenarioCounts, string])[] = [
  ['sent', 'sent'],
  ['acked', 'acknowledged'],
  ['failed', 'failed sends'],
  ['deliveries', 'deliveries'],
  ['uniqueConsumed', 'unique consumed'],
  ['duplicates', 'duplicates'],
  ['poison', 'poison'],
];

export function scenariosPassed(report: ChaosReport): number {
  return report.scenarios.filter((s) => s.passed).length;
}

export function verdict(passed: boolean): 'PASS' | 'FAIL' {
  return passed ? 'PASS' : 'FAIL';
}
