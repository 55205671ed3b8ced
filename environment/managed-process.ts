import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
import { ProcessError, stderrProgress, waitFor, withDeadline } from '@eda-harness/core';

export interface ProcessSpec {
  /** Short label used in messages and the pid ledger ("kafka-1", "rabbitmq"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /**
   * Send the stop() SIGTERM to the group leader only, when the leader is a wrapper script that
   * shuts its child down in order and reaps it (RabbitMQ's). Crashes (kill) still hit the group.
   */
  readonly terminateLeaderOnly?: boolean;
}

/** What is needed to find a process again from another program (`env down`), and to be sure it is ours. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** Kernel start time (clock ticks since boot) so a recycled pid is never mistaken for ours. */
  readonly startTicks: number | undefined;
  readonly logFile: string;
}

/** Reads field 22 of /proc/<pid>/stat; undefined where /proc is absent or the pid is gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and, if `startTicks` is known, is the same process we recorded. */
export function isAlive(pid: number, startTicks?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (startTicks !== undefined) {
    const now = processStartTicks(pid);
    if (now !== undefined && now !== startTicks) return false;
  }
  // A zombie still answers kill(0): treat it as dead.
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3);
    if (s === 'Z' || s === 'X') return false;
  } catch {
    /* no /proc: trust kill(0) */
  }
  return true;
}

/**
 * Blocks (no event loop needed: for exit handlers) until none of `pids` is alive or `timeoutMs`
 * has passed; true when all are gone.
 */
export function waitGoneSync(pids: readonly number[], timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    if (pids.every((pid) => !isAlive(pid))) return true;
    if (Date.now() >= deadline) return false;
    Atomics.wait(nap, 0, 0, 10);
  }
}

/** Sends `signal` to the process group led by `pid` (we start every process as a group leader). */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * One OS process started by the harness, in its own process group so that signals reach the
 * whole tree (RabbitMQ's start script and its Erlang VM, say) and nothing is left behind.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exitPromise: Promise<void> = Promise.resolve();
  private startTicksValue: number | undefined;
  private expectedExit = false;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** Why it ended, when it has: "exit code 1" or "signal SIGKILL". */
  get exitDescription(): string | undefined {
    if (!this.exitInfo) return undefined;
    return this.exitInfo.signal ? `signal ${this.exitInfo.signal}` : `exit code ${this.exitInfo.code}`;
  }

  record(): ProcessRecord {
    const pid = this.pid;
    if (pid === undefined) throw new ProcessError(`${this.name} has not been started`);
    return { name: this.name, pid, startTicks: this.startTicksValue, logFile: this.spec.logFile };
  }

  start(): void {
    if (this.running) return;
    appendFileSync(this.spec.logFile, `\n--- ${new Date().toISOString()} starting ${this.spec.command} ${this.spec.args.join(' ')}\n`);
    const fd = openSync(this.spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, [...this.spec.args], {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        // Own process group: signals go to the whole tree, and Ctrl-C in the terminal reaches
        // only us, so teardown happens in order instead of every child dying at once.
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.exitInfo = undefined;
    this.expectedExit = false;
    this.child = child;
    this.exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        // A broker dying on its own mid-run must not go unnoticed: say which, how, and where its log is.
        if (!this.expectedExit) {
          stderrProgress(`${this.name} (pid ${child.pid}) exited unexpectedly (${this.exitDescription}); its log: ${this.spec.logFile}`);
        }
        resolve();
      });
      child.once('error', (err) => {
        appendFileSync(this.spec.logFile, `--- failed to start: ${err.message}\n`);
        this.exitInfo = { code: -1, signal: null };
        resolve();
      });
    });
    // Detached children would otherwise keep the event loop (and a CLI) alive.
    child.unref();
    if (child.pid !== undefined) {
      this.startTicksValue = processStartTicks(child.pid);
      appendPidLedger(this.spec.name, child.pid);
    }
  }

  /** Throws when the process has died without being asked to: used inside readiness waits. */
  assertRunning(): void {
    if (this.exitInfo && !this.expectedExit) {
      throw new ProcessError(`${this.name} exited during start-up (${this.exitDescription}); its log: ${this.spec.logFile}`, {
        logFile: this.spec.logFile,
        hint: `Read the end of ${this.spec.logFile}.`,
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || !this.running) {
      throw new ProcessError(`cannot send ${signal} to ${this.name}: it is not running`);
    }
    signalGroup(pid, signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process has exited. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.expectedExit = true;
    // While we wait for the exit, the child must keep the event loop alive: it was unref'd so
    // that a running broker does not hold a CLI open, but a program whose last act is stop()
    // would otherwise exit mid-teardown (and its exit hook would SIGKILL instead).
    this.child?.ref();
    // A stopped (paused) process cannot handle SIGTERM: continue it first.
    this.signal('SIGCONT');
    if (this.spec.terminateLeaderOnly && this.pid !== undefined) process.kill(this.pid, 'SIGTERM');
    else this.signal('SIGTERM');
    try {
      await withDeadline(this.exitPromise, graceMs, `${this.name}'s exit after SIGTERM`);
    } catch {
      await this.kill();
    }
    await this.reapGroup();
  }

  /** SIGKILL to the whole group, as a crash would. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.expectedExit = true;
    this.child?.ref();
    this.signal('SIGKILL');
    await this.exitPromise;
    await this.reapGroup();
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /**
   * The leader has exited, but members of its group (an Erlang VM under RabbitMQ's script) may
   * linger briefly; make sure none is left.
   */
  private async reapGroup(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    const groupAlive = (): boolean => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (!groupAlive()) return;
    try {
      await waitFor(() => !groupAlive(), { description: `${this.name}'s process group to exit`, timeoutMs: 5_000, intervalMs: 50 });
    } catch {
      signalGroup(pid, 'SIGKILL');
    }
  }
}

/**
 * When EDA_HARNESS_PID_LEDGER names a file, every started pid is appended to it. Test runs use it
 * to prove afterwards that no process they started outlived them.
 */
function appendPidLedger(name: string, pid: number): void {
  const ledger = process.env['EDA_HARNESS_PID_LEDGER'];
  if (!ledger) return;
  try {
    appendFileSync(ledger, `${pid}\t${processStartTicks(pid) ?? ''}\t${name}\n`);
  } catch {
    /* the ledger is a test aid; never fail a start because of it */
  }
}

export function readPidLedger(file: string): { pid: number; startTicks: number | undefined; name: string }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [pid, ticks, name] = line.split('\t');
      return { pid: Number(pid), startTicks: ticks ? Number(ticks) : undefined, name: name ?? '?' };
    });
}

let exitHookInstalled = false;
let signalHooksInstalled = false;

/**
 * Makes sure processes started in this Node process do not outlive it: on exit `killNow` SIGKILLs
 * what must not survive (synchronously: nothing async runs in an exit handler). With `onSignal`,
 * SIGINT/SIGTERM first run that orderly teardown, then exit with the conventional code; programs
 * that handle those signals themselves (the demo) pass none.
 */
export function installExitHook(killNow: () => void, onSignal?: () => Promise<void>): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killNow);
  }
  if (onSignal && !signalHooksInstalled) {
    signalHooksInstalled = true;
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        onSignal()
          .catch(() => undefined)
          .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
      });
    }
  }
}
