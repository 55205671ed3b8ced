import { statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, ensureDir } from '@eda-harness/core';

/**
 * The `--out <dir>` of the generating commands (alerts, dashboards, docs build), checked before
 * anything is written: the folder and every subfolder the files go to can be created and written
 * (a probe file is created and removed, since `access()` says yes to root on /proc and /sys), and no
 * file to write is a folder. A bad path is one {@link ConfigError} (exit 2) naming it, never a hang
 * and never half the files written. Returns the absolute output folder.
 */
export function checkOutputFolder(out: string | undefined, files: ReadonlyMap<string, string>): string {
  if (out !== undefined && out.trim() === '') throw new ConfigError('--out must name a folder, got ""', { hint: 'for example --out ./monitoring; leave --out out to write into the current folder' });
  const root = ensureDir(out ?? process.cwd(), { what: 'the --out folder' });
  for (const dir of new Set([...files.keys()].map((rel) => dirname(join(root, rel))))) {
    ensureDir(dir, { what: 'the output folder' });
    probeWritable(dir);
  }
  for (const rel of files.keys()) {
    const file = join(root, rel);
    if (isFolder(file)) throw new ConfigError(`Cannot write ${file}: it is a folder`, { hint: 'Remove it, or choose another --out folder.' });
  }
  return root;
}

function probeWritable(dir: string): void {
  const probe = join(dir, `.eda-harness-write-check-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ConfigError(`Cannot write into ${dir} (${typeof code === 'string' ? code : String(err)})`, { cause: err, hint: 'Choose a folder you can write to (--out).' });
  }
  unlinkSync(probe);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
