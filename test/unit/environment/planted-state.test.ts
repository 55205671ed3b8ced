import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN, STACK_FRAME } from '../../support/bad-input';

/**
 * `env down` signals processes and deletes a folder because a state file says so. These tests
 * plant state files (a foreign pid, pids 0 and 1, a run directory outside the runs directory,
 * symbolic links, files and folders of another user, corrupt JSON) and run the built CLI on them in
 * a child process, with TMPDIR and EDA_HARNESS_RUNS inside a temporary folder so the machine's real
 * state is never touched. Each proves that nothing the harness did not start was signalled or
 * deleted: the foreign process is still alive, the foreign folder still exists, and the command
 * refused with exit 2 and a message saying why.
 *
 * The foreign processes are `sleep`s this test spawns itself (each in its own process group, as
 * the harness's own processes are, so a group signal would reach it) and ends by pid afterwards.
 * A state naming pid 0 or 1 is tried inside a new pid namespace where the machine allows one
 * (`unshare`), so that a regression could never signal every process of the machine.
 */

const cli = process.env['EDA_PLANTED_STATE_CLI'] ?? CLI_BIN;
jest.setTimeout(60_000);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NOBODY = 65534;

/** Whether `unshare` can give a child its own pid namespace here (root, or user namespaces allowed). */
const pidNamespace = ((): boolean => {
  try {
    return spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
})();

function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

function alive(pid: number, ticks: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return startTicks(pid) === ticks && state !== 'Z';
  } catch {
    return false;
  }
}

let dir: string;
let runs: string;
let foreignDir: string;
const children: ChildProcess[] = [];

/** A process this harness did not start: a `sleep` leading its own process group. */
function foreignProcess(options: { uid?: number; gid?: number } = {}): { pid: number; ticks: number } {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', ...options });
  child.unref();
  children.push(child);
  const pid = child.pid as number;
  return { pid, ticks: startTicks(pid) };
}

/** A run directory as `env up` makes it (a <time>-<id> folder directly in the runs directory). */
function harnessRunDir(): string {
  const runDir = join(runs, '20250101-000000-abcdef');
  mkdirSync(runDir, { mode: 0o700 });
  writeFileSync(join(runDir, 'kafka.log'), 'log\n');
  return runDir;
}

function description(runDir: string, processes: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { runDir, startedAt: '2025-01-01T00:00:00.000Z', ownerPid: 4242, processes: processes.map((p) => ({ name: 'kafka-1', logFile: join(runDir, 'kafka.log'), ...p })) };
}

