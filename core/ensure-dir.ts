import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './errors';

export interface EnsureDirOptions {
  /** Permission bits for folders this call creates (default 0o777 less the umask). */
  readonly mode?: number;
  /** What the folder is for, in messages ("the report folder", "--out"). */
  readonly what?: string;
}

/**
 * Creates `dir` and its missing parents one level at a time, and returns its absolute path.
 * Unlike `mkdirSync(dir, { recursive: true })`, which on Node 20 spins forever on paths such as
 * /proc/forbidden, every failure is one {@link ConfigError} naming the folder and the reason
 * (not permitted, read-only, a file in the way), before anything is written.
 */
export function ensureDir(dir: string, options: EnsureDirOptions = {}): string {
  const target = resolve(dir);
  const what = options.what ?? 'the folder';
  const missing: string[] = [];
  let probe = target;
  for (;;) {
    const kind = kindOf(probe);
    if (kind === 'dir') break;
    if (kind === 'other') throw new ConfigError(`Cannot use ${probe} for ${what} (${target}): it exists and is not a folder`);
    missing.unshift(probe);
    const parent = dirname(probe);
    if (parent === probe) break;
    probe = parent;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, options.mode === undefined ? undefined : { mode: options.mode });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'EEXIST' && kindOf(d) === 'dir') continue; // created meanwhile by someone else
      throw new ConfigError(`Cannot create ${what} ${target}: mkdir ${d} failed (${typeof code === 'string' ? code : String(err)})`, {
        cause: err,
        hint: 'Choose a folder you can write to.',
      });
    }
  }
  return target;
}

function kindOf(path: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}
