import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** This package's version, from the package.json found walking up from this file (sources or dist/). */
export function chaosPackageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@eda-harness/chaos' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        /* not ours; keep walking */
      }
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
