import { isAlive, readPidLedger, signalGroup } from '../../environment/managed-process';
import { until } from './until';

/** Fails the run if any process a test started is still alive (checked by pid and start time). */
export default async function globalTeardown(): Promise<void> {
  const ledger = process.env['EDA_HARNESS_PID_LEDGER'];
  if (!ledger) return;
  const entries = readPidLedger(ledger);
  const alive = () => entries.filter((e) => isAlive(e.pid, e.startTicks));
  // Give processes ended in the last test a moment to be reaped; whoever is alive after that is reported.
  await until('the processes started by the tests to exit', () => alive().length === 0, { timeoutMs: 10_000 }).catch(() => undefined);
  const survivors = alive();
  if (survivors.length > 0) {
    for (const s of survivors) signalGroup(s.pid, 'SIGKILL');
    throw new Error(`processes started by the tests outlived them: ${survivors.map((s) => `${s.name} (pid ${s.pid})`).join(', ')}`);
  }
  console.log(`\n[eda-harness] all ${entries.length} processes started by the tests have exited (checked by pid).`);
}
