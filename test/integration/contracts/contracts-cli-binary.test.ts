import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The CLI as CI runs it: the built package (npm test builds it first), a separate process, its exit code.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'cli', 'bin', 'eda-harness.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, PACT_BROKER_BASE_URL: '' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(root, 'cli', 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does) before the integration tests');
});

test('`eda-harness contracts verify` passes the repository\u2019s pacts with exit code 0', () => {
  const { code, stdout } = run('contracts', 'verify', '--pacts', 'pacts', '--provider', 'order-service');
  expect(stdout).toContain('2 interaction(s): 2 passed, 0 failed. Contract verified.');
  expect(code).toBe(0);
});

test('a provider team\u2019s own module (compiled JS) with a renamed topic makes `contracts verify` exit 1 and say where', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eda-provider-'));
  const module = join(dir, 'order-service.contract.js');
  // What a provider team writes: its real code, transports captured, one factory per interaction.
  writeFileSync(
    module,
    [
      `const { orderServiceProvider } = require(${JSON.stringify(join(root, 'examples/dist/contracts/order-service-provider.js'))});`,
      `const { referenceNames } = require(${JSON.stringify(join(root, 'examples/dist/reference-names.js'))});`,
      `module.exports = orderServiceProvider({ names: referenceNames(undefined, { ordersTopic: 'orders.v2.placed' }) });`,
    ].join('\n'),
  );
  const { code, stdout } = run('contracts', 'verify', '--pacts', 'pacts', '--provider-module', module);
  expect(stdout).toContain(`inventory-service: "an OrderPlaced event": metadata "kafka_topic": Expected metadata key 'kafka_topic' to have value '"orders.placed"' but was '"orders.v2.placed"'`);
  expect(stdout).toContain('Contract BROKEN.');
  expect(code).toBe(1);
});

test('`eda-harness contracts list` and a missing pact directory (exit 2)', () => {
  const list = run('contracts', 'list');
  expect(list.code).toBe(0);
  expect(list.stdout).toContain('notification-service -> order-service');
  const missing = run('contracts', 'verify', '--pacts', 'no-such-dir');
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('no pact file or directory');
});
