import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@eda-harness/core';
import { loadServiceConfig, serviceConfigProblems, validateServiceConfig } from '../../../chaos/service/config';

const message = (id: string) => ({ value: JSON.stringify({ orderId: id }) });
const valid = { name: 'inventory', version: '1.2.3', start: { command: 'node', args: ['main.js'] }, inputs: [{ topic: 'orders', message }] };

describe('service config validation', () => {
  it('accepts a minimal config and fills in the defaults', () => {
    expect(serviceConfigProblems(valid)).toEqual([]);
    const c = validateServiceConfig(valid, 'chaos.config.js', '/srv');
    expect(c).toMatchObject({ system: 'kafka', outputs: [], effectName: 'effect', orderedPerKey: false, telemetryTimeoutMs: 15_000, baseDir: '/srv' });
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
    [{ ...valid, system: 'rabbitmq' }, "system is \"rabbitmq\": only 'kafka' inputs are driven so far"],
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
