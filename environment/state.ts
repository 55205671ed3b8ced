import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { waitFor } from '@eda-harness/core';
import { isAlive, signalGroup } from './managed-process';
import type { EnvironmentDescription } from './types';

/**
 * `env up` leaves brokers running after the CLI exits; these helpers let `env status` and
 * `env down` find them again. The pointer file names the run directory, whose environment.json
 * lists every pid with its kernel start time (so a recycled pid is never signalled).
 */
export function currentPointer(): string {
  return join(process.env['EDA_HARNESS_RUNS'] ?? join(tmpdir(), 'eda-harness'), 'current.json');
}

export function writeCurrentState(description: EnvironmentDescription): void {
  const file = currentPointer();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ runDir: description.runDir }, null, 2)}\n`);
}

export function readCurrentState(): EnvironmentDescription | undefined {
  const file = currentPointer();
  if (!existsSync(file)) return undefined;
  try {
    const { runDir } = JSON.parse(readFileSync(file, 'utf8')) as { runDir: string };
    return JSON.parse(readFileSync(join(runDir, 'environment.json'), 'utf8')) as EnvironmentDescription;
  } catch {
    return undefined;
  }
}

export function clearCurrentState(): void {
  rmSync(currentPointer(), { force: true });
}

/** Ends every recorded process group (SIGTERM, then SIGKILL after `graceMs`). Returns what was ended. */
export async function endRecordedProcesses(description: EnvironmentDescription, graceMs = 5_000): Promise<string[]> {
  const alive = description.processes.filter((p) => isAlive(p.pid, p.startTicks));
  for (const p of alive) {
    signalGroup(p.pid, 'SIGCONT');
    signalGroup(p.pid, 'SIGTERM');
  }
  try {
    await waitFor(() => alive.every((p) => !isAlive(p.pid, p.startTicks)), { description: 'recorded processes to exit', timeoutMs: graceMs, intervalMs: 100 });
  } catch {
    for (const p of alive) if (isAlive(p.pid, p.startTicks)) signalGroup(p.pid, 'SIGKILL');
    await waitFor(() => alive.every((p) => !isAlive(p.pid, p.startTicks)), { description: 'killed processes to exit', timeoutMs: 5_000, intervalMs: 100 });
  }
  return alive.map((p) => `${p.name} (pid ${p.pid})`);
}
