import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ports one process has drawn for its brokers, marked on disk so another process drawing at the
 * same time (the test lanes, two `env up`) skips them. Listening only proves a port is free now:
 * between the draw and the broker's bind, and while a fault keeps a killed broker down (its port
 * unbound, often not even in TIME_WAIT), another process could draw the same port and bind it
 * first, and the broker then fails to start or to restart.
 *
 * One file per port, named by the port, in a directory every process shares: created exclusively,
 * holding the owner's pid. A file whose pid no longer runs (a process killed before it could
 * release) is taken over, and so is one without a pid that is older than a few seconds (its
 * writer died between creating and writing it); release() removes only this process's files.
 */
export interface PortReservations {
  /** Marks `port` as this process's; false when a running process holds it. Never throws. */
  reserve(port: number): boolean;
  /** Removes the marks of `ports` that this process holds. Never throws. */
  release(ports: readonly number[]): void;
}

/** How old a reservation file without a pid must be to be taken over. */
const UNWRITTEN_STALE_MS = 5_000;

/** The directory every process on the machine shares, unless EDA_HARNESS_PORT_RESERVATIONS names another. */
export function defaultReservationsDir(): string {
  return process.env['EDA_HARNESS_PORT_RESERVATIONS'] || join(tmpdir(), 'eda-harness-ports');
}

/** Whether process `pid` runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reservations in `dir` (default {@link defaultReservationsDir}) for process `pid` (default this
 * one). With `releaseOnExit`, whatever this process still holds is released when it exits (ports
 * of tests that never stop what they drew), instead of waiting to be taken over.
 */
export function fileReservations(
  deps: {
    dir?: string;
    pid?: number;
    alive?: (pid: number) => boolean;
    releaseOnExit?: boolean;
    onExit?: (fn: () => void) => void;
    /** Creates `path` exclusively (fails with EEXIST when it exists); for tests of other failures. */
    openExclusive?: (path: string) => number;
    /** Where a reservation directory that cannot be used is reported (default: a process warning). */
    warn?: (message: string) => void;
  } = {},
): PortReservations {
  const dir = deps.dir ?? defaultReservationsDir();
  const pid = deps.pid ?? process.pid;
  const alive = deps.alive ?? processAlive;
  const held = new Set<number>();
  let exitHook = false;
  const hold = (port: number): boolean => {
    held.add(port);
    if (deps.releaseOnExit && !exitHook) {
      exitHook = true;
      (deps.onExit ?? ((fn) => process.once('exit', fn)))(() => self.release([...held]));
    }
    return true;
  };
  const warn = deps.warn ?? ((message: string) => process.emitWarning(message, 'EdaHarnessPortReservations'));
  const openExclusive = deps.openExclusive ?? ((path: string) => openSync(path, 'wx', 0o666));
  let usable = true;
  /** Ports are then only checked by listening, as before reservations existed: said once. */
  const unusable = (err: unknown): void => {
    usable = false;
    warn(`port reservations are off: ${dir} cannot be used (${(err as Error).message}). Ports are still checked by listening, but a process drawing at the same time could take one; set EDA_HARNESS_PORT_RESERVATIONS to a directory this user can write`);
  };
  try {
    const made = mkdirSync(dir, { recursive: true });
    // Every user of the machine reserves in it (the sticky bit keeps them from removing each other's files).
    if (made !== undefined) chmodSync(dir, 0o1777);
  } catch (err) {
    unusable(err);
  }
  const file = (port: number): string => join(dir, String(port));
  const owner = (port: number): number | undefined => {
    try {
      const n = Number(readFileSync(file(port), 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  };
  /** A file without a pid that is old enough that its writer cannot still be about to write it. */
  const stale = (port: number): boolean => {
    try {
      return Date.now() - statSync(file(port)).mtimeMs > UNWRITTEN_STALE_MS;
    } catch {
      return true;
    }
  };
  /** True when this process now holds the file; false when it exists (or could not be written). */
  const create = (port: number): boolean => {
    let fd: number | undefined;
    try {
      fd = openExclusive(file(port));
      writeSync(fd, String(pid));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') unusable(err);
      return false;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };
  const self: PortReservations = {
    reserve(port) {
      if (!usable) return true;
      if (create(port)) return hold(port);
      if (!usable) return true;
      const holder = owner(port);
      if (holder === pid) return hold(port);
      if (holder !== undefined ? alive(holder) : !stale(port)) return false;
      // A holder that is gone: take it over, once.
      try {
        unlinkSync(file(port));
      } catch {
        /* another process took it over first: create() below then fails */
      }
      if (create(port)) return hold(port);
      return !usable;
    },
    release(ports) {
      if (!usable) return;
      for (const port of ports) {
        held.delete(port);
        if (owner(port) !== pid) continue;
        try {
          unlinkSync(file(port));
        } catch {
          /* already gone */
        }
      }
    },
  };
  return self;
}
