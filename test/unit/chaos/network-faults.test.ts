import { Fault } from '../../../chaos/faults';
import type { FaultContext } from '../../../chaos/types';
import { ConfigError } from '../../../core/errors';
import type { ProxyFaults, StartedEnvironment } from '../../../environment/types';

/**
 * The bandwidth and reset-peer faults over plain objects: which toxic each puts on which proxy
 * (every Kafka node's, or RabbitMQ's), what healing removes, and the bad arguments they refuse.
 */

type Call = [proxy: string, method: string, ...args: unknown[]];

function fakeProxy(name: string, calls: Call[]): ProxyFaults {
  const rec =
    (method: string) =>
    async (...args: unknown[]): Promise<void> =>
      void calls.push([name, method, ...args]);
  return { name, host: '127.0.0.1', port: 1, upstream: 'x', latency: rec('latency'), bandwidth: rec('bandwidth'), timeout: rec('timeout'), resetPeer: rec('resetPeer'), down: rec('down'), up: rec('up'), clear: rec('clear') };
}

function context(options: { kafkaNodes?: number; rabbitmq?: boolean; toxiproxy?: boolean } = {}) {
  const calls: Call[] = [];
  const toxiproxy = options.toxiproxy ?? true;
  const nodes = Array.from({ length: options.kafkaNodes ?? 0 }, (_, i) => ({ name: `kafka-${i + 1}`, proxy: toxiproxy ? fakeProxy(`kafka-${i + 1}`, calls) : undefined }));
  const env = {
    ...(nodes.length > 0 ? { kafka: { nodes } } : {}),
    ...(options.rabbitmq ? { rabbitmq: { proxy: toxiproxy ? fakeProxy('rabbitmq', calls) : undefined } } : {}),
  } as unknown as StartedEnvironment;
  const progress: string[] = [];
  const ctx: FaultContext = { env, destination: 't', progress: (m: string) => void progress.push(m), sendPoison: () => Promise.reject(new Error('not used')) };
  return { ctx, calls, progress };
}

describe('Fault.bandwidth', () => {
  it('limits every Kafka node proxy both ways, and healing clears each', async () => {
    const { ctx, calls, progress } = context({ kafkaNodes: 3 });
    const f = Fault.bandwidth(4);
    expect({ name: f.name, system: f.system, needs: f.needs }).toEqual({ name: 'kafka-bandwidth-4kbps', system: 'kafka', needs: { kafkaNodes: 1, toxiproxy: true } });
    await f.inject(ctx);
    expect(calls).toEqual([1, 2, 3].map((n) => [`kafka-${n}`, 'bandwidth', 4, { direction: 'both' }]));
    await f.heal(ctx);
    expect(calls.slice(3)).toEqual([1, 2, 3].map((n) => [`kafka-${n}`, 'clear']));
    expect(progress).toEqual(['fault kafka-bandwidth-4kbps: 4 KB/s each way per connection between clients and kafka', 'fault kafka-bandwidth-4kbps: network restored']);
  });

  it('acts on the RabbitMQ proxy for system rabbitmq', async () => {
    const { ctx, calls } = context({ rabbitmq: true });
    const f = Fault.bandwidth(16, { system: 'rabbitmq' });
    expect({ name: f.name, system: f.system, needs: f.needs }).toEqual({ name: 'rabbitmq-bandwidth-16kbps', system: 'rabbitmq', needs: { rabbitmq: true, toxiproxy: true } });
    await f.inject(ctx);
    expect(calls).toEqual([['rabbitmq', 'bandwidth', 16, { direction: 'both' }]]);
  });

  it.each([0, -4, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %p KB/s', (kb) => {
    expect(() => Fault.bandwidth(kb)).toThrow(ConfigError);
    expect(() => Fault.bandwidth(kb)).toThrow(`Fault.bandwidth needs a positive whole number of KB per second, got ${kb}`);
  });

  it('says Toxiproxy is missing when the environment runs without it', async () => {
    const { ctx, calls } = context({ kafkaNodes: 1, toxiproxy: false });
    await expect(Fault.bandwidth(4).inject(ctx)).rejects.toThrow('network faults need Toxiproxy in front of kafka');
    expect(calls).toEqual([]);
  });
});

describe('Fault.resetPeer', () => {
  it('resets connections at once by default, on every Kafka node proxy, both ways', async () => {
    const { ctx, calls } = context({ kafkaNodes: 1 });
    const f = Fault.resetPeer();
    expect({ name: f.name, system: f.system, needs: f.needs }).toEqual({ name: 'kafka-reset-peer', system: 'kafka', needs: { kafkaNodes: 1, toxiproxy: true } });
    expect(f.description).toBe('connections between clients and kafka reset (TCP RST) as soon as data crosses them');
    await f.inject(ctx);
    await f.heal(ctx);
    expect(calls).toEqual([
      ['kafka-1', 'resetPeer', 0, { direction: 'both' }],
      ['kafka-1', 'clear'],
    ]);
  });

  it('passes afterMs through, for RabbitMQ too', async () => {
    const { ctx, calls } = context({ rabbitmq: true });
    const f = Fault.resetPeer({ system: 'rabbitmq', afterMs: 250 });
    expect(f.name).toBe('rabbitmq-reset-peer');
    expect(f.description).toBe('connections between clients and rabbitmq reset (TCP RST) 250 ms after data first crosses them');
    await f.inject(ctx);
    expect(calls).toEqual([['rabbitmq', 'resetPeer', 250, { direction: 'both' }]]);
  });

  it.each([-1, 0.5, Number.NaN])('refuses afterMs %p', (ms) => {
    expect(() => Fault.resetPeer({ afterMs: ms })).toThrow(`Fault.resetPeer needs afterMs, a whole number of milliseconds ≥ 0, got ${ms}`);
  });
});
