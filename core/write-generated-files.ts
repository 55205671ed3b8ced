import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes generated files (path relative to `root` → content), creating folders; returns the paths written. */
export function writeGeneratedFiles(root: string, files: ReadonlyMap<string, string>): string[] {
  const written: string[] = [];
  for (const [rel, content] of files) {
    const full = join(root, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    written.push(full);
  }
  return written;
}
