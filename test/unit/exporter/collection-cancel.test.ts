import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { CollectionTimeoutError, createExporter } from '../../../exporter/exporter';
import { createKafkaCollector } from '../../../exporter/kafka/collector';
import type { ClusterAccess } from '../../../exporter/kafka/cluster-access';
import type { KafkaConnection } from '../../../exporter/kafka/read-cluster';
import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';
import type { ManagementClient } from '../../../exporter/rabbitmq/management';
import type { Collector, CountSample, KafkaSnapshot } from '../../../exporter/types';

/**
 * A collection the exporter gave up on (its deadline passed) keeps running; when it ends, it
 * must have changed nothing later collections build on. Each collector here reads a dead-letter
 * queue's count (50), is held, is abandoned, a later collection reads 100 and completes, then the
 * held one is let go: the inflow must stay exact (100), not count 50 twice (150).
 */

/** A promise the test settles by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const inflowOf = (samples: readonly CountSample[], dlq: string): number | undefined => samples.find((c) => c.labels['dlq'] === dlq)?.value;

describe('an abandoned Kafka collection changes no state', () => {
  /** One dead-letter topic whose log end is `state.high`; record fetches wait for `state.hold` when set. */
  function fakeConnection(state: { high: number; hold: Promise<void> | undefined }): KafkaConnection {
    const admin = {
      listGroups: async () => ({ groups: [] }),
      describeGroups: async () => ({ groups: [] }),
      fetchOffsets: async () => [],
      listTopics: async () => ['orders.dlq'],
      disconnect: async () => undefined,
    } as unknown as Admin;
    const cluster: ClusterAccess = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      partitionsOf: async (topics) => new Map(topics.map((t) => [t, [0]])),
      listOffsets: async (topics, which) => new Map(topics.map((t) => [t.topic, new Map([[0, which === 'high' ? state.high : 0]])])),
      fetchRecords: async (requests) => {
        const hold = state.hold;
        if (hold) await hold;
        return new Map(requests.map((r) => [`${r.topic}\u0000${r.partition}`, { offset: r.offset, timestampMs: Date.now() }]));
      },
    };
    return { admin, cluster };
  }

  it('a late collection neither writes its memory back nor returns a result', async () => {
    const state: { high: number; hold: Promise<void> | undefined } = { high: 0, hold: undefined };
    let opened = 0;
    const collector = createKafkaCollector({
      config: { brokers: ['unused:9092'] },
      createKafka: () => ({}) as Kafka,
      openConnection: async () => {
        opened++;
        return fakeConnection(state);
      },
    });
    expect(inflowOf((await collector.collect()).dlqInflow, 'orders.dlq')).toBe(0);

    state.high = 50;
    const held = gate();
    state.hold = held.wait;
    const abandon = new AbortController();
    const late = collector.collect(abandon.signal);
    await new Promise((r) => setImmediate(r));
    const reason = new CollectionTimeoutError('collection took longer than 1000 ms');
    abandon.abort(reason);
    await collector.close();

    state.hold = undefined;
    state.high = 100;
    expect(inflowOf((await collector.collect()).dlqInflow, 'orders.dlq')).toBe(100);

    held.open();
    await expect(late).rejects.toBe(reason);
    expect(inflowOf((await collector.collect()).dlqInflow, 'orders.dlq')).toBe(100);
    // The later collection's connection was not reset by the abandoned one's failure.
    expect(opened).toBe(2);
    await collector.close();
  });

  it('an already aborted signal reads nothing', async () => {
    let opened = 0;
    const collector = createKafkaCollector({
      config: { brokers: ['unused:9092'] },
      createKafka: () => ({}) as Kafka,
      openConnection: async () => {
        opened++;
        return fakeConnection({ high: 0, hold: undefined });
      },
    });
    const abandon = new AbortController();
    abandon.abort(new Error('gone'));
    await expect(collector.collect(abandon.signal)).rejects.toThrow('gone');
    expect(opened).toBe(0);
  });

  it('a collection abandoned while connecting closes what it opened instead of installing it', async () => {
    const connecting = gate();
    const disconnects: string[] = [];
    let n = 0;
    const collector = createKafkaCollector({
      config: { brokers: ['unused:9092'] },
      createKafka: () => ({}) as Kafka,
      openConnection: async () => {
        const id = `c${++n}`;
        if (id === 'c1') await connecting.wait;
        const c = fakeConnection({ high: 0, hold: undefined });
        return { ...c, admin: { ...c.admin, disconnect: async () => void disconnects.push(id) } as unknown as Admin };
      },
    });
    const abandon = new AbortController();
    const late = collector.collect(abandon.signal);
    abandon.abort(new Error('deadline'));
    await collector.collect();
    connecting.open();
    await expect(late).rejects.toThrow('deadline');
    expect(disconnects).toEqual(['c1']);
    await collector.close();
    expect(disconnects).toEqual(['c1', 'c2']);
  });
});

