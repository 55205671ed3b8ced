import { execFile } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Environment } from '../../../environment/index';
import { isAlive } from '../../../environment/managed-process';
import { readCurrentState } from '../../../environment/state';
import type { EnvironmentDescription } from '../../../environment/index';

const run = promisify(execFile);
const cli = join(__dirname, '..', '..', '..', 'cli', 'bin', 'eda-harness.js');

it('stop() ends every process it started (checked by pid) and removes the run directory', async () => {
  const env = await new Environment().withRabbitMq().withToxiproxy().withPrometheus().start();
  const procs = env.describe().processes;
  expect(procs.map((p) => p.name).sort()).toEqual(['epmd', 'prometheus', 'rabbitmq', 'toxiproxy']);
  for (const p of procs) expect(isAlive(p.pid, p.startTicks)).toBe(true);
  const res = await fetch(`${env.getPrometheusUrl()}/api/v1/status/buildinfo`);
  expect(res.ok).toBe(true);
  await env.stop();
  for (const p of procs) expect(isAlive(p.pid, p.startTicks)).toBe(false);
  expect(existsSync(env.runDir)).toBe(false);
}, 120_000);

it('`await using` tears the environment down at the end of the block', async () => {
  let description: EnvironmentDescription | undefined;
  {
    await using env = await new Environment().withRabbitMq().withToxiproxy(false).start();
    description = env.describe();
    expect(description.processes.length).toBe(2);
  }
  for (const p of description.processes) expect(isAlive(p.pid, p.startTicks)).toBe(false);
}, 120_000);

it('`env up` leaves brokers running for `env status`, and `env down` ends them by pid', async () => {
  const runs = join(require('node:os').tmpdir(), `eda-cli-${process.pid}`);
  const cliEnv = { ...process.env, EDA_HARNESS_RUNS: runs, EDA_HARNESS_QUIET: '1' };
  const up = await run('node', [cli, 'env', 'up', '--kafka', '1', '--toxiproxy', '--json'], { env: cliEnv, timeout: 180_000 });
  const described = JSON.parse(up.stdout) as EnvironmentDescription;
  expect(described.kafka?.brokers).toHaveLength(1);
  expect(described.processes.map((p) => p.name).sort()).toEqual(['kafka-1', 'toxiproxy']);
  // The CLI has exited; the brokers are still there.
  for (const p of described.processes) expect(isAlive(p.pid, p.startTicks)).toBe(true);

  const prev = process.env['EDA_HARNESS_RUNS'];
  process.env['EDA_HARNESS_RUNS'] = runs;
  try {
    expect(readCurrentState()?.runDir).toBe(described.runDir);
  } finally {
    if (prev === undefined) delete process.env['EDA_HARNESS_RUNS'];
    else process.env['EDA_HARNESS_RUNS'] = prev;
  }
  // The state is private: the runs directory 0700, the state file 0600, the run directory in it.
  expect(statSync(runs).mode & 0o777).toBe(0o700);
  expect(statSync(join(runs, 'current.json')).mode & 0o777).toBe(0o600);
  expect(dirname(described.runDir)).toBe(runs);
  const status = await run('node', [cli, 'env', 'status'], { env: cliEnv });
  expect(status.stdout).toMatch(/up\s+kafka-1/);
  expect(status.stdout).toContain(described.runDir);
  const statusJson = JSON.parse((await run('node', [cli, 'env', 'status', '--json'], { env: cliEnv })).stdout) as { up: boolean; processes: { alive: boolean }[] };
  expect(statusJson.up).toBe(true);
  expect(statusJson.processes.every((p) => p.alive)).toBe(true);

  const down = await run('node', [cli, 'env', 'down'], { env: cliEnv });
  expect(down.stdout).toMatch(/Stopped .*kafka-1/);
  for (const p of described.processes) expect(isAlive(p.pid, p.startTicks)).toBe(false);
  expect(existsSync(described.runDir)).toBe(false);
  const after = await run('node', [cli, 'env', 'status'], { env: cliEnv }).catch((e: { code: number; stdout: string }) => e);
  expect('code' in after ? after.code : 0).toBe(3);
  rmSync(runs, { recursive: true, force: true });
}, 240_000);

it('a program whose last act is stop() waits for the teardown instead of exiting mid-way', async () => {
  // Brokers are unref'd so they never hold a CLI open; stop() must still keep the program alive
  // until every process has exited (a regression here made the exit hook SIGKILL everything).
  const dist = join(__dirname, '..', '..', '..', 'environment', 'dist');
  const script = `
    const { Environment } = require(${JSON.stringify(dist)});
    new Environment().withPrometheus().withToxiproxy(false).start()
      .then((env) => { console.log(JSON.stringify(env.describe().processes)); return env.stop(); })
      .then(() => console.log('stopped'));`;
  const { stdout } = await run('node', ['-e', script], { env: { ...process.env, EDA_HARNESS_QUIET: '1' }, timeout: 60_000 });
  const [first, second] = stdout.trim().split('\n');
  expect(second).toBe('stopped');
  for (const p of JSON.parse(first ?? '[]') as { pid: number; startTicks?: number }[]) expect(isAlive(p.pid, p.startTicks)).toBe(false);
}, 60_000);

it('`env up --foreground` stays up until Ctrl-C, then stops everything and exits 0', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn('node', [cli, 'env', 'up', '--rabbitmq', '--no-toxiproxy', '--foreground', '--json'], {
    env: { ...process.env, EDA_HARNESS_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())));
  const { waitFor } = await import('../../../core/wait-for');
  await waitFor(() => out.includes('Press Ctrl-C'), { description: 'env up --foreground to be ready', timeoutMs: 120_000 });
  const described = JSON.parse(out.slice(0, out.lastIndexOf('}') + 1)) as EnvironmentDescription;
  // Still serving a while later: nothing but the signal may end it (a regression exited at once).
  await new Promise((r) => setTimeout(r, 1500));
  expect(exitCode).toBeUndefined();
  for (const p of described.processes) expect(isAlive(p.pid, p.startTicks)).toBe(true);
  child.kill('SIGINT');
  await exited;
  expect(exitCode).toBe(0);
  for (const p of described.processes) expect(isAlive(p.pid, p.startTicks)).toBe(false);
}, 180_000);
