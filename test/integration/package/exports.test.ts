import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

/**
 * Every workspace package, built, must load by name from both CommonJS (require) and ESM (import),
 * as a user's app would. Runs after `npm run build`; the packed-tarball install is in pack.test.ts.
 */
const root = join(__dirname, '..', '..', '..');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
const names = rootPkg.workspaces.map((dir) => (JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string }).name);

it.each(names)('%s loads with require() and import', (spec) => {
  const cjs = execFileSync('node', ['-e', `const m = require(${JSON.stringify(spec)}); console.log(Object.keys(m).length)`], { cwd: root, encoding: 'utf8' });
  expect(Number(cjs.trim())).toBeGreaterThan(0);
  const esm = execFileSync('node', ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); console.log(Object.keys(m).length)`], { cwd: root, encoding: 'utf8' });
  expect(Number(esm.trim())).toBeGreaterThan(0);
});

it('exposes the environment API by name to ESM importers', () => {
  const out = execFileSync('node', ['--input-type=module', '-e', "import { Environment } from '@eda-harness/environment'; import { EdaHarnessError } from '@eda-harness/core'; console.log(typeof Environment, typeof EdaHarnessError)"], { cwd: root, encoding: 'utf8' });
  expect(out.trim()).toBe('function function');
});

it('exposes the chaos builders by name to ESM importers', () => {
  const out = execFileSync('node', ['--input-type=module', '-e', "import { ChaosScenario, Fault, Invariant, Workload } from '@eda-harness/chaos'; console.log(typeof ChaosScenario, typeof Fault.brokerKill, typeof Invariant.noAckedLoss, typeof Workload.kafka)"], { cwd: root, encoding: 'utf8' });
  expect(out.trim()).toBe('function function function function');
});

it('the bin prints usage', () => {
  const out = execFileSync('node', [join(root, 'cli', 'bin', 'eda-harness.js'), '--help'], { encoding: 'utf8' });
  expect(out).toContain('Usage: eda-harness <command>');
});
