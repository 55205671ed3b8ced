import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from './errors';
import { ensureDir } from './ensure-dir';

/**
 * Writes generated files (path relative to `root` → content), creating folders; returns the paths
 * written. A folder or file that cannot be written is a {@link ConfigError} naming it.
 */
export function writeGeneratedFiles(root: string, files: ReadonlyMap<string, string>): string[] {
  const written: string[] = [];
  for (const [rel, content] of files) {
    const full = join(root, rel);
    ensureDir(dirname(full), { what: 'the output folder' });
    try {
      writeFileSync(full, content);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new ConfigError(`Cannot write ${full} (${typeof code === 'string' ? code : String(err)})`, { cause: err, hint: 'Choose a folder you can write to (--out).' });
    }
    written.push(full);
  }
  return written;
}
