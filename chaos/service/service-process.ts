import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { once } from 'node:events';
import { ConfigError } from '@eda-harness/core';
import type { ServiceCommand } from './config';

/**
 * A service under test run as a child process: started with the harness's broker and telemetry
 * variables, its stdout / stderr appended to files in the log folder, killable (SIGKILL), pausable
 * (SIGSTOP / SIGCONT) and restartable. Each start is told to `onEvent` with its pid.
 */
export interface ServiceProcess {
  readonly pid: number | undefined;
  readonly logs: { readonly stdout: string; readonly stderr: string };
  start(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export function serviceProcess(name: string, command: ServiceCommand, baseDir: string, logDir: string, env: Record<string, string>, onEvent: (message: string) => void): ServiceProcess {
  // `name` is the service's, or `<service>#<instance>` for one of several processes.
  mkdirSync(logDir, { recursive: true });
  const file = name.replace('#', '-');
  const logs = { stdout: join(logDir, `${file}.stdout.log`), stderr: join(logDir, `${file}.stderr.log`) };
  let child: ChildProcess | undefined;
  let expectedExit = false;
  // An exit of its own (a crash) with restartOnExit: started again after a second, as an orchestrator would.
  let restartTimer: NodeJS.Timeout | undefined;
  let restarts = 0;
  const cancelRestart = (): void => {
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = undefined;
  };
  const cwd = command.cwd === undefined ? baseDir : isAbsolute(command.cwd) ? command.cwd : resolve(baseDir, command.cwd);
  const exited = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    await once(c, 'exit');
  };
  const self: ServiceProcess = {
    get pid() {
      return child?.pid;
    },
    logs,
    async start() {
      cancelRestart();
      const out = openSync(logs.stdout, 'a');
      const err = openSync(logs.stderr, 'a');
      try {
        const c = spawn(command.command, [...(command.args ?? [])], { cwd, env: { ...process.env, ...(command.env ?? {}), ...env }, stdio: ['ignore', out, err] });
        await new Promise<void>((ok, fail) => {
          c.once('spawn', ok);
          c.once('error', (e) => fail(new ConfigError(`service ${name}: could not start ${command.command}: ${e.message}`, { hint: 'check start.command and start.cwd in the service config' })));
        });
        child = c;
        expectedExit = false;
        onEvent(`service ${name} started (pid ${c.pid}); output in ${logs.stdout} and ${logs.stderr}`);
        c.once('exit', (code, signal) => {
          if (expectedExit || child !== c) return;
          const again = command.restartOnExit === true;
          onEvent(`service ${name} (pid ${c.pid}) exited by itself (${signal ?? `code ${code}`}); see ${logs.stderr}${again ? '; starting it again in 1 s (restartOnExit, as its orchestrator would)' : ''}`);
          if (!again) return;
          restarts++;
          restartTimer = setTimeout(() => {
            restartTimer = undefined;
            if (child === c && !expectedExit) self.start().catch((err: unknown) => onEvent(`service ${name}: restart ${restarts} failed: ${err instanceof Error ? err.message : String(err)}`));
          }, 1000);
        });
      } finally {
        closeSync(out);
        closeSync(err);
      }
    },
    async kill() {
      cancelRestart();
      const c = child;
      if (!c?.pid) return;
      expectedExit = true;
      c.kill('SIGKILL');
      await exited(c);
      onEvent(`service ${name} (pid ${c.pid}) killed with SIGKILL`);
    },
    pause() {
      child?.kill('SIGSTOP');
      onEvent(`service ${name} (pid ${child?.pid}) paused with SIGSTOP`);
    },
    resume() {
      child?.kill('SIGCONT');
      onEvent(`service ${name} (pid ${child?.pid}) resumed with SIGCONT`);
    },
    async stop(graceMs = 10_000) {
      cancelRestart();
      expectedExit = true;
      const c = child;
      if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
      expectedExit = true;
      c.kill('SIGCONT');
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
      await exited(c);
      clearTimeout(timer);
      onEvent(`service ${name} (pid ${c.pid}) stopped (${c.signalCode ?? `code ${c.exitCode}`})`);
    },
  };
  return self;
}
