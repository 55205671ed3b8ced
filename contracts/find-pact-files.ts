import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ContractError } from '@eda-harness/core';

/** Pact files under the given files or directories (directories: their *.json, not recursive), sorted. */
export function findPactFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new ContractError(`no pact file or directory at ${abs}`, { hint: 'run the consumer tests first (they write pacts/), or pass --pacts <path>' });
    }
    if (isDir) files.push(...readdirSync(abs).filter((f) => f.endsWith('.json')).sort().map((f) => join(abs, f)));
    else files.push(abs);
  }
  return files;
}
