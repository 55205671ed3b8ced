import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTicks } from '../../../environment/managed-process';
import { ownership } from '../../../environment/own-process';
import {
  checkRecordedProcesses,
  clearCurrentState,
  endRecordedProcesses,
  ensureRunsDirectory,
  newRunDirName,
  readEnvironmentState,
  removeRunDirectory,
  writeCurrentState,
} from '../../../environment/state';
import type { EnvironmentDescription } from '../../../environment/types';

/** The state file `env up` writes and `env down` trusts only after checking it (see planted-state.test.ts for the CLI). */
let dir: string;
let runs: string;
const saved = process.env['EDA_HARNESS_RUNS'];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-state-test-'));
  runs = join(dir, 'runs');
  process.env['EDA_HARNESS_RUNS'] = runs;
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (saved === undefined) delete process.env['EDA_HARNESS_RUNS'];
  else process.env['EDA_HARNESS_RUNS'] = saved;
  rmSync(dir, { recursive: true, force: true });
});

/** A process started the way the harness starts one: detached (its own group), its start time recorded. */
function started(): { pid: number; startTicks: number } {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  children.push(child);
  return { pid: child.pid as number, startTicks: processStartTicks(child.pid as number) as number };
}

function described(runDir: string, processes: EnvironmentDescription['processes']): EnvironmentDescription {
  return { runDir, startedAt: new Date().toISOString(), ownerPid: process.pid, processes };
}

it('nothing recorded: no runs directory, or no state file in it', () => {
  expect(readEnvironmentState()).toBeUndefined();
  ensureRunsDirectory();
  expect(readEnvironmentState()).toBeUndefined();
});

it('writes a private state (0700 folder, 0600 file) that reads back, then ends what it recorded and removes its run directory', async () => {
  const runDir = join(ensureRunsDirectory(), newRunDirName());
  mkdirSync(runDir, { mode: 0o700 });
  const p = started();
  const file = writeCurrentState(described(runDir, [{ name: 'kafka-1', pid: p.pid, startTicks: p.startTicks, logFile: join(runDir, 'k.log') }]), { ownsRunDir: true });
  expect(statSync(runs).mode & 0o777).toBe(0o700);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const state = readEnvironmentState();
  expect(state?.description.runDir).toBe(runDir);
  expect(state?.ownsRunDir).toBe(true);
  expect(checkRecordedProcesses(state!).map((c) => c.ownership.kind)).toEqual(['ours']);
  expect(await endRecordedProcesses(state!, 2_000)).toEqual([`kafka-1 (pid ${p.pid})`]);
  expect(ownership({ name: 'kafka-1', ...p }).kind).toBe('gone');
  expect(removeRunDirectory(state!)).toEqual({ removed: true });
  expect(existsSync(runDir)).toBe(false);
  clearCurrentState();
  expect(readEnvironmentState()).toBeUndefined();
});

it('a run directory chosen with --run-dir is recorded but never removed', () => {
  const chosen = join(dir, 'mine');
  mkdirSync(chosen);
  writeCurrentState(described(chosen, []), { ownsRunDir: false });
  expect(removeRunDirectory(readEnvironmentState()!)).toEqual({ removed: false, why: 'it was chosen with --run-dir; remove it yourself' });
  expect(existsSync(chosen)).toBe(true);
});

it('writing over a current.json that is a symbolic link replaces the link, never its target; clearing removes only the link', () => {
  ensureRunsDirectory();
  const target = join(dir, 'target.json');
  writeFileSync(target, 'precious');
  symlinkSync(target, join(runs, 'current.json'));
  clearCurrentState();
  expect(readFileSync(target, 'utf8')).toBe('precious');
  symlinkSync(target, join(runs, 'current.json'));
  writeCurrentState(described(join(runs, newRunDirName()), []), { ownsRunDir: true });
  expect(readFileSync(target, 'utf8')).toBe('precious');
  expect(lstatSync(join(runs, 'current.json')).isFile()).toBe(true);
});

it('ownership: a pid at or below 1, our own, a recycled one, or one without a start time is never ours', () => {
  const p = started();
  expect(ownership({ name: 'x', pid: 0, startTicks: 1 }).kind).toBe('foreign');
  expect(ownership({ name: 'x', pid: 1, startTicks: processStartTicks(1) }).kind).toBe('foreign');
  expect(ownership({ name: 'x', pid: -1, startTicks: 1 }).kind).toBe('foreign');
  expect(ownership({ name: 'x', pid: process.pid, startTicks: processStartTicks(process.pid) }).kind).toBe('foreign');
  expect(ownership({ name: 'x', pid: p.pid }).kind).toBe('foreign');
  expect(ownership({ name: 'x', pid: p.pid, startTicks: p.startTicks + 1 }).kind).toBe('foreign');
  expect(ownership({ name: 'x', pid: p.pid, startTicks: p.startTicks })).toEqual({ kind: 'ours', groupLeader: true });
});

it('refuses to create state in a runs directory of another user', () => {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return console.warn('skipped: only root can chown to nobody');
  mkdirSync(runs, { mode: 0o700 });
  chownSync(runs, 65534, 65534);
  expect(() => writeCurrentState(described(join(runs, newRunDirName()), []), { ownsRunDir: true })).toThrow(/Refusing to use the runs directory .*: it is owned by uid 65534, not by you/);
  expect(existsSync(join(runs, 'current.json'))).toBe(false);
});