describe('an abandoned RabbitMQ collection changes no state', () => {
  it('a late management answer is not written to the memory', async () => {
    const state: { messages: number; hold: Promise<void> | undefined } = { messages: 0, hold: undefined };
    const management: ManagementClient = {
      queues: async () => {
        const messages = state.messages;
        const hold = state.hold;
        if (hold) await hold;
        return [{ name: 'orders.dlq', vhost: '/', messages, messages_ready: messages, messages_unacknowledged: 0, consumers: 0 }];
      },
      bindings: async () => [],
      exchanges: async () => [],
      statisticsDisabled: async () => false,
    };
    const collector = createRabbitMqCollector({ config: { managementUrl: 'http://unused:15672' }, management });
    expect(inflowOf((await collector.collect()).dlqInflow, 'orders.dlq')).toBe(0);

    state.messages = 50;
    const held = gate();
    state.hold = held.wait;
    const abandon = new AbortController();
    const late = collector.collect(abandon.signal);
    await new Promise((r) => setImmediate(r));
    abandon.abort(new CollectionTimeoutError('collection took longer than 1000 ms'));

    state.hold = undefined;
    state.messages = 100;
    expect(inflowOf((await collector.collect()).dlqInflow, 'orders.dlq')).toBe(100);
    held.open();
    await expect(late).rejects.toBeInstanceOf(CollectionTimeoutError);
    expect(inflowOf((await collector.collect()).dlqInflow, 'orders.dlq')).toBe(100);
    await collector.close();
  });
});

describe('the exporter loop abandons a collection at its deadline', () => {
  it('aborts the signal it gave the collection, with the deadline error as the reason', async () => {
    const signals: AbortSignal[] = [];
    const collector: Collector<KafkaSnapshot> = {
      target: 'kafka',
      collect: (signal) => {
        if (signal) signals.push(signal);
        return new Promise<KafkaSnapshot>(() => undefined);
      },
      close: async () => undefined,
    };
    const exporter = createExporter({ config: { collectTimeoutSeconds: 1 }, registry: new Registry(), collectors: { kafka: collector } });
    await exporter.collectNow();
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(CollectionTimeoutError);
    expect(exporter.health()[0]).toMatchObject({ up: false, errors: 1 });
    await exporter.stop();
  });

  it('a collection that finishes in time gets a signal that is never aborted', async () => {
    const signals: AbortSignal[] = [];
    const snapshot: KafkaSnapshot = { atMs: 1, groups: [], partitions: [], watermarks: [], dlqs: [], clamps: [], dlqInflow: [], warnings: [] };
    const collector: Collector<KafkaSnapshot> = {
      target: 'kafka',
      collect: async (signal) => {
        if (signal) signals.push(signal);
        return snapshot;
      },
      close: async () => undefined,
    };
    const exporter = createExporter({ config: { collectTimeoutSeconds: 1 }, registry: new Registry(), collectors: { kafka: collector } });
    await exporter.collectNow();
    await new Promise((r) => setTimeout(r, 1_100));
    expect(signals[0]?.aborted).toBe(false);
    await exporter.stop();
  });
});
