import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../core/errors';
import { ensureDir } from '../../../core/ensure-dir';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'eda-ensure-dir-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureDir', () => {
  it('creates missing parents with the mode asked for, and accepts an existing folder', () => {
    const target = join(dir, 'a', 'b', 'c');
    expect(ensureDir(target, { mode: 0o700 })).toBe(target);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    expect(ensureDir(target)).toBe(target);
  });

  it('a file in the way is a ConfigError naming it', () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => ensureDir(join(dir, 'file', 'sub'), { what: '--out' })).toThrow(ConfigError);
    expect(() => ensureDir(join(dir, 'file', 'sub'), { what: '--out' })).toThrow(`Cannot use ${join(dir, 'file')} for --out`);
  });

  it('a path the kernel refuses (/proc) fails at once instead of spinning', () => {
    const started = Date.now();
    expect(() => ensureDir('/proc/forbidden/x', { what: '--out' })).toThrow(/Cannot create --out \/proc\/forbidden\/x: mkdir \/proc\/forbidden failed \(ENOENT\)/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('an unwritable parent is a ConfigError (unless we are root, who may write anywhere)', () => {
    const locked = join(dir, 'locked');
    ensureDir(locked);
    chmodSync(locked, 0o500);
    try {
      if (process.getuid?.() === 0) expect(ensureDir(join(locked, 'x'))).toBe(join(locked, 'x'));
      else expect(() => ensureDir(join(locked, 'x'))).toThrow(/EACCES/);
    } finally {
      chmodSync(locked, 0o700);
    }
    expect(existsSync(locked)).toBe(true);
  });
});
