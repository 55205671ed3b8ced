import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, rmSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConfigError, ProcessError, ensureDir, waitFor } from '@eda-harness/core';
import { bootId, isSignallablePid, ownership, signalIfOurs, stillOurs, type Ownership } from './own-process';
import type { EnvironmentDescription } from './types';

/**
 * `env up` leaves brokers running after the CLI exits; the state file lets `env status` and
 * `env down` find them again. `env down` signals processes and deletes a folder on the strength of
 * this file, so nothing in it is taken on trust:
 * - it lives in the runs directory, which must be private: a real directory (not a symbolic link),
 *   owned by this user, writable by nobody else (created 0700); the file itself likewise (0600,
 *   written to a temporary name and renamed, never through a symbolic link);
 * - a pid is signalled only while it is the very process `env up` started: above 1, with its kernel
 *   start time recorded and equal to the kernel's, owned by this user (checked before every signal);
 * - the run directory is deleted only when `env up` created it: a `<time>-<id>` folder directly in
 *   the runs directory, itself no symbolic link (one chosen with `--run-dir` is never deleted).
 * A state file that breaks any of these, or cannot be read, makes every command refuse with a
 * {@link StateFileError} (exit 2) and touch nothing.
 */

/** Where run directories and the state file go: EDA_HARNESS_RUNS, else $TMPDIR/eda-harness. */
export function runsDirectory(): string {
  return resolve(process.env['EDA_HARNESS_RUNS'] || join(tmpdir(), 'eda-harness'));
}

export function currentPointer(): string {
  return join(runsDirectory(), 'current.json');
}

/** The name of a run directory the harness creates: `<yyyymmdd>-<hhmmss>-<6 hex>`. */
const RUN_DIR_NAME = /^\d{8}-\d{6}-[0-9a-f]{6}$/;

