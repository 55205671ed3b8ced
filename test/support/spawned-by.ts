import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, readPidLedger, signalGroup } from '../../environment/managed-process';

type LedgerEntry = ReturnType<typeof readPidLedger>[number];

/**
 * Runs `start` with a pid ledger of its own (EDA_HARNESS_PID_LEDGER, appended to at every spawn, in
 * `dir`); resolves with what it threw and every process it spawned. The entries are then added to
 * the run's ledger, so global teardown checks them too.
 */
export async function spawnedBy(dir: string, start: () => Promise<unknown>): Promise<{ error: unknown; spawned: LedgerEntry[] }> {
  const runLedger = process.env['EDA_HARNESS_PID_LEDGER'];
  const ledger = join(dir, 'pids.tsv');
  process.env['EDA_HARNESS_PID_LEDGER'] = ledger;
  let error: unknown;
  try {
    await start();
  } catch (err) {
    error = err;
  } finally {
    if (runLedger === undefined) delete process.env['EDA_HARNESS_PID_LEDGER'];
    else process.env['EDA_HARNESS_PID_LEDGER'] = runLedger;
  }
  const spawned = readPidLedger(ledger);
  if (runLedger) appendFileSync(runLedger, spawned.map((e) => `${e.pid}\t${e.startTicks ?? ''}\t${e.name}\n`).join(''));
  return { error, spawned };
}

/** The spawned processes still alive, as "name (pid N)"; they are SIGKILLed (by pid) so a failure leaves nothing behind. */
export function survivorsOf(spawned: readonly LedgerEntry[]): string[] {
  const alive = spawned.filter((e) => isAlive(e.pid, e.startTicks));
  for (const e of alive) signalGroup(e.pid, 'SIGKILL');
  return alive.map((e) => `${e.name} (pid ${e.pid})`);
}
