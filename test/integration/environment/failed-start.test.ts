import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '../../../environment/environment';
import { newClusterId } from '../../../environment/native/kafka';
import { EnvironmentStartError } from '../../../core/errors';
import { silentProgress } from '../../../core/progress';
import { spawnedBy, survivorsOf } from '../../support/spawned-by';

/**
 * A start that fails part-way ends every process it spawned, the ones that were already up included.
 * Which pids a start spawned is read from a pid ledger of its own (EDA_HARNESS_PID_LEDGER, appended
 * to at every spawn); its entries are then added to the run's ledger, so global teardown checks them
 * too.
 */

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
