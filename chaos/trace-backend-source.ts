import type { Observations } from './types';

/**
 * What a verdict read from spans says of where they came from: ` (spans read from Jaeger at <url>:
 * 9 of 9 traces found, 18 spans of 18 exported)`, or nothing when the harness recorded them itself.
 * For every invariant that reads `spans` (the traces invariant, a service's), so a verdict over a
 * backend's spans always names it.
 */
export function spanSourceNote(o: Pick<Observations, 'spanSource'>): string {
  const src = o.spanSource;
  if (!src) return '';
  return ` (spans read from ${src.backend} at ${src.url}: ${src.tracesFound} of ${src.traces} traces found, ${src.spans} spans${src.exported === undefined ? '' : ` of ${src.exported} exported`})`;
}

/** The source's figures for a verdict (none when the harness recorded the spans itself). */
export function spanSourceFigures(o: Pick<Observations, 'spanSource'>): Record<string, number> {
  const src = o.spanSource;
  if (!src) return {};
  return { tracesAsked: src.traces, tracesFound: src.tracesFound, spansRead: src.spans, ...(src.exported === undefined ? {} : { spansExported: src.exported }), ...(src.exportFailed ? { spansExportFailed: src.exportFailed } : {}) };
}
