import { readFileSync } from 'node:fs';

/**
 * Whether a process named in a state file is one this harness started, checked from the kernel's
 * own records right before it is signalled: `env down` runs in a later program than `env up`, so
 * the pid alone proves nothing (it may have been recycled, or the file planted or corrupted).
 */
export interface RecordedProcess {
  readonly name: string;
  readonly pid: number;
  readonly startTicks?: number | undefined;
}

export type Ownership =
  /** Alive, and the very process recorded: same pid, same kernel start time, same user. */
  | { readonly kind: 'ours'; readonly groupLeader: boolean }
  /** It has ended (no such pid, a zombie, or it belonged to an earlier boot). */
  | { readonly kind: 'gone'; readonly why: string }
  /** The pid is alive but is not the process recorded, or cannot be proven to be: never signal it. */
  | { readonly kind: 'foreign'; readonly why: string };

/** The kernel's boot id (changes on every boot); undefined where /proc has none. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A pid a state file may name at all: an integer above 1 (0 is our own group, 1 init, -1 everyone) and not this process. */
export function isSignallablePid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 1 && pid !== process.pid;
}

interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  readonly startTicks: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(rest[19]);
    const pgrp = Number(rest[2]);
    if (!Number.isFinite(startTicks) || !Number.isFinite(pgrp)) return undefined;
    return { state: rest[0] ?? '?', pgrp, startTicks };
  } catch {
    return undefined;
  }
}

/** The real uid of `pid`, from /proc/<pid>/status. */
function procUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Checks a recorded process against the kernel: the pid must be one a state file may name, its
 * start time must be recorded and equal the kernel's, and it must belong to this user. Where
 * /proc is missing nothing can be proven, so a live pid is then foreign.
 */
export function ownership(p: RecordedProcess, recordedBootId?: string): Ownership {
  if (!isSignallablePid(p.pid)) return { kind: 'foreign', why: `pid ${String(p.pid)} is never one eda-harness started` };
  const currentBoot = bootId();
  if (recordedBootId !== undefined && currentBoot !== undefined && recordedBootId !== currentBoot) {
    return { kind: 'gone', why: 'it was started before the machine last booted' };
  }
  if (!pidExists(p.pid)) return { kind: 'gone', why: 'it has exited' };
  if (typeof p.startTicks !== 'number' || !Number.isSafeInteger(p.startTicks)) {
    return { kind: 'foreign', why: `no start time is recorded for pid ${p.pid}, so it cannot be proven to be the process eda-harness started` };
  }
  const stat = procStat(p.pid);
  if (stat === undefined) {
    return pidExists(p.pid)
      ? { kind: 'foreign', why: `the start time of pid ${p.pid} cannot be read (no /proc), so it cannot be proven to be the process eda-harness started` }
      : { kind: 'gone', why: 'it has exited' };
  }
  if (stat.startTicks !== p.startTicks) {
    return { kind: 'foreign', why: `pid ${p.pid} is now another process (it started at tick ${stat.startTicks}, the recorded one at ${p.startTicks})` };
  }
  const uid = procUid(p.pid);
  const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid === undefined || me === undefined || uid !== me) {
    return { kind: 'foreign', why: `pid ${p.pid} belongs to ${uid === undefined ? 'an unknown user' : `uid ${uid}`}, not to you${me === undefined ? '' : ` (uid ${me})`}` };
  }
  if (stat.state === 'Z' || stat.state === 'X') return { kind: 'gone', why: 'it has exited' };
  return { kind: 'ours', groupLeader: stat.pgrp === p.pid };
}

/**
 * Sends `signal` to a recorded process, only when {@link ownership} says it is ours at this very
 * moment (checked again before every signal): to its whole group when it leads one, as every
 * process the harness starts does, else to the process alone. Returns whether a signal was sent.
 */
export function signalIfOurs(p: RecordedProcess, signal: NodeJS.Signals, recordedBootId?: string): boolean {
  const o = ownership(p, recordedBootId);
  if (o.kind !== 'ours') return false;
  try {
    process.kill(o.groupLeader ? -p.pid : p.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while the recorded process is alive and still ours (see {@link ownership}). */
export function stillOurs(p: RecordedProcess, recordedBootId?: string): boolean {
  return ownership(p, recordedBootId).kind === 'ours';
}
