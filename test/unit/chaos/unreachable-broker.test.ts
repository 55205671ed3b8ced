import { createServer } from 'node:net';
import { ChaosScenario, Fault, Workload } from '../../../chaos/index';
import type { StartedEnvironment } from '../../../environment/index';

/**
 * A workload whose broker is not there must end the scenario with a clear error, not hang: the
 * reconnect loop a RabbitMQ workload needs (amqplib does not reconnect) is bounded on the first
 * connection. No broker is involved: the port is one nothing listens on.
 */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('a RabbitMQ workload that cannot connect fails the scenario with BROKER_UNREACHABLE wording and the URL without its password', async () => {
  const port = await closedPort();
  // Only the getter the workload uses: the environment is not what is under test here.
  const env = { getAmqpUrl: () => `amqp://guest:secret@127.0.0.1:${port}` } as unknown as StartedEnvironment;
  const started = Date.now();
  const r = await new ChaosScenario('unreachable')
    .withWorkload(Workload.rabbitmq({ connectTimeoutMs: 1500 }))
    .withFault(Fault.brokerRestart({ system: 'rabbitmq' }))
    .run({ env });
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(r.passed).toBe(false);
  expect(r.error).toMatch(new RegExp(`RabbitMQ at amqp://guest:\\*\\*\\*@127.0.0.1:${port}/? did not accept the workload's connections within 1.5 s`));
  expect(r.error).not.toContain('secret');
  expect(r.faults).toEqual([]);
}, 20_000);
