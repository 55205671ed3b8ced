import type { VerificationReport } from '../types';

/**
 * A verification report as CI logs show it: one line per interaction, grouped by consumer, and
 * under each failure every mismatch with where it is (JSONPath or metadata key); interactions
 * that were not verified (HTTP, synchronous messages) as SKIP with the reason.
 */
export function formatReport(report: VerificationReport): string {
  const lines: string[] = [`Verifying provider "${report.provider}" against ${report.sources.length} pact source(s):`, ...report.sources.map((s) => `  ${s}`), ''];
  const skipped = report.skipped;
  const consumers = [...new Set([...report.interactions.map((i) => i.consumer), ...skipped.map((s) => s.consumer)])];
  for (const consumer of consumers) {
    lines.push(`${consumer} -> ${report.provider}`);
    for (const i of report.interactions.filter((x) => x.consumer === consumer)) {
      const given = i.states.length > 0 ? ` (given ${i.states.join(', ')})` : '';
      const status = i.passed ? 'PASS' : i.pending ? 'PEND' : 'FAIL';
      lines.push(`  ${status}  "${i.description}"${given}`);
      for (const m of i.mismatches) lines.push(`        ${consumer}: "${i.description}": ${m.where}: ${m.message}`);
    }
    for (const s of skipped.filter((x) => x.consumer === consumer)) lines.push(`  SKIP  "${s.description}": not verified, ${s.reason}`);
  }
  for (const p of report.problems) lines.push(`  ERROR  ${p}`);
  if (report.interactions.length === 0 && report.problems.length === 0) lines.push('  (no interactions found)');
  const failed = report.interactions.filter((i) => !i.passed && !i.pending).length;
  const pending = report.interactions.filter((i) => i.pending).length;
  const passed = report.interactions.length - failed - pending;
  const counts = `${report.interactions.length} interaction(s): ${passed} passed, ${failed} failed${pending > 0 ? `, ${pending} pending (not failing the build)` : ''}.`;
  const skips = skipped.length > 0 ? ` ${skipped.length} skipped (not message interactions).` : '';
  lines.push('', `${counts}${skips} ${report.passed ? 'Contract verified.' : 'Contract BROKEN.'}`);
  return lines.join('\n');
}
