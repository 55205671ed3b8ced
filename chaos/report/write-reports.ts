import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosReport } from '../types';
import { renderHtml } from './html';
import { renderJson } from './json';
import { renderJUnit } from './junit';

/** Writes the three reports into `dir` (created if missing) and returns their paths. */
export function writeReports(report: ChaosReport, dir: string): { json: string; junit: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, 'chaos-report.json'), junit: join(dir, 'chaos-junit.xml'), html: join(dir, 'chaos-report.html') };
  writeFileSync(paths.json, renderJson(report));
  writeFileSync(paths.junit, renderJUnit(report));
  writeFileSync(paths.html, renderHtml(report));
  return paths;
}
