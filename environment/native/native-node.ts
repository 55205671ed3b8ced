import { NotReadyError, ProcessError, errorMessage, requestText, waitFor } from '@eda-harness/core';
import { ManagedProcess, type ProcessSpec } from '../managed-process';
import type { NodeHandle } from '../types';

/**
 * Where a native service registers its processes with the environment (EnvironmentResources'
 * `ownProcesses`). Services call it before they spawn anything, not once they are ready: a start
 * that fails part-way (one Kafka node of three dies, RabbitMQ never answers while its epmd runs)
 * must still end every process it spawned.
 */
export type OwnProcesses = (processes: () => readonly ManagedProcess[]) => void;

/**
 * Turns a ManagedProcess plus a readiness probe into a NodeHandle: `start()` means "serving",
 * not "forked".
 */
export function nativeNodeHandle(
  name: string,
  spec: () => ProcessSpec,
  waitReady: (proc: ManagedProcess) => Promise<void>,
  stopGraceMs = 15_000,
): NodeHandle & { process(): ManagedProcess } {
  let proc = new ManagedProcess(spec());
  const handle = {
    name,
    get pid() {
      return proc.pid;
    },
    get running() {
      return proc.running;
    },
    process: () => proc,
    async start() {
      if (proc.running) return;
      proc = new ManagedProcess(spec());
      proc.start();
      await waitReady(proc);
    },
    stop: () => proc.stop(stopGraceMs),
    kill: () => proc.kill(),
    pause: async () => proc.pause(),
    resume: async () => proc.resume(),
    async restart() {
      await handle.stop();
      await handle.start();
    },
  };
  return handle;
}

/**
 * Polls `probe` until `proc` serves: the readiness wait of every native service. A process that
 * exits meanwhile ends the wait at once with a ProcessError naming its log, and so does one that is
 * stopped meanwhile (a failed start tearing down the nodes still waiting): it can no longer become
 * ready. The timeout's message names the log too.
 */
export function untilServing<T>(
  proc: ManagedProcess,
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const abortIf = (): void => {
    proc.assertRunning();
    if (!proc.running) throw new ProcessError(`${proc.name} was stopped while waiting for ${what}`, { logFile: proc.spec.logFile });
  };
  return waitFor(probe, { description: `${what} (log: ${proc.spec.logFile})`, timeoutMs, intervalMs, abortIf });
}

/**
 * Readiness probe: true once `url` answers 2xx. While a service starts, any other answer (a refused
 * connection, a 503, a 404 from a plugin still loading) means "not yet": it is thrown as a retriable
 * NotReadyError, so waitFor keeps polling and its timeout names the last answer.
 */
export async function httpServes(url: string, headers?: Readonly<Record<string, string>>): Promise<true> {
  try {
    await requestText(url, { timeoutMs: 2000, ...(headers ? { headers } : {}) });
    return true;
  } catch (err) {
    throw new NotReadyError(errorMessage(err), { cause: err });
  }
}
