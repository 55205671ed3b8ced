import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';

/**
 * Dependencies point one way: the vocabulary and core at the bottom, the CLI on top. Every import a
 * package's sources make is declared in its own package.json, and none reaches into another
 * package's files, so each packed tarball works on its own.
 */
const root = join(__dirname, '..', '..', '..');
const LAYER: Readonly<Record<string, number>> = {
  semconv: 0,
  core: 0,
  instrumentation: 1,
  environment: 1,
  exporter: 2,
  contracts: 2,
  alerts: 2,
  dashboards: 2,
  chaos: 3,
  examples: 3,
  cli: 4,
};

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
const manifests = new Map(rootManifest.workspaces.map((dir) => [dir, JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest]));
const folderOf = new Map([...manifests].map(([dir, m]) => [m.name, dir]));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'dist' || e.name === 'node_modules') return [];
    const full = join(dir, e.name);
    return e.isDirectory() ? sources(full) : /\.(ts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Module specifiers of static imports, re-exports, dynamic imports and require calls. */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s+'([^']+)'/g, /\bimport\(\s*'([^']+)'\s*\)/g, /\brequire\(\s*'([^']+)'\s*\)/g];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1] as string);
  return found;
}

const packageName = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
const builtins = new Set(builtinModules);

describe.each([...manifests.keys()])('package %s', (dir) => {
  const manifest = manifests.get(dir) as Manifest;
  const declared = { ...manifest.dependencies, ...manifest.peerDependencies };
  const files = sources(join(root, dir));

  it('has a layer, and every @eda-harness dependency sits in a lower one at the same version', () => {
    expect(LAYER[dir]).toBeDefined();
    for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
      const target = folderOf.get(name);
      if (target === undefined) continue;
      expect({ dependency: name, below: (LAYER[target] as number) < (LAYER[dir] as number) }).toEqual({ dependency: name, below: true });
      expect({ dependency: name, range }).toEqual({ dependency: name, range: manifests.get(target)?.version });
    }
  });

  it('imports only what its package.json declares, and never another package\u2019s files', () => {
    const problems: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const where = relative(root, file);
        if (spec.startsWith('.')) {
          const target = relative(join(root, dir), resolve(file, '..', spec));
          if (target.startsWith('..')) problems.push(`${where}: '${spec}' leaves the package`);
          continue;
        }
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        const name = packageName(spec);
        if (name === manifest.name) continue;
        if (!(name in declared)) problems.push(`${where}: '${spec}' is not a dependency of ${manifest.name}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

it('tests and benchmarks import a package\u2019s sources by <folder>/index, never the folder itself (which resolves to its built dist/)', () => {
  const folders = new Set(manifests.keys());
  const problems: string[] = [];
  for (const file of [...sources(join(root, 'test')), ...sources(join(root, 'bench'))]) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(file, '..', spec));
      if (folders.has(target)) problems.push(`${relative(root, file)}: '${spec}'`);
    }
  }
  expect(problems).toEqual([]);
});

describe('specifiers', () => {
  it('finds static, side-effect, dynamic and require imports', () => {
    expect(specifiers(`import a from 'a';\nimport 'b';\nexport * from './c';\nconst d = await import('d');\nrequire('e/f');`)).toEqual(['a', './c', 'b', 'd', 'e/f']);
  });
});
