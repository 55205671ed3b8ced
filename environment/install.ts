import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PrerequisiteError, ProvisionError, ensureDir, stderrProgress, waitFor, type ProgressSink } from '@eda-harness/core';

/**
 * The tools provisioning is made of: find a binary on PATH, run an install step with its output in a
 * log, a cross-process lock on the cache, and apt-get for what Debian packages.
 */

export interface ProvisionOptions {
  readonly progress?: ProgressSink;
  /** Where jars and binaries are cached; default $EDA_HARNESS_CACHE or ~/.cache/eda-harness. */
  readonly cacheDir?: string;
}

export function cacheDir(options: ProvisionOptions = {}): string {
  return options.cacheDir ?? process.env['EDA_HARNESS_CACHE'] ?? join(homedir(), '.cache', 'eda-harness');
}

/** The first of `extra` that exists, else `cmd` on PATH. */
export function which(cmd: string, extra: readonly string[] = []): string | undefined {
  for (const candidate of extra) if (existsSync(candidate)) return candidate;
  const paths = (process.env['PATH'] ?? '').split(':').filter(Boolean);
  for (const dir of paths) {
    const full = join(dir, cmd);
    if (existsSync(full)) return full;
  }
  return undefined;
}

/** Runs a command, streaming its output to `logFile`; rejects with the log's tail on failure. */
/**
 * What provisioning holds while it runs: its install children (a `go build` takes minutes) and its
 * cache locks. When the process exits in the middle (Ctrl-C during a first run's build, which the
 * demo turns into process.exit), the children are interrupted by pid and the locks released, so
 * nothing builds on in the background and the next run does not wait for a lock nobody holds.
 */
const runningChildren = new Set<ChildProcess>();
const heldLocks = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of runningChildren) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGINT');
        } catch {
          /* it ended meanwhile */
        }
      }
    }
    for (const lock of heldLocks) rmSync(lock, { recursive: true, force: true });
  });
}

export async function run(
  command: string,
  args: readonly string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    logFile: string;
    what: string;
    /** A line every `everyMs` while it runs ("still running: … (2m30s)"), for steps of minutes. */
    heartbeat?: { everyMs: number; progress: ProgressSink };
  },
): Promise<void> {
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    installExitHook();
    runningChildren.add(child);
    const beat = opts.heartbeat;
    const timer = beat
      ? setInterval(() => {
          const s = Math.round((Date.now() - started) / 1000);
          beat.progress(`still running: ${opts.what} (${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s; log: ${opts.logFile})`);
        }, beat.everyMs)
      : undefined;
    timer?.unref();
    child.once('close', () => {
      runningChildren.delete(child);
      if (timer) clearInterval(timer);
    });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('error', (err) =>
      reject(new ProvisionError(`${opts.what}: could not run ${command}: ${err.message}`, { cause: err })),
    );
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new ProvisionError(`${opts.what} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`, {
            hint: `See ${opts.logFile} for the full output.`,
          }),
        );
    });
  });
  await new Promise<void>((r) => out.end(r));
}

/** Whether the process `pid` is alive (signal 0: nothing is sent). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a lock folder is left over from a run that is gone: its owner file names a pid that no
 * longer runs, or (a lock without an owner file, from an older version or a crash between mkdir and
 * the write) it is older than 20 minutes.
 */
