import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from '../../support/run-main';

/** `eda-harness chaos list --service`: the scenarios of every service a config describes, as `run --service` would run them. */
describe('eda-harness chaos list --service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-list-service-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const svc = (name: string, input: string) => `{ name: '${name}', version: '2.1', start: { command: 'node' }, inputs: [{ ${input}, message: (id) => ({ value: id }) }] }`;

  it('lists each service’s scenarios with system, needs and summary, Kafka and RabbitMQ services in one config', async () => {
    const file = join(dir, 'suite.config.cjs');
    writeFileSync(file, `module.exports = { services: [${svc('orders', "topic: 'orders'")}, ${svc('emails', "exchange: 'notifications', routingKey: 'email'")}] };\n`);
    const r = await runMain(['chaos', 'list', '--service', file]);
    expect(r.code).toBe(0);
    const names = r.out.split('\n').map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual([
      'orders-broker-restart',
      'orders-broker-kill',
      'orders-leader-failover',
      'orders-network-partition',
      'orders-service-kill',
      'orders-service-pause',
      'orders-poison-messages',
      'emails-broker-restart',
      'emails-broker-kill',
      'emails-network-partition',
      'emails-service-kill',
      'emails-service-pause',
      'emails-poison-messages',
    ]);
    expect(r.out).toMatch(/orders-leader-failover\s+kafka\s+Kafka ×3\s+orders 2\.1: 10 inputs\/s over 4 keys to topic orders; the partition leader/);
    expect(r.out).toMatch(/emails-network-partition\s+rabbitmq\s+RabbitMQ \+ Toxiproxy\s+emails 2\.1: .* to exchange notifications \(routing key email\); clients cut off from rabbitmq/);
  });

  it('exits 2 with what is wrong for a bad config, before anything starts', async () => {
    const file = join(dir, 'bad.config.cjs');
    writeFileSync(file, `module.exports = ${svc('orders', "queue: 'q', topic: 'orders'")};\n`);
    const r = await runMain(['chaos', 'list', '--service', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('inputs[0] names a topic and a queue');
  });
});
