import * as api from '@opentelemetry/api';
import * as semconv from '@eda-harness/semconv';
import * as otelApi from '../../../instrumentation/shared/otel-api';
import * as vocabulary from '../../../instrumentation/shared/vocabulary';

/** The names a module exports, with how each is exported (value or getter). */
function exported(mod: object): Array<[string, PropertyDescriptor]> {
  return Object.entries(Object.getOwnPropertyDescriptors(mod)).filter(([name]) => name !== '__esModule');
}

describe('the hot paths read the API and the vocabulary through plain constants', () => {
  it.each([
    ['shared/otel-api', otelApi as object, api as object],
    ['shared/vocabulary', vocabulary as object, semconv as object],
  ])('%s: every name is a data property holding the very value the package exports', (_name, bound, source) => {
    const names = exported(bound);
    expect(names.length).toBeGreaterThan(10);
    for (const [name, desc] of names) {
      // A getter here would bring back the cost per read these modules exist to remove.
      expect({ name, getter: typeof desc.get }).toEqual({ name, getter: 'undefined' });
      expect((bound as Record<string, unknown>)[name]).toBe((source as Record<string, unknown>)[name]);
    }
  });

  it('the instrumentation imports values from them, not from the packages (types may come from anywhere)', () => {
    const { readdirSync, readFileSync, statSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    const { join } = jest.requireActual<typeof import('node:path')>('node:path');
    const root = join(__dirname, '../../../instrumentation');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (entry === 'dist' || entry === 'node_modules') continue;
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith('otel-api.ts') && !path.endsWith('vocabulary.ts')) {
          for (const line of readFileSync(path, 'utf8').split('\n')) {
            if (/^import \{/.test(line) && /from '(@opentelemetry\/api|@eda-harness\/semconv)';$/.test(line)) offenders.push(`${path.slice(root.length + 1)}: ${line}`);
          }
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