function stateJson(runDir: string, processes: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ format: 2, runDir, ownsRunDir: true, environment: description(runDir, processes), ...extra }, null, 2)}\n`;
}

function plant(content: string, file = join(runs, 'current.json')): string {
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/**
 * Plants a state naming `runDir` and `processes`, as `env up` writes it: current.json, and the
 * run directory's environment.json when that folder exists (where eda-harness 0.2 read the
 * processes from, so the same planted state is tried on older builds too).
 */
function plantState(runDir: string, processes: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}, file?: string): string {
  try {
    writeFileSync(join(runDir, 'environment.json'), JSON.stringify(description(runDir, processes)), { mode: 0o600 });
  } catch {
    /* no such folder (the state names one that does not exist) */
  }
  return plant(stateJson(runDir, processes, extra), file);
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** The built CLI in a child process (its own process group), optionally in a new pid namespace. */
function runCli(argv: readonly string[], options: { sandbox?: boolean } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: join(dir, 'tmp'), EDA_HARNESS_RUNS: runs, EDA_HARNESS_QUIET: '1' };
  for (const k of ['KAFKA_BROKERS', 'AMQP_URL', 'RABBITMQ_MANAGEMENT_URL', 'PROMETHEUS_URL', 'EDA_HARNESS_PROVIDER', 'EDA_HARNESS_KEEP_RUNS', 'DEBUG']) delete env[k];
  const [command, args] = options.sandbox ? ['unshare', ['--pid', '--fork', '--mount-proc', process.execPath, cli, ...argv]] : [process.execPath, [cli, ...argv]];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, args as string[], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** `env down` refused: exit 2, the reason, no stack trace, and the state file left in place. */
async function expectRefusal(message: RegExp, options: { sandbox?: boolean } = {}): Promise<void> {
  const stateFile = join(runs, 'current.json');
  const before = existsSync(stateFile);
  const r = await runCli(['env', 'down'], options);
  expect({ code: r.code, output: r.output }).toEqual({ code: 2, output: expect.stringMatching(message) });
  expect(r.output).toContain('Nothing was signalled or deleted');
  expect(r.output).not.toMatch(STACK_FRAME);
  expect(existsSync(stateFile)).toBe(before);
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-planted-state-'));
  mkdirSync(join(dir, 'tmp'));
  runs = join(dir, 'runs');
  mkdirSync(runs, { mode: 0o700 });
  chmodSync(runs, 0o700);
  foreignDir = join(dir, 'foreign');
  mkdirSync(foreignDir);
  writeFileSync(join(foreignDir, 'precious.txt'), 'not the harness’s\n');
});

afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL'); // by its own pid only
    } catch {
      /* already gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const foreignDirIntact = (): void => expect(readFileSync(join(foreignDir, 'precious.txt'), 'utf8')).toBe('not the harness’s\n');

describe('env down on a planted state file signals and deletes nothing it did not start', () => {
  it('a foreign pid with no start time recorded', async () => {
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: foreign.pid }]);
    await expectRefusal(/no start time for kafka-1/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a foreign pid with another start time (a recycled pid: the state is stale)', async () => {
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks - 1 }]);
    await expectRefusal(/stale or was not written by eda-harness .*pid \d+ is now another process/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a process of another user, even with its true start time', async () => {
    if (!isRoot) return console.warn('skipped: only root can start a process as another user');
    const foreign = foreignProcess({ uid: NOBODY, gid: NOBODY });
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks }]);
    await expectRefusal(/belongs to uid 65534, not to you/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
  });

  it.each([
    ['pid 0 (the CLI’s own process group)', 0],
    ['pid 1 (kill(-1) would reach every process)', 1],
    ['pid -1', -1],
  ])('%s', async (_name, pid) => {
    // Without a pid namespace only pid 0 is safe to try: a regression would signal the CLI's own
    // process group (it is spawned as a group leader), but kill(-1) or kill(1) would reach the machine.
    if (pid !== 0 && !pidNamespace) return console.warn(`skipped: no pid namespace (unshare) to try a state naming pid ${pid} in safely`);
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid, startTicks: 1 }]);
    await expectRefusal(new RegExp(`pid ${pid} for kafka-1, which eda-harness never starts`), { sandbox: pidNamespace });
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a pid that is not a number', async () => {
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: '1', startTicks: 1 }]);
    await expectRefusal(/unreadable \(a process entry is malformed/);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a run directory outside the runs directory', async () => {
    const foreign = foreignProcess();
    plantState(foreignDir, [{ pid: foreign.pid, startTicks: foreign.ticks }]);
    await expectRefusal(/its run directory .*foreign is not one eda-harness creates/);
    foreignDirIntact();
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
  });

  it('a run directory that climbs out of the runs directory with ".."', async () => {
    plantState(`${runs}/../foreign`, []); // (join() would normalise the ".." away)
    await expectRefusal(/is not a plain absolute path/);
    foreignDirIntact();
  });

  it('a run directory that is a symbolic link out of the runs directory', async () => {
    const foreign = foreignProcess();
    const link = join(runs, '20250101-000000-abcdef');
    symlinkSync(foreignDir, link);
    plantState(link, [{ pid: foreign.pid, startTicks: foreign.ticks }]);
    await expectRefusal(/its run directory .* is a symbolic link/);
    foreignDirIntact();
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
  });

  it('an older state file (no format) that points at a foreign folder', async () => {
    const foreign = foreignProcess();
    writeFileSync(join(foreignDir, 'environment.json'), JSON.stringify(description(foreignDir, [{ pid: foreign.pid, startTicks: foreign.ticks }])));
    plant(JSON.stringify({ runDir: foreignDir }));
    await expectRefusal(/its run directory .*foreign is not one eda-harness creates/);
    foreignDirIntact();
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
  });

  it('a state file that is a symbolic link', async () => {
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    const elsewhere = join(dir, 'elsewhere.json');
    plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks }], {}, elsewhere);
    symlinkSync(elsewhere, join(runs, 'current.json'));
    await expectRefusal(/current\.json: it is a symbolic link/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
    expect(existsSync(elsewhere)).toBe(true);
  });

  it('a runs directory that is a symbolic link', async () => {
    const foreign = foreignProcess();
    const real = join(dir, 'real-runs');
    mkdirSync(real, { mode: 0o700 });
    const runDir = join(real, '20250101-000000-abcdef');
    mkdirSync(runDir, { mode: 0o700 });
    rmSync(runs, { recursive: true });
    symlinkSync(real, runs);
    plantState(join(runs, '20250101-000000-abcdef'), [{ pid: foreign.pid, startTicks: foreign.ticks }]);
    await expectRefusal(/its directory .* is not private \(it is a symbolic link\)/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(runDir)).toBe(true);
  });

  it('a runs directory owned by another user', async () => {
    if (!isRoot) return console.warn('skipped: only root can chown to nobody');
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks }]);
    chownSync(runs, NOBODY, NOBODY);
    await expectRefusal(/its directory .* is not private \(it is owned by uid 65534, not by you/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a state file owned by another user', async () => {
    if (!isRoot) return console.warn('skipped: only root can chown to nobody');
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    chownSync(plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks }]), NOBODY, NOBODY);
    await expectRefusal(/it is owned by uid 65534, not by you/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a runs directory or state file other users may write to', async () => {
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    const file = plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks }]);
    chmodSync(file, 0o666);
    await expectRefusal(/other users may write to it \(mode 666\)/);
    chmodSync(file, 0o600);
    chmodSync(runs, 0o777);
    await expectRefusal(/other users may write to it \(mode 777\)/);
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });

  it('a corrupt state file: unreadable, brokers may still run, what to do (down and status)', async () => {
    const runDir = harnessRunDir();
    plant('{"runDir": "');
    await expectRefusal(/is unreadable \(it is not valid JSON.*brokers may still be running/s);
    const status = await runCli(['env', 'status']);
    expect(status.code).toBe(2);
    expect(status.output).toMatch(/unreadable.*brokers may still be running.*→ Stop leftover brokers yourself.*then delete .*current\.json/s);
    expect(existsSync(join(runDir, 'kafka.log'))).toBe(true);
  });
});

describe('env down on a state file it wrote (controls: the checks do not stop it working)', () => {
  it('ends a recorded process that is still the one started, and removes its run directory', async () => {
    const ours = foreignProcess();
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: ours.pid, startTicks: ours.ticks }]);
    const r = await runCli(['env', 'down']);
    expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining(`Stopped kafka-1 (pid ${ours.pid})`) });
    expect(alive(ours.pid, ours.ticks)).toBe(false);
    expect(existsSync(runDir)).toBe(false);
    expect(existsSync(join(runs, 'current.json'))).toBe(false);
  });

  it('keeps a run directory chosen with --run-dir', async () => {
    plantState(foreignDir, [], { ownsRunDir: false });
    const r = await runCli(['env', 'down']);
    expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining('chosen with --run-dir') });
    foreignDirIntact();
  });

  it('never signals a process recorded before the machine last booted', async () => {
    if (!existsSync('/proc/sys/kernel/random/boot_id')) return console.warn('skipped: no boot id on this machine');
    const foreign = foreignProcess();
    const runDir = harnessRunDir();
    plantState(runDir, [{ pid: foreign.pid, startTicks: foreign.ticks }], { bootId: '00000000-0000-0000-0000-000000000000' });
    const r = await runCli(['env', 'down']);
    expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining('had already exited') });
    expect(alive(foreign.pid, foreign.ticks)).toBe(true);
  });
});
