import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '../../../environment/environment';
import { isAlive, readPidLedger, signalGroup } from '../../../environment/managed-process';
import { newClusterId } from '../../../environment/native/kafka';
import { EnvironmentStartError } from '../../../core/errors';
import { silentProgress } from '../../../core/progress';

/**
 * A start that fails part-way ends every process it spawned, the ones that were already up included.
 * Which pids a start spawned is read from a pid ledger of its own (EDA_HARNESS_PID_LEDGER, appended
 * to at every spawn); its entries are then added to the run's ledger, so global teardown checks them
 * too.
 */

type LedgerEntry = ReturnType<typeof readPidLedger>[number];

/** Runs `start` with a pid ledger of its own; resolves with what it threw and every process it spawned. */
async function spawnedBy(dir: string, start: () => Promise<unknown>): Promise<{ error: unknown; spawned: LedgerEntry[] }> {
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

/** The spawned processes still alive; they are SIGKILLed (by pid) so a failure here leaves nothing behind. */
function survivorsOf(spawned: readonly LedgerEntry[]): string[] {
  const alive = spawned.filter((e) => isAlive(e.pid, e.startTicks));
  for (const e of alive) signalGroup(e.pid, 'SIGKILL');
  return alive.map((e) => `${e.name} (pid ${e.pid})`);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-failed-start-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it('a 3-node Kafka start whose node 2 dies ends nodes 1 and 3 (already running) and Toxiproxy', async () => {
  // Node 2's log dir already belongs to node 7: its storage is not formatted again (it exists), and
  // Kafka refuses to start on it, while nodes 1 and 3 start normally and wait for node 2.
  const runDir = join(dir, 'run');
  mkdirSync(join(runDir, 'kafka-2', 'data'), { recursive: true });
  writeFileSync(join(runDir, 'kafka-2', 'data', 'meta.properties'), `version=1\ncluster.id=${newClusterId()}\nnode.id=7\n`);

  const { error, spawned } = await spawnedBy(dir, () =>
    new Environment().withRunDir(runDir).withProgress(silentProgress).withKafka({ nodes: 3 }).withToxiproxy().withProvider('native').start(),
  );

  expect(error).toBeInstanceOf(EnvironmentStartError);
  expect((error as Error).message).toContain('kafka-2');
  expect(spawned.map((e) => e.name).sort()).toEqual(['kafka-1', 'kafka-2', 'kafka-3', 'toxiproxy']);
  expect(survivorsOf(spawned)).toEqual([]);
}, 180_000);

it('a RabbitMQ start that fails ends its epmd (spawned before the broker)', async () => {
  // RabbitMQ reads advanced.config from its run directory; a malformed one stops its boot.
  const runDir = join(dir, 'run');
  mkdirSync(join(runDir, 'rabbitmq'), { recursive: true });
  writeFileSync(join(runDir, 'rabbitmq', 'advanced.config'), '[{rabbit, [ not erlang terms\n');

  const { error, spawned } = await spawnedBy(dir, () => new Environment().withRunDir(runDir).withProgress(silentProgress).withRabbitMq().withProvider('native').start());

  expect(error).toBeInstanceOf(EnvironmentStartError);
  expect(spawned.map((e) => e.name).sort()).toEqual(['epmd', 'rabbitmq']);
  expect(survivorsOf(spawned)).toEqual([]);
}, 180_000);
