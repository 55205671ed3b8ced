import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
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
export async function run(
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; what: string },
): Promise<void> {
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** A cross-process lock (mkdir is atomic) so two runs never install into one cache at once. */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  ensureDir(dir, { what: 'the cache folder (EDA_HARNESS_CACHE)' });
  const lock = join(dir, '.lock');
  await waitFor(
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch {
        // A lock older than 20 minutes is left over from a killed run.
        try {
          if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
        } catch {
          /* raced with its owner: retry */
        }
        return false;
      }
    },
    { description: `the provisioning lock ${lock}`, timeoutMs: 20 * 60_000, intervalMs: 500 },
  );
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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
