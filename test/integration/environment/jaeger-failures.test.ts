import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '../../../environment/environment';
import { JAEGER_PORT_NAMES, type JaegerPorts } from '../../../environment/jaeger-config';
import type { ManagedProcess } from '../../../environment/managed-process';
import { startNativeJaeger } from '../../../environment/native/jaeger';
import { allocatePorts, releasePorts } from '../../../environment/ports';
import { ensureJaeger } from '../../../environment/provision';
import { EnvironmentStartError, ProcessError, ProvisionError, TimeoutError } from '../../../core/errors';
import { silentProgress } from '../../../core/progress';
import { spawnedBy, survivorsOf } from '../../support/spawned-by';

/**
 * What goes wrong with Jaeger ends in one clear message and leaves no process behind: a port taken,
 * a Jaeger that never answers, a configuration Jaeger refuses (it exits at start), a version that
 * cannot be downloaded and built.
 */

let dir: string;
const saved = { ...process.env };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-jaeger-fail-'));
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

/** Ports this file drew, given back at the end (other processes may draw them again). */
const drawn: number[] = [];
afterAll(() => releasePorts(drawn));

it('a query port taken by another program: Jaeger exits, the error says which address is in use and names the log', async () => {
  const binary = await ensureJaeger({ progress: silentProgress });
  const allocated = await allocatePorts(JAEGER_PORT_NAMES.length);
  drawn.push(...allocated);
  const ports = Object.fromEntries(JAEGER_PORT_NAMES.map((name, i) => [name, allocated[i]])) as unknown as JaegerPorts;
  // Holds the port; drops whatever connects (the readiness probe), so closing it never waits.
  const squatter: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(ports.queryHttp, '127.0.0.1', () => resolve()));
  const owned: (() => readonly ManagedProcess[])[] = [];
  try {
    const { error, spawned } = await spawnedBy(dir, () =>
      startNativeJaeger({ binary, version: undefined, runDir: dir, ports, options: {}, progress: silentProgress, ownProcesses: (get) => void owned.push(get) }),
    );
    expect(error).toBeInstanceOf(ProcessError);
    const message = (error as ProcessError).message;
    expect(message).toContain(`listen tcp 127.0.0.1:${ports.queryHttp}: bind: address already in use`);
    expect(message).toContain(join(dir, 'jaeger', 'jaeger.log'));
    expect((error as ProcessError).hint).toContain('start again');
    expect(spawned.map((e) => e.name)).toEqual(['jaeger']);
    // It exited on its own: registered with the environment, and no longer running.
    expect(owned.flatMap((get) => get()).map((p) => [p.name, p.running])).toEqual([['jaeger', false]]);
    expect(survivorsOf(spawned)).toEqual([]);
  } finally {
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  }
}, 60_000);

it('a Jaeger that runs but never answers: the wait ends with a timeout naming its query URL and log, and its process is ended', async () => {
  // Stands in for a hung Jaeger: a process that ignores its arguments and serves nothing.
  const wrapper = join(dir, 'jaeger-silent');
  writeFileSync(wrapper, '#!/bin/sh\nexec sleep 300\n');
  chmodSync(wrapper, 0o755);
  const allocated = await allocatePorts(JAEGER_PORT_NAMES.length);
  drawn.push(...allocated);
  const ports = Object.fromEntries(JAEGER_PORT_NAMES.map((name, i) => [name, allocated[i]])) as unknown as JaegerPorts;
  const owned: (() => readonly ManagedProcess[])[] = [];
  const { error, spawned } = await spawnedBy(dir, () =>
    startNativeJaeger({ binary: wrapper, version: undefined, runDir: dir, ports, options: {}, progress: silentProgress, ownProcesses: (get) => void owned.push(get), readyTimeoutMs: 1_500 }),
  );
  expect(error).toBeInstanceOf(TimeoutError);
  expect((error as Error).message).toContain(`Timed out after 1500 ms waiting for Jaeger's query API at http://127.0.0.1:${ports.queryHttp} (log: ${join(dir, 'jaeger', 'jaeger.log')})`);
  expect((error as Error).message).toContain('ECONNREFUSED');
  // What the environment does after a failed start: it ends what was registered.
  const processes = owned.flatMap((get) => get());
  expect(processes.map((p) => [p.name, p.running])).toEqual([['jaeger', true]]);
  await Promise.all(processes.map((p) => p.stop(1_000)));
  expect(survivorsOf(spawned)).toEqual([]);
}, 30_000);

it('a configuration Jaeger refuses: the start fails with its reason, and Kafka, already up beside it, is ended too', async () => {
  // The real binary behind a wrapper adding a key Jaeger does not know: it exits while reading its config.
  const real = await ensureJaeger({ progress: silentProgress });
  const wrapper = join(dir, 'jaeger-bad-config');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(real)} "$@" --set=extensions::jaeger_query::no_such_key=1\n`);
  chmodSync(wrapper, 0o755);
  process.env['EDA_HARNESS_JAEGER_BIN'] = wrapper;
  const runDir = join(dir, 'run');

  const { error, spawned } = await spawnedBy(dir, () =>
    new Environment().withRunDir(runDir).withProgress(silentProgress).withProvider('native').withKafka().withToxiproxy(false).withJaeger().start(),
  );

  expect(error).toBeInstanceOf(EnvironmentStartError);
  const message = (error as Error).message;
  expect(message).toContain('Jaeger did not start');
  expect(message).toContain('invalid keys: no_such_key');
  expect(message).toContain(join(runDir, 'jaeger', 'jaeger.log'));
  expect(spawned.map((e) => e.name).sort()).toEqual(['jaeger', 'kafka-1']);
  expect(survivorsOf(spawned)).toEqual([]);
}, 120_000);

it('a Jaeger version the Go module proxy does not have: one ProvisionError naming the log, nothing started', async () => {
  process.env['EDA_HARNESS_CACHE'] = join(dir, 'cache');
  process.env['EDA_HARNESS_JAEGER_VERSION'] = '0.0.1';
  const progress: string[] = [];

  const { error, spawned } = await spawnedBy(dir, () =>
    new Environment().withRunDir(join(dir, 'run')).withProgress((line) => progress.push(line)).withProvider('native').withJaeger().start(),
  );

  const log = join(dir, 'cache', 'jaeger', '0.0.1', 'go-build.log');
  expect(error).toBeInstanceOf(EnvironmentStartError);
  expect((error as EnvironmentStartError).cause).toBeInstanceOf(ProvisionError);
  expect((error as Error).message).toContain('go mod download of github.com/jaegertracing/jaeger@v0.0.1 failed');
  expect((error as EnvironmentStartError).hint).toContain(log);
  expect(progress).toEqual([`building Jaeger 0.0.1 with go build (first run only, several minutes; log: ${log})`]);
  expect(existsSync(join(dir, 'cache', 'jaeger', '0.0.1', 'src'))).toBe(false);
  expect(spawned).toEqual([]);
}, 60_000);
