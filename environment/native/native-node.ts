import { ManagedProcess, type ProcessSpec } from '../managed-process';
import type { NodeHandle } from '../types';

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
