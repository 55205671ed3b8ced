import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The README is the front door and docs/ holds the rest: the README stays short, every relative
 * link in them leads somewhere, and every code snippet imports only what exists.
 */
const root = join(__dirname, '..', '..', '..');
const MAX_README_LINES = 250;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = join(dir, f);
    if (statSync(full).isDirectory()) return markdownFiles(full);
    return f.endsWith('.md') ? [full] : [];
  });
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];
const rel = (file: string): string => relative(root, file);
const read = (file: string): string => readFileSync(file, 'utf8');

// ---------------------------------------------------------------------------------------------
// Markdown: code blocks, links, heading anchors
// ---------------------------------------------------------------------------------------------

interface CodeBlock {
  readonly lang: string;
  readonly code: string;
}

function codeBlocks(text: string): CodeBlock[] {
  return [...text.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', code: m[2] ?? '' }));
}

/** The prose: fenced blocks removed, inline code emptied (a link's text may hold inline code). */
function prose(text: string): string {
  return text.replace(/^```[a-z]*\n[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '``');
}

function links(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 … for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.replace(/^```[a-z]*\n[\s\S]*?^```$/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const plain = (m[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Snippet imports
// ---------------------------------------------------------------------------------------------

const SCRIPT_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs', 'tsx']);

interface SnippetImport {
  readonly spec: string;
  /** Value names imported by name (type-only imports left out). */
  readonly names: readonly string[];
}

function snippetImports(code: string): SnippetImport[] {
  const out: SnippetImport[] = [];
  const named = (list: string): string[] =>
    list
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && !s.startsWith('type '))
      .map((s) => s.split(/\s+as\s+|\s*:\s*/)[0]!.trim());
  for (const m of code.matchAll(/^\s*import\s+(type\s+)?([^;'"]*?)\s+from\s+['"]([^'"]+)['"]/gm)) {
    const clause = m[2] ?? '';
    const braces = /\{([\s\S]*)\}/.exec(clause);
    out.push({ spec: m[3] ?? '', names: m[1] || !braces ? [] : named(braces[1] ?? '') });
  }
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[1] ?? '', names: [] });
  for (const m of code.matchAll(/(?:const|let|var)\s+(\{[^}]*\}|\w+)\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const target = m[1] ?? '';
    out.push({ spec: m[2] ?? '', names: target.startsWith('{') ? named(target.slice(1, -1)) : [] });
  }
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1] ?? '', names: [] });
  return out;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

interface Manifest {
  readonly name: string;
  readonly workspaces?: readonly string[];
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

const rootManifest = JSON.parse(read(join(root, 'package.json'))) as Manifest;
const workspaceManifests = (rootManifest.workspaces ?? []).map((dir) => ({ dir, manifest: JSON.parse(read(join(root, dir, 'package.json'))) as Manifest }));
/** Package name → folder, for the workspace packages. */
const workspaceFolder = new Map(workspaceManifests.map(({ dir, manifest }) => [manifest.name, dir]));
const lock = JSON.parse(read(join(root, 'package-lock.json'))) as { packages: Record<string, unknown> };
/** Declared by some package.json of the repository and installed through package-lock.json. */
const declaredDependencies = new Set(
  [rootManifest, ...workspaceManifests.map((w) => w.manifest)]
    .flatMap((m) => [m.dependencies, m.devDependencies, m.peerDependencies, m.optionalDependencies])
    .flatMap((deps) => Object.keys(deps ?? {}))
    .filter((name) => lock.packages[`node_modules/${name}`] !== undefined),
);
const builtins = new Set(builtinModules);

function importProblem(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/')) return undefined; // the reader's own code
  if (spec.startsWith('node:') || builtins.has(spec)) return undefined;
  const name = packageName(spec);
  if (workspaceFolder.has(name)) return spec === name ? undefined : `${spec}: the workspace packages have no subpath exports; import "${name}"`;
  if (name.startsWith('@eda-harness/') || name === 'eda-harness') return `${spec}: no such workspace package`;
  if (declaredDependencies.has(name)) return undefined;
  return `${spec}: neither a workspace package nor a dependency of this repository`;
}

/** The runtime exports of a workspace package, loaded from its sources (jest maps @eda-harness/* to <folder>/index.ts). */
function exportsOf(name: string): Set<string> {
  const dir = workspaceFolder.get(name);
  if (dir === undefined) throw new Error(`not a workspace package: ${name}`);
  return new Set(Object.keys(require(join(root, dir, 'index.ts')) as object));
}

const snippets = files.flatMap((file) =>
  codeBlocks(read(file))
    .filter((b) => SCRIPT_LANGS.has(b.lang))
    .map((b) => ({ file: rel(file), imports: snippetImports(b.code) })),
);

// ---------------------------------------------------------------------------------------------

describe('README.md and docs/', () => {
  it(`README.md has at most ${MAX_README_LINES} lines`, () => {
    const lines = read(join(root, 'README.md')).split('\n').length - 1;
    expect(lines).toBeLessThanOrEqual(MAX_README_LINES);
  });

  it('has the guides, the index and the generated reference pages', () => {
    const docs = files.map(rel);
    for (const page of ['README.md', 'instrumentation.md', 'exporter.md', 'contracts.md', 'chaos.md', 'dashboards-and-alerts.md', 'architecture.md', 'environment.md', 'testing.md', 'reference-system.md', 'reference/telemetry.md', 'reference/cli.md', 'reference/exporter-options.md']) {
      expect(docs).toContain(`docs/${page}`);
    }
  });

  it.each(files.map((f) => [rel(f), f] as const))('every relative link in %s leads to an existing file (and heading)', (_name, file) => {
    const problems: string[] = [];
    for (const link of links(read(file))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: …
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(target)) {
        problems.push(`${link}: no file ${relative(root, target)}`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchors(read(target)).has(anchor)) problems.push(`${link}: no heading #${anchor} in ${relative(root, target)}`);
    }
    expect(problems).toEqual([]);
  });

  it('links from the README to every guide', () => {
    const readmeLinks = new Set(links(read(join(root, 'README.md'))));
    for (const page of ['docs/README.md', 'docs/instrumentation.md', 'docs/exporter.md', 'docs/contracts.md', 'docs/chaos.md', 'docs/dashboards-and-alerts.md', 'docs/architecture.md', 'docs/environment.md', 'docs/testing.md', 'docs/reference/telemetry.md']) {
      expect(readmeLinks).toContain(page);
    }
  });

  it('names every workspace package in the README packages table', () => {
    const readme = read(join(root, 'README.md'));
    for (const name of workspaceFolder.keys()) expect(readme).toContain(`| \`${name}\` |`);
  });

  it('snippets import only workspace packages, Node built-ins and dependencies of this repository', () => {
    expect(snippets.length).toBeGreaterThan(5);
    const problems = snippets.flatMap((s) => s.imports.map((i) => importProblem(i.spec)).filter((p) => p !== undefined).map((p) => `${s.file}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('every name a snippet imports from an eda-harness package is exported by it', () => {
    const problems: string[] = [];
    const cache = new Map<string, Set<string>>();
    for (const s of snippets) {
      for (const i of s.imports) {
        if (!workspaceFolder.has(i.spec) || i.names.length === 0) continue;
        let exported = cache.get(i.spec);
        if (!exported) cache.set(i.spec, (exported = exportsOf(i.spec)));
        for (const n of i.names) if (!exported.has(n)) problems.push(`${s.file}: ${i.spec} exports no ${n}`);
      }
    }
    expect(cache.size).toBeGreaterThan(3);
    expect(problems).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('read imports, require() and type-only imports from a snippet', () => {
    const code = "import { a, b as c, type D } from '@eda-harness/x';\nimport type { E } from 'y';\nimport z from 'z/sub';\nconst { f, g: h } = require('@s/p/deep');\nimport 'side';";
    expect(snippetImports(code)).toEqual([
      { spec: '@eda-harness/x', names: ['a', 'b'] },
      { spec: 'y', names: [] },
      { spec: 'z/sub', names: [] },
      { spec: 'side', names: [] },
      { spec: '@s/p/deep', names: ['f', 'g'] },
    ]);
    expect(packageName('@s/p/deep')).toBe('@s/p');
    expect(packageName('z/sub')).toBe('z');
  });

  it('reject unknown packages and subpaths of workspace packages', () => {
    expect(importProblem('@eda-harness/instrumentation')).toBeUndefined();
    expect(importProblem('eda-harness/instrumentation')).toMatch(/no subpath exports/);
    expect(importProblem('@eda-harness/nope')).toMatch(/no such workspace package/);
    expect(importProblem('left-pad-for-sure-not-here')).toMatch(/neither/);
    expect(importProblem('kafkajs')).toBeUndefined();
    expect(importProblem('node:fs')).toBeUndefined();
  });

  it('compute GitHub heading anchors', () => {
    expect([...anchors('# Title\n## The demo (`npm start`)\n## `eda-harness env`\n## A\n## A\n```\n# not a heading\n```\n')]).toEqual(['title', 'the-demo-npm-start', 'eda-harness-env', 'a', 'a-1']);
  });
});
