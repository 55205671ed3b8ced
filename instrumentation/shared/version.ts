import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** This package's version for the tracer's instrumentation scope; "0.0.0" if it cannot be read. */
export function packageVersionSafe(): string {
  if (cached !== undefined) return cached;
  cached = '0.0.0';
  for (const up of ['..', '../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@eda-harness/instrumentation' && pkg.version) {
        cached = pkg.version;
        break;
      }
    } catch {
      /* try the next level: this file is shared/ (one below the package root) in sources, dist/shared/ (two) when built */
    }
  }
  return cached;
}
