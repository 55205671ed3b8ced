#!/usr/bin/env node
// Builds every package and packs each into packs/<name>-<version>.tgz, the files to install from a
// checkout until the packages are published: `npm i <checkout>/packs/eda-harness-semconv-*.tgz
// <checkout>/packs/eda-harness-instrumentation-*.tgz` (a package needs the tarballs of its
// @eda-harness/* dependencies next to it; `npm run pack` prints each package's list).
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ? resolve(process.argv[2]) : join(root, 'packs');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// A clean build: tsc -b leaves the output of moved or deleted sources behind, which would ship.
for (const dir of JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces) rmSync(join(root, dir, 'dist'), { recursive: true, force: true });
execFileSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const manifests = new Map(rootPkg.workspaces.map((dir) => {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  return [pkg.name, pkg];
}));
const packed = JSON.parse(execFileSync(npm, ['pack', '--workspaces', '--json', '--pack-destination', out], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const fileOf = new Map(packed.map((p) => [p.name, p.filename]));
/** The package's tarball and those of its @eda-harness/* dependencies, transitively. */
function closure(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const dep of Object.keys(manifests.get(name)?.dependencies ?? {})) if (manifests.has(dep)) closure(dep, seen);
  return seen;
}
for (const p of packed) {
  const files = [...closure(p.name)].map((n) => join(relative(process.cwd(), out) || '.', fileOf.get(n)));
  console.log(`${p.name.padEnd(30)} ${(p.size / 1024).toFixed(0).padStart(5)} KB  npm i ${files.join(' ')}`);
}
