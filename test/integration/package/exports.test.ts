import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

/**
 * The built package must load through every subpath of its `exports` map from both CommonJS
 * (require) and ESM (import), by name, as a user's app would. Runs after `npm run build`.
 */
const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');

it.each(subpaths)('"%s" loads with require() and import', (subpath) => {
  const spec = subpath === '.' ? 'eda-harness' : `eda-harness/${subpath.slice(2)}`;
  // Self-reference by package name resolves through the exports map, exactly as for a dependent.
  const cjs = execFileSync('node', ['-e', `const m = require(${JSON.stringify(spec)}); console.log(Object.keys(m).length)`], { cwd: root, encoding: 'utf8' });
  expect(Number(cjs.trim())).toBeGreaterThan(0);
  const esm = execFileSync('node', ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); console.log(Object.keys(m).length)`], { cwd: root, encoding: 'utf8' });
  expect(Number(esm.trim())).toBeGreaterThan(0);
});

it('exposes the environment API by name to ESM importers', () => {
  const out = execFileSync('node', ['--input-type=module', '-e', "import { Environment, EdaHarnessError } from 'eda-harness'; console.log(typeof Environment, typeof EdaHarnessError)"], { cwd: root, encoding: 'utf8' });
  expect(out.trim()).toBe('function function');
});

it('exposes the chaos builders by name to ESM importers', () => {
  const out = execFileSync('node', ['--input-type=module', '-e', "import { ChaosScenario, Fault, Invariant, Workload } from 'eda-harness/chaos'; console.log(typeof ChaosScenario, typeof Fault.brokerKill, typeof Invariant.noAckedLoss, typeof Workload.kafka)"], { cwd: root, encoding: 'utf8' });
  expect(out.trim()).toBe('function function function function');
});

it('the bin prints usage', () => {
  const out = execFileSync('node', [join(root, 'bin', 'eda-harness.js'), '--help'], { encoding: 'utf8' });
  expect(out).toContain('Usage: eda-harness <command>');
});