export function newRunDirName(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** A state file that is unreadable, or not safe to act on. Nothing was signalled or deleted. */
export class StateFileError extends ConfigError {
  constructor(
    message: string,
    readonly stateFile: string,
    hint: string,
  ) {
    super(message, { hint });
  }
}

const MAX_STATE_BYTES = 1 << 20;

function myUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** Why `st` is not private to this user, if it is not. */
function privacyProblem(st: Stats, kind: 'directory' | 'file'): string | undefined {
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (kind === 'directory' && !st.isDirectory()) return 'it is not a directory';
  if (kind === 'file' && !st.isFile()) return 'it is not a regular file';
  const me = myUid();
  if (me !== undefined && st.uid !== me) return `it is owned by uid ${st.uid}, not by you (uid ${me})`;
  if ((st.mode & 0o022) !== 0) return `other users may write to it (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

/** lstat, or undefined when `path` does not exist; any other failure makes the state file (`reportAs`) unreadable. */
function lstatOrUndefined(path: string, reportAs: string = currentPointer()): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unreadable(reportAs, `cannot read ${path}: ${code ?? String(err)}`);
  }
}

function unsafe(file: string, why: string): StateFileError {
  return new StateFileError(
    `Refusing to act on the state file ${file}: ${why}. Nothing was signalled or deleted.`,
    file,
    `If you did not write it, someone else may have: inspect it, then delete it. Keep EDA_HARNESS_RUNS (default $TMPDIR/eda-harness) a directory of yours that nobody else can write to.`,
  );
}

function unreadable(file: string, why: string): StateFileError {
  const runs = dirname(file);
  return new StateFileError(
    `The state file ${file} is unreadable (${why}): eda-harness cannot tell which environment is up, and its brokers may still be running. Nothing was signalled or deleted.`,
    file,
    `Stop leftover brokers yourself (\`ps -eo pid,user,args | grep -E 'kafka|rabbitmq|epmd|toxiproxy|prometheus|jaeger'\` lists them; their logs are in the run directories under ${runs}), then delete ${file}.`,
  );
}

/**
 * Creates the runs directory (0700) if it is missing, and checks that it is private to this user;
 * returns its path. Throws a ConfigError naming the folder otherwise.
 */
export function ensureRunsDirectory(): string {
  const dir = runsDirectory();
  ensureDir(dir, { mode: 0o700, what: 'the runs directory (EDA_HARNESS_RUNS, default $TMPDIR/eda-harness)' });
  const problem = privacyProblem(lstatSync(dir), 'directory');
  if (problem !== undefined) {
    throw new ConfigError(`Refusing to use the runs directory ${dir}: ${problem}.`, {
      hint: 'eda-harness keeps its state and run directories there and acts on them later, so it must be private: remove it, or set EDA_HARNESS_RUNS to a directory of yours (mode 700).',
    });
  }
  return dir;
}

/** Why `runDir` is not a run directory the harness created in `runsDir`, if it is not. */
function ownRunDirProblem(runDir: string, runsDir: string): string | undefined {
  if (!isAbsolute(runDir) || resolve(runDir) !== runDir) return `its run directory "${runDir}" is not a plain absolute path`;
  if (dirname(runDir) !== runsDir || !RUN_DIR_NAME.test(basename(runDir))) {
    return `its run directory ${runDir} is not one eda-harness creates (a <time>-<id> folder directly in ${runsDir})`;
  }
  const st = lstatOrUndefined(runDir);
  if (st === undefined) return undefined; // already gone: nothing to delete
  if (st.isSymbolicLink()) return `its run directory ${runDir} is a symbolic link`;
  if (!st.isDirectory()) return `its run directory ${runDir} is not a directory`;
  const me = myUid();
  if (me !== undefined && st.uid !== me) return `its run directory ${runDir} is owned by uid ${st.uid}, not by you`;
  if (realpathSync(runDir) !== join(realpathSync(runsDir), basename(runDir))) return `its run directory ${runDir} resolves outside ${runsDir}`;
  return undefined;
}

/** What `env up` recorded, read back and checked (see the module comment). */
export interface EnvironmentState {
  readonly file: string;
  readonly runsDir: string;
  readonly description: EnvironmentDescription;
  /** Whether `env up` created the run directory (and `env down` may delete it). */
  readonly ownsRunDir: boolean;
  readonly bootId: string | undefined;
}

/** Reads a file that must be private to this user, without following a symbolic link. */
function readPrivateFile(file: string, st: Stats, reportAs: string): string {
  const problem = privacyProblem(st, 'file');
  if (problem !== undefined) throw unsafe(reportAs, file === reportAs ? problem : `${file}: ${problem}`);
  if (st.size > MAX_STATE_BYTES) throw unreadable(reportAs, `${file} is ${st.size} bytes, far more than a state file holds`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw unreadable(reportAs, `cannot open ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const now = fstatSync(fd);
    if (now.ino !== st.ino || now.dev !== st.dev) throw unsafe(reportAs, `${file} was replaced while it was being read`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const optional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || check(v);
const isPid = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);

/** Why `d` is not an environment description (as `StartedEnvironment.describe()` writes it), if it is not. */
function descriptionProblem(d: unknown): string | undefined {
  if (!isObject(d)) return 'it holds no environment description';
  if (!isString(d['runDir'])) return 'the description has no runDir';
  if (!Array.isArray(d['processes'])) return 'the description has no list of processes';
  for (const p of d['processes'] as unknown[]) {
    if (!isObject(p) || !isString(p['name']) || !isString(p['logFile']) || !isPid(p['pid']) || !optional(p['startTicks'], isPid)) {
      return `a process entry is malformed: ${JSON.stringify(p)}`;
    }
  }
  const k = d['kafka'];
  if (k !== undefined && !(isObject(k) && isString(k['provider']) && isString(k['version']) && isStringArray(k['brokers']) && Array.isArray(k['nodes']) && k['nodes'].every((n) => isObject(n) && isString(n['name']) && isString(n['address']) && optional(n['pid'], isPid)))) {
    return 'its kafka entry is malformed';
  }
  const r = d['rabbitmq'];
  if (r !== undefined && !(isObject(r) && isString(r['provider']) && isString(r['amqpUrl']) && optional(r['managementUrl'], isString) && optional(r['managementCaFile'], isString) && optional(r['metricsUrl'], isString))) return 'its rabbitmq entry is malformed';
  const t = d['toxiproxy'];
  if (t !== undefined && !(isObject(t) && isString(t['apiUrl']) && Array.isArray(t['proxies']) && t['proxies'].every((p) => isObject(p) && isString(p['name']) && isString(p['listen']) && isString(p['upstream'])))) {
    return 'its toxiproxy entry is malformed';
  }
  const pr = d['prometheus'];
  if (pr !== undefined && !(isObject(pr) && isString(pr['provider']) && isString(pr['url']))) return 'its prometheus entry is malformed';
  const j = d['jaeger'];
  if (j !== undefined && !(isObject(j) && isString(j['provider']) && isString(j['queryUrl']) && isString(j['otlpHttpUrl']) && optional(j['version'], isString) && optional(j['otlpGrpcAddress'], isString) && optional(j['pid'], isPid))) {
    return 'its jaeger entry is malformed';
  }
  return undefined;
}

/** Why the recorded processes may not be acted on at all, if they may not. */
function processesProblem(d: EnvironmentDescription): string | undefined {
  for (const p of d.processes) {
    if (!isSignallablePid(p.pid)) return `it names pid ${p.pid} for ${p.name}, which eda-harness never starts (pids 0, 1 and below are never signalled)`;
    if (p.startTicks === undefined) return `it records no start time for ${p.name} (pid ${p.pid}), so that process cannot be proven to be one eda-harness started`;
  }
  return undefined;
}

/**
 * The environment `env up` recorded, checked; undefined when none is recorded. Throws a
 * {@link StateFileError} (a ConfigError) when the state is unreadable or not safe to act on.
 */
export function readEnvironmentState(): EnvironmentState | undefined {
  const runsDir = runsDirectory();
  const file = join(runsDir, 'current.json');
  const dirStat = lstatOrUndefined(runsDir);
  if (dirStat === undefined) return undefined;
  const dirProblem = privacyProblem(dirStat, 'directory');
  if (dirProblem !== undefined) throw unsafe(file, `its directory ${runsDir} is not private (${dirProblem})`);
  const fileStat = lstatOrUndefined(file);
  if (fileStat === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readPrivateFile(file, fileStat, file));
  } catch (err) {
    if (err instanceof StateFileError) throw err;
    throw unreadable(file, `it is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw) || !isString(raw['runDir'])) throw unreadable(file, 'it names no run directory');
  const runDir = raw['runDir'];
  let description: unknown;
  let ownsRunDir: boolean;
  let recordedBoot: string | undefined;
  if (raw['format'] === 2) {
    if (typeof raw['ownsRunDir'] !== 'boolean' || !optional(raw['bootId'], isString)) throw unreadable(file, 'its ownsRunDir or bootId is malformed');
    ownsRunDir = raw['ownsRunDir'];
    recordedBoot = raw['bootId'] as string | undefined;
    description = raw['environment'];
  } else if (raw['format'] === undefined) {
    // Written by eda-harness 0.2 and earlier: the description is in the run directory, which
    // must then be one the harness created (an older `--run-dir` is not followed).
    const problem = ownRunDirProblem(runDir, runsDir);
    if (problem !== undefined) throw unsafe(file, problem);
    const envFile = join(runDir, 'environment.json');
    const envStat = lstatOrUndefined(envFile);
    if (envStat === undefined) throw unreadable(file, `${envFile} is missing`);
    try {
      description = JSON.parse(readPrivateFile(envFile, envStat, file));
    } catch (err) {
      if (err instanceof StateFileError) throw err;
      throw unreadable(file, `${envFile} is not valid JSON: ${(err as Error).message}`);
    }
    ownsRunDir = true;
  } else {
    throw unreadable(file, `its format ${JSON.stringify(raw['format'])} is unknown to this version of eda-harness`);
  }
  const shape = descriptionProblem(description);
  if (shape !== undefined) throw unreadable(file, shape);
  const d = description as EnvironmentDescription;
  if (d.runDir !== runDir) throw unsafe(file, `it names two run directories (${runDir} and ${d.runDir})`);
  if (ownsRunDir) {
    const problem = ownRunDirProblem(runDir, runsDir);
    if (problem !== undefined) throw unsafe(file, problem);
  }
  const procProblem = processesProblem(d);
  if (procProblem !== undefined) throw unsafe(file, procProblem);
  return { file, runsDir, description: d, ownsRunDir, bootId: recordedBoot };
}

/** The recorded environment's description, or undefined when none is recorded (see {@link readEnvironmentState}). */
export function readCurrentState(): EnvironmentDescription | undefined {
  return readEnvironmentState()?.description;
}

/**
 * Records a started environment for `env status` / `env down`, in the private runs directory.
 * `ownsRunDir`: the run directory was made by the harness (not chosen with `--run-dir`), so
 * `env down` may delete it.
 */
export function writeCurrentState(description: EnvironmentDescription, options: { readonly ownsRunDir: boolean }): string {
  const runsDir = ensureRunsDirectory();
  const file = join(runsDir, 'current.json');
  const existing = lstatOrUndefined(file);
  if (existing !== undefined && !existing.isFile() && !existing.isSymbolicLink()) throw unsafe(file, 'it is not a regular file');
  const state = { format: 2, runDir: description.runDir, ownsRunDir: options.ownsRunDir, bootId: bootId(), environment: description };
  const temp = join(runsDir, `.current.json.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  try {
    renameSync(temp, file); // replaces a symbolic link itself, never its target
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  return file;
}

/** Removes the state file (a symbolic link is removed, not followed). */
export function clearCurrentState(): void {
  try {
    unlinkSync(currentPointer());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface ProcessCheck {
  readonly name: string;
  readonly pid: number;
  readonly ownership: Ownership;
}

/** Each recorded process, checked against the kernel (see `ownership`). */
export function checkRecordedProcesses(state: EnvironmentState): ProcessCheck[] {
  return state.description.processes.map((p) => ({ name: p.name, pid: p.pid, ownership: ownership(p, state.bootId) }));
}

/**
 * A recorded process whose pid now belongs to another process makes the state stale: refuse, so
 * that `env down` never acts on a file that no longer describes this machine.
 */
export function refuseStaleState(state: EnvironmentState, checks: readonly ProcessCheck[]): void {
  const foreign = checks.filter((c) => c.ownership.kind === 'foreign');
  if (foreign.length === 0) return;
  const why = foreign.map((c) => `${c.name}: ${(c.ownership as { why: string }).why}`).join('; ');
  throw new StateFileError(
    `Refusing to act on the state file ${state.file}: it is stale or was not written by eda-harness (${why}). Nothing was signalled or deleted.`,
    state.file,
    `The processes it recorded have ended. Check for leftovers (\`ps -eo pid,user,args | grep -E 'kafka|rabbitmq|epmd|toxiproxy|prometheus|jaeger'\`), then delete ${state.file}${state.ownsRunDir ? ` and ${state.description.runDir}` : ''}.`,
  );
}

/**
 * Ends every recorded process that is still the one `env up` started: SIGCONT and SIGTERM to its
 * group, SIGKILL after `graceMs`; ownership is checked again before every signal. Returns the
 * processes ended; throws a ProcessError naming any that outlived SIGKILL.
 */
export async function endRecordedProcesses(state: EnvironmentState, graceMs = 5_000): Promise<string[]> {
  const ours = state.description.processes.filter((p) => stillOurs(p, state.bootId));
  for (const p of ours) {
    signalIfOurs(p, 'SIGCONT', state.bootId);
    signalIfOurs(p, 'SIGTERM', state.bootId);
  }
  const allEnded = (): boolean => ours.every((p) => !stillOurs(p, state.bootId));
  try {
    await waitFor(allEnded, { description: 'the recorded processes to exit', timeoutMs: graceMs, intervalMs: 100 });
  } catch {
    for (const p of ours) signalIfOurs(p, 'SIGKILL', state.bootId);
    try {
      await waitFor(allEnded, { description: 'the killed processes to exit', timeoutMs: 5_000, intervalMs: 100 });
    } catch {
      const left = ours.filter((p) => stillOurs(p, state.bootId)).map((p) => `${p.name} (pid ${p.pid})`);
      throw new ProcessError(`could not end ${left.join(', ')} (still running after SIGKILL)`, { hint: `Stop it yourself, then run \`eda-harness env down\` again.` });
    }
  }
  return ours.map((p) => `${p.name} (pid ${p.pid})`);
}

/**
 * Deletes the run directory when `env up` created it (checked again now); returns why not
 * otherwise. EDA_HARNESS_KEEP_RUNS=1 keeps it.
 */
export function removeRunDirectory(state: EnvironmentState): { readonly removed: boolean; readonly why?: string } {
  const { runDir } = state.description;
  if (!state.ownsRunDir) return { removed: false, why: 'it was chosen with --run-dir; remove it yourself' };
  if (process.env['EDA_HARNESS_KEEP_RUNS'] === '1') return { removed: false, why: 'EDA_HARNESS_KEEP_RUNS=1' };
  const problem = ownRunDirProblem(runDir, state.runsDir);
  if (problem !== undefined) throw unsafe(state.file, problem);
  rmSync(runDir, { recursive: true, force: true });
  return { removed: true };
}
