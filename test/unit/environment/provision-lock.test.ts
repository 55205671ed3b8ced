import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../core/wait-for';
import { staleLock, withLock } from '../../../environment/install';

/**
 * The provisioning lock names its owner: a run interrupted during a first build (Ctrl-C in
 * `npm start` while Jaeger compiles) must not make the next run wait 20 minutes for a lock whose
 * owner is gone.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (a short child, waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function plantLock(owner: string | undefined, ageMs = 0): string {
  const lock = join(dir, '.lock');
  mkdirSync(lock);
  if (owner !== undefined) writeFileSync(join(lock, 'owner'), owner);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(lock, t, t);
  return lock;
}

it('a lock whose owner pid has exited is stale at once, however fresh', () => {
  expect(staleLock(plantLock(`${deadPid()}\n`))).toBe(true);
});

it('a lock held by a live process is not stale, however old', () => {
  expect(staleLock(plantLock(`${process.ppid}\n`, 60 * 60_000))).toBe(false);
});

it('a lock without an owner file is judged by its age (20 minutes)', () => {
  expect(staleLock(plantLock(undefined, 60_000))).toBe(false);
  rmSync(join(dir, '.lock'), { recursive: true });
  expect(staleLock(plantLock(undefined, 21 * 60_000))).toBe(true);
});

it('withLock takes over a dead owner\'s lock in well under a second, names itself while it holds it, and releases it', async () => {
  plantLock(`${deadPid()}\n`);
  const started = Date.now();
  let ownerInside = '';
  await withLock(dir, async () => {
    ownerInside = readFileSync(join(dir, '.lock', 'owner'), 'utf8').trim();
  });
  expect(Date.now() - started).toBeLessThan(2000);
  expect(ownerInside).toBe(String(process.pid));
  expect(existsSync(join(dir, '.lock'))).toBe(false);
});

/** The long step's child, whose pid the child printed first on stdout, ends, and the lock is gone. */
async function expectStepEndedAndLockReleased(stdout: string): Promise<void> {
  const stepPid = Number(stdout.trim().split(/\s+/)[0]);
  expect(stepPid).toBeGreaterThan(0);
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(() => !alive(stepPid), { description: `the step's child (pid ${stepPid}) to end`, timeoutMs: 5000, intervalMs: 50 });
  expect(existsSync(join(dir, '.lock'))).toBe(false);
}

it('a process that exits in the middle of an install step interrupts the step\'s child by pid and releases its lock', async () => {
  const install = join(__dirname, '..', '..', '..', 'environment', 'dist', 'install.js');
  // The child takes the lock, starts a long step (sleep 60), reports the step's pid, then exits as
  // the demo does on Ctrl-C during start-up.
  const script = `
    const { run, withLock } = require(${JSON.stringify(install)});
    withLock(${JSON.stringify(dir)}, () => run('sleep', ['60'], { logFile: ${JSON.stringify(join(dir, 'step.log'))}, what: 'a long step' }));
    setTimeout(() => {
      const ps = require('node:child_process').execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)]).toString().trim();
      process.stdout.write(ps);
      process.exit(130);
    }, 700);`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 20_000 });
  expect(r.status).toBe(130);
  await expectStepEndedAndLockReleased(r.stdout.toString());
});

it('provisioning started in the background ends, its step interrupted and its lock released, once the run that started it is gone', async () => {
  const install = join(__dirname, '..', '..', '..', 'environment', 'dist', 'install.js');
  const gone = deadPid();
  const script = `
    const { exitWhenGone, run, withLock } = require(${JSON.stringify(install)});
    exitWhenGone(${gone}, { intervalMs: 400, say: (line) => process.stderr.write(line) });
    withLock(${JSON.stringify(dir)}, () => run('sleep', ['60'], { logFile: ${JSON.stringify(join(dir, 'step.log'))}, what: 'a long step' }));
    setTimeout(() => {
      const ps = require('node:child_process').execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)]).toString().trim();
      process.stdout.write(ps);
    }, 200);`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 20_000 });
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(r.status).toBe(1);
  expect(r.stderr.toString()).toContain(`the run that started this provisioning (pid ${gone}) has ended: stopping here`);
  await expectStepEndedAndLockReleased(r.stdout.toString());
});
