import { statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ensureDir } from '@eda-harness/core';
import { renderHtml, type HtmlReport } from './html';
import { renderJson } from './json';
import { renderJUnit } from './junit';

export interface ReportPaths {
  readonly json: string;
  readonly junit: string;
  readonly html: string;
}

const HINT = 'Choose a report folder you can write to (--report-dir).';

const pathsIn = (dir: string): ReportPaths => ({ json: join(dir, 'chaos-report.json'), junit: join(dir, 'chaos-junit.xml'), html: join(dir, 'chaos-report.html') });

/**
 * Creates the report folder and proves the reports can be written there, before any scenario
 * starts a broker: a bad folder is one {@link ConfigError} naming it, in milliseconds, not after
 * minutes of chaos (and never Node 20's endless recursive mkdir on /proc paths). A probe file is
 * created and removed, since `access()` says yes to root on /proc and /sys. Returns the paths the
 * reports will have.
 */
export function prepareReportDir(dir: string): ReportPaths {
  const target = ensureDir(dir, { what: 'the report folder' });
  const probe = join(target, `.eda-harness-write-check-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
  } catch (err) {
    throw new ConfigError(`Cannot write into the report folder ${target} (${codeOf(err)})`, { cause: err, hint: HINT });
  }
  unlinkSync(probe);
  const paths = pathsIn(target);
  for (const p of Object.values(paths)) {
    if (isFolder(p)) throw new ConfigError(`Cannot write the report ${p}: it is a folder`, { hint: HINT });
  }
  return paths;
}

/**
 * Writes the three reports into `dir` (created if missing) and returns their paths. A service
 * run's report names its service under test (`service`: name and version) in the HTML and JSON.
 */
export function writeReports(report: HtmlReport, dir: string): ReportPaths {
  const paths = pathsIn(ensureDir(dir, { what: 'the report folder' }));
  const write = (path: string, content: string): void => {
    try {
      writeFileSync(path, content);
    } catch (err) {
      throw new ConfigError(`Cannot write the report ${path} (${codeOf(err)})`, { cause: err, hint: HINT });
    }
  };
  write(paths.json, renderJson(report));
  write(paths.junit, renderJUnit(report));
  write(paths.html, renderHtml(report));
  return paths;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : String(err);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
