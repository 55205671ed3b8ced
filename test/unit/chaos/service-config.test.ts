import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@eda-harness/core';
import { loadServiceConfig, loadServiceConfigs, serviceConfigProblems, validateServiceConfig } from '../../../chaos/service/config';

const message = (id: string) => ({ value: JSON.stringify({ orderId: id }) });
const valid = { name: 'inventory', version: '1.2.3', start: { command: 'node', args: ['main.js'] }, inputs: [{ topic: 'orders', message }] };

describe('service config validation', () => {
  it('accepts a minimal config and fills in the defaults', () => {
    expect(serviceConfigProblems(valid)).toEqual([]);
    const c = validateServiceConfig(valid, 'chaos.config.js', '/srv');
    expect(c).toMatchObject({ system: 'kafka', outputs: [], effectName: 'effect', orderedPerKey: false, telemetryTimeoutMs: 15_000, baseDir: '/srv' });
  });

  it('takes an input with a queue, or an exchange and a routing key, as RabbitMQ', () => {
    const q = validateServiceConfig({ ...valid, inputs: [{ queue: 'emails', message }], deadLetters: { queue: 'emails.dlq' } });
    expect(q.system).toBe('rabbitmq');
    expect(validateServiceConfig({ ...valid, inputs: [{ exchange: 'notifications', routingKey: 'email.send', message }] }).system).toBe('rabbitmq');
  });

  it('takes serviceQueue only beside an exchange: the queue the service consumes behind it', () => {
    expect(serviceConfigProblems({ ...valid, inputs: [{ exchange: 'notifications', routingKey: 'email', serviceQueue: 'emails', message }] })).toEqual([]);
    expect(serviceConfigProblems({ ...valid, inputs: [{ queue: 'emails', serviceQueue: 'emails', message }] })).toEqual([
      'inputs[0].serviceQueue names the queue behind an exchange input, but this input has no exchange: leave it out (a queue input is the service\'s queue)',
    ]);
    expect(serviceConfigProblems({ ...valid, inputs: [{ topic: 'orders', serviceQueue: 'emails', message }] })).toEqual(['inputs[0].serviceQueue is for a RabbitMQ exchange input; a Kafka input names its topic only']);
    expect(serviceConfigProblems({ ...valid, inputs: [{ exchange: 'notifications', routingKey: 'email', serviceQueue: 'two words', message }] })).toEqual(['inputs[0].serviceQueue is "two words": write a RabbitMQ name (up to 255 characters)']);
  });

  it('accepts an in-process factory and an ESM default export', () => {
    expect(validateServiceConfig({ default: { ...valid, start: async () => ({ stop: async () => undefined }) } }).name).toBe('inventory');
  });

  it.each([
    [{ ...valid, name: '' }, 'name is "": write the service\'s name'],
    [{ ...valid, version: undefined }, 'version is missing: write the version under test'],
    [{ ...valid, start: 'node main.js' }, 'start is "node main.js": write a factory'],
    [{ ...valid, start: { args: ['x'] } }, 'start.command is missing: write the program'],
    [{ ...valid, start: { command: 'node', env: { A: 1 } } }, 'start.env is {"A":1}: write an object of string values'],
    [{ ...valid, start: { command: 'node', instances: 5 } }, 'start.instances is 5: write a whole number from 1 to 4'],
    [{ ...valid, inputs: [] }, 'inputs is an empty list: write at least one'],
    [{ ...valid, inputs: [{ topic: 'bad topic!', message }] }, 'inputs[0].topic is "bad topic!": write a Kafka topic name'],
    [{ ...valid, inputs: [{ topic: 'orders', message: 'x' }] }, 'inputs[0].message is "x": write a function (id, key, seq)'],
    [{ ...valid, inputs: [{ topic: 'orders', message, keys: 0 }] }, 'inputs[0].keys is 0: write a whole number ≥ 1'],
    [{ ...valid, inputs: [{ topic: 'orders', message, messagesPerSecond: -1 }] }, 'inputs[0].messagesPerSecond is -1: write a number above 0'],
    [{ ...valid, outputs: [{ topic: 'out', match: 'id' }] }, "outputs[0].match is \"id\": write 'trace' or { field: 'orderId' }"],
    [{ ...valid, effects: { orders: 1 } }, 'effects is {"orders":1}: write an async function returning counts by input id'],
    [{ ...valid, orderedPerKey: 'yes' }, 'orderedPerKey is "yes": write true or false'],
    [{ ...valid, system: 'nats' }, "system is \"nats\": write 'kafka' or 'rabbitmq'"],
    [{ ...valid, system: 'rabbitmq' }, "inputs[0] names a Kafka topic but system is 'rabbitmq'"],
    [{ ...valid, inputs: [{ queue: 'emails', topic: 'orders', message }] }, 'inputs[0] names a topic and a queue: write a topic (Kafka) or a queue / exchange (RabbitMQ), not both'],
    [{ ...valid, inputs: [{ exchange: 'notifications', message }] }, "inputs[0].routingKey is missing: an exchange input needs the routing key"],
    [{ ...valid, inputs: [{ queue: 'emails', exchange: 'notifications', routingKey: 'e', message }] }, 'inputs[0] names a queue and an exchange'],
    [{ ...valid, inputs: [{ queue: 'emails', message, poison: 'x' }] }, 'inputs[0].poison is "x": write a function'],
    [{ ...valid, deadLetters: { topic: 'a', queue: 'b' } }, "deadLetters is {\"topic\":\"a\",\"queue\":\"b\"}: write { topic: 'orders.dlq' } (Kafka) or { queue: 'emails.dlq' } (RabbitMQ)"],
    [{ ...valid, deadLetters: { queue: 'emails.dlq' } }, "deadLetters names a queue but the inputs are Kafka's"],
    [{ ...valid, inputs: [{ queue: 'emails', message }], outputs: [{ topic: 'out' }] }, "outputs are read from Kafka topics, but the inputs are RabbitMQ's"],
    [{ ...valid, start: { command: 'node', restartOnExit: 'yes' } }, 'start.restartOnExit is "yes": write true or false'],
  ])('names the field, what it is and what to write: %#', (config, expected) => {
    const problems = serviceConfigProblems(config);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('lists every problem in one error, with a hint to the docs', () => {
    let err: unknown;
    try {
      validateServiceConfig({ name: 'x' }, 'service config chaos.config.js');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toMatch(/^service config chaos\.config\.js: 3 problems:\n {2}- version is missing/);
    expect(e.message).toContain('- start is missing');
    expect(e.message).toContain('- inputs is missing');
    expect(e.hint).toContain('docs/chaos.md');
  });

  it('refuses a module that exports nothing usable', () => {
    expect(serviceConfigProblems(undefined)).toEqual(['the config is missing, expected an object: export default { name, version, start, inputs }']);
  });
});

describe('loading a service config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'service-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a CommonJS module and keeps its folder as the base directory', async () => {
    const file = join(dir, 'chaos.config.cjs');
    writeFileSync(file, "module.exports = { name: 'svc', version: '1', start: { command: 'node' }, inputs: [{ topic: 't', message: (id) => ({ value: id }) }] };\n");
    const c = await loadServiceConfig(file);
    expect(c.name).toBe('svc');
    expect(c.baseDir).toBe(dir);
  });

  it('loads several services from one module (an array or { services }), picks one by name, and refuses to guess', async () => {
    const file = join(dir, 'suite.config.cjs');
    const svc = (name: string) => `{ name: '${name}', version: '1', start: { command: 'node' }, inputs: [{ queue: 'q-${name}', message: (id) => ({ value: id }) }] }`;
    writeFileSync(file, `module.exports = [${svc('a')}, ${svc('b')}];\n`);
    expect((await loadServiceConfigs(file)).map((c) => [c.name, c.system])).toEqual([['a', 'rabbitmq'], ['b', 'rabbitmq']]);
    expect((await loadServiceConfig(file, 'b')).name).toBe('b');
    await expect(loadServiceConfig(file)).rejects.toThrow(`service config ${file} describes 2 services (a, b): say which`);
    await expect(loadServiceConfig(file, 'c')).rejects.toThrow(`service config ${file} has no service named "c"`);
    const wrapped = join(dir, 'wrapped.config.cjs');
    writeFileSync(wrapped, `module.exports = { services: [${svc('a')}, ${svc('a')}] };\n`);
    await expect(loadServiceConfigs(wrapped)).rejects.toThrow(`service config ${wrapped} names two services "a"`);
  });

  it('says when the file is missing', async () => {
    await expect(loadServiceConfig(join(dir, 'nope.js'))).rejects.toThrow(`service config ${join(dir, 'nope.js')}: no such file`);
  });

  it('reports a module that throws while loading', async () => {
    const file = join(dir, 'broken.config.cjs');
    writeFileSync(file, "throw new Error('boom at load');\n");
    await expect(loadServiceConfig(file)).rejects.toThrow(/could not be loaded: boom at load/);
  });

  it('validates what the module exports', async () => {
    const file = join(dir, 'invalid.config.cjs');
    writeFileSync(file, "module.exports = { name: 'svc', version: '1', start: { command: 'node' }, inputs: [{ topic: 't' }] };\n");
    await expect(loadServiceConfig(file)).rejects.toThrow('inputs[0].message is missing');
  });
});
