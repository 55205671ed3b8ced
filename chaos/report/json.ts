import type { ChaosReport } from '../types';

/** The report as-is, for tools. */
export function renderJson(report: ChaosReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