export function staleLock(lock: string, now = Date.now()): boolean {
  try {
    const owner = Number(readFileSync(join(lock, 'owner'), 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0) return owner !== process.pid && !pidAlive(owner);
  } catch {
    /* no owner file: judge by age */
  }
  try {
    return now - statSync(lock).mtimeMs > 20 * 60_000;
  } catch {
    return false;
  }
}

/**
 * A cross-process lock (mkdir is atomic) so two runs never install into one cache at once. The
 * lock names its owner's pid, so a run interrupted mid-install does not make the next one wait.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  ensureDir(dir, { what: 'the cache folder (EDA_HARNESS_CACHE)' });
  const lock = join(dir, '.lock');
  await waitFor(
    () => {
      try {
        mkdirSync(lock);
        writeFileSync(join(lock, 'owner'), `${process.pid}\n`);
        return true;
      } catch {
        try {
          if (staleLock(lock)) rmSync(lock, { recursive: true, force: true });
        } catch {
          /* raced with its owner: retry */
        }
        return false;
      }
    },
    { description: `the provisioning lock ${lock}`, timeoutMs: 20 * 60_000, intervalMs: 500 },
  );
  installExitHook();
  heldLocks.add(lock);
  try {
    return await fn();
  } finally {
    heldLocks.delete(lock);
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Ends this process (its install step interrupted and its locks released by the exit hook) once
 * the process `pid` is gone: provisioning started in the background by `npm test` must not build on
 * for minutes after the run that wanted it failed or was stopped. Returns a function that stops
 * watching. `pid` undefined or not a positive integer: nothing to watch.
 */
export function exitWhenGone(pid: number | undefined, options: { intervalMs?: number; say?: (line: string) => void } = {}): () => void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return () => undefined;
  const timer = setInterval(() => {
    if (pidAlive(pid)) return;
    (options.say ?? ((line: string) => console.error(line)))(`the run that started this provisioning (pid ${pid}) has ended: stopping here; the next run carries on where this one stopped`);
    process.exit(1);
  }, options.intervalMs ?? 2000);
  timer.unref();
  return () => clearInterval(timer);
}

/** "in 12.3 s" since `started` (Date.now()). */
export function secondsSince(started: number): string {
  return `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

let aptUpdated = false;

/** Installs Debian packages when we are root with apt-get; otherwise says what to do. */
export async function aptInstall(packages: readonly string[], why: string, alternative: string, options: ProvisionOptions): Promise<void> {
  const progress = options.progress ?? stderrProgress;
  const aptGet = which('apt-get');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!aptGet || !isRoot) {
    throw new PrerequisiteError(`${why} is not installed, and eda-harness cannot install it here (${!aptGet ? 'no apt-get' : 'not root'}).`, {
      hint: `Install the Debian package(s) ${packages.join(', ')} (sudo apt-get install ${packages.join(' ')}), or ${alternative}.`,
    });
  }
  const dir = ensureDir(join(cacheDir(options), 'logs'), { what: 'the cache folder (EDA_HARNESS_CACHE)' });
  const logFile = join(dir, `apt-${Date.now()}.log`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await withLock(join(cacheDir(options), 'apt'), async () => {
    if (!aptUpdated) {
      progress(`apt-get update (first run only; log: ${logFile})`);
      await run(aptGet, ['-o', 'DPkg::Lock::Timeout=600', 'update', '-qq'], { env, logFile, what: 'apt-get update' });
      aptUpdated = true;
    }
    progress(`apt-get install ${packages.join(' ')} (first run only)`);
    const started = Date.now();
    await run(aptGet, ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', '--no-install-recommends', ...packages], {
      env,
      logFile,
      what: `apt-get install ${packages.join(' ')}`,
    });
    progress(`installed ${packages.join(' ')} in ${secondsSince(started)}`);
  });
}

/** What to apt-get install when a tool is missing, and what to say when that does not help. */
export interface AptPackage {
  readonly packages: readonly string[];
  /** What is missing, as the error names it ("Java (17 or newer, for Kafka)"). */
  readonly what: string;
  /** What the user can do instead ("set KAFKA_BROKERS to use an existing Kafka"). */
  readonly alternative: string;
  /** The error when the install ran but `find` still finds nothing. */
  readonly stillMissing: string;
  readonly stillMissingHint?: string;
}

/** `find()`; when it finds nothing, apt-get installs `apt.packages` and finds again. */
export async function findOrInstall<T>(find: () => T | undefined, apt: AptPackage, options: ProvisionOptions): Promise<T> {
  const found = find();
  if (found !== undefined) return found;
  await aptInstall(apt.packages, apt.what, apt.alternative, options);
  const installed = find();
  if (installed === undefined) {
    throw new PrerequisiteError(apt.stillMissing, apt.stillMissingHint === undefined ? {} : { hint: apt.stillMissingHint });
  }
  return installed;
}
