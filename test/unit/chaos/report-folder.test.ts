import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareReportDir, writeReports } from '../../../chaos/report';
import type { ChaosReport } from '../../../chaos/types';
import { ConfigError } from '../../../core/errors';

/**
 * The report folder is checked before any scenario starts (issue 15, item 4): Node 20's recursive
 * mkdirSync spins forever on /proc paths, and a folder found unwritable only after minutes of chaos
 * loses the run. Every failure is a ConfigError (exit 2) naming the folder.
 */
const report: ChaosReport = { tool: 'eda-harness test', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, passed: true, scenarios: [] };

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

describe('prepareReportDir', () => {
  let base: string;
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'chaos-report-folder-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('creates a missing folder, leaves nothing in it, and returns the report paths', () => {
    const dir = join(base, 'a', 'b');
    expect(prepareReportDir(dir)).toEqual({ json: join(dir, 'chaos-report.json'), junit: join(dir, 'chaos-junit.xml'), html: join(dir, 'chaos-report.html') });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails at once with a ConfigError naming the folder on /proc paths (Node 20 mkdir -p would spin forever)', () => {
    const started = Date.now();
    const err = thrown(() => prepareReportDir('/proc/forbidden/chaos'));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^Cannot create the report folder \/proc\/forbidden\/chaos: mkdir \/proc\/forbidden failed/);
  });

  it('fails on a folder that exists but takes no files (access() says yes to root on /proc)', () => {
    const err = thrown(() => prepareReportDir('/proc'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^Cannot write into the report folder \/proc \(/);
  });

  it('fails when a file is in the way of the folder, or a folder in the way of a report', () => {
    writeFileSync(join(base, 'file'), '');
    expect(thrown(() => prepareReportDir(join(base, 'file')))).toBeInstanceOf(ConfigError);
    expect(thrown(() => prepareReportDir(join(base, 'file', 'sub'))).message).toContain('it exists and is not a folder');
    mkdirSync(join(base, 'out', 'chaos-junit.xml'), { recursive: true });
    expect(thrown(() => prepareReportDir(join(base, 'out'))).message).toBe(`Cannot write the report ${join(base, 'out', 'chaos-junit.xml')}: it is a folder`);
  });
});

describe('writeReports', () => {
  it('turns an unwritable folder or report into a ConfigError, never a hang or a raw fs error', () => {
    const base = mkdtempSync(join(tmpdir(), 'chaos-report-folder-'));
    try {
      writeFileSync(join(base, 'file'), '');
      expect(thrown(() => writeReports(report, join(base, 'file', 'out'))).message).toContain('it exists and is not a folder');
      mkdirSync(join(base, 'chaos-report.json'));
      const err = thrown(() => writeReports(report, base));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toBe(`Cannot write the report ${join(base, 'chaos-report.json')} (EISDIR)`);
      expect(existsSync(join(base, 'chaos-junit.xml'))).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
