import { resolve } from 'node:path';

/** The directory pact files go to and are read from: `$PACT_DIR`, else `pacts/` under the working directory. */
export function defaultPactDir(): string {
  return resolve(process.env['PACT_DIR'] ?? 'pacts');
}
