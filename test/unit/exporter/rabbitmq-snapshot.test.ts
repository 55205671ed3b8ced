import { DLQ_SOURCE_UNKNOWN } from '../../../semconv/index';
import { createNameFilter } from '../../../exporter/name-filter';
import { amqpSnapshot, EMPTY_RABBITMQ_MEMORY, managementSnapshot } from '../../../exporter/rabbitmq/snapshot';
import type { ManagementAnswers, RabbitMqMemory, RabbitMqSelection } from '../../../exporter/rabbitmq/snapshot';
import type { ManagementBinding, ManagementQueue } from '../../../exporter/rabbitmq/management';
import type { RabbitMqSnapshot } from '../../../exporter/types';

/** The RabbitMQ numbers over plain management API answers: no broker, no clock. */

const selection: RabbitMqSelection = { queues: createNameFilter({ deny: ['amq.*'] }), dlqPatterns: ['*.dlq'] };
const q = (name: string, fields: Partial<ManagementQueue> = {}): ManagementQueue => ({ name, vhost: '/', ...fields });
const dlx = (exchange: string) => ({ arguments: { 'x-dead-letter-exchange': exchange } });
const b = (source: string, destination: string, routing_key: string): ManagementBinding => ({ source, vhost: '/', destination, destination_type: 'queue', routing_key });

function run(frames: Omit<ManagementAnswers, 'atMs'>[]): { snapshots: RabbitMqSnapshot[]; memory: RabbitMqMemory } {
  let memory = EMPTY_RABBITMQ_MEMORY;
  const snapshots = frames.map((frame, i) => {
    const next = managementSnapshot({ ...frame, atMs: i * 1_000 }, memory, selection);
    memory = next.memory;
    return next.snapshot;
  });
  return { snapshots, memory };
}

const inflowOf = (s: RabbitMqSnapshot, dlq: string, source: string) => s.dlqInflow.find((c) => c.labels['dlq'] === dlq && c.labels['source'] === source)?.value;

describe('RabbitMQ snapshot from the management API', () => {
  it('reports depth, consumers and rates of the selected queues; odd numbers read as 0, odd rates are left out', () => {
    const [s] = run([
      {
        queues: [
          q('work', { messages_ready: 3, messages_unacknowledged: 2, consumers: 1, message_stats: { publish_details: { rate: 1.5 }, ack_details: { rate: -1 }, deliver_get_details: {} } }),
          q('odd', { messages_ready: Number.NaN, consumers: -1 }),
          q('amq.gen-1', { messages_ready: 9 }),
        ],
        bindings: [],
      },
    ]).snapshots;
    expect(s!.queues).toEqual([
      { vhost: '/', queue: 'work', ready: 3, unacked: 2, consumers: 1, rates: { publish: 1.5 }, totals: {} },
      { vhost: '/', queue: 'odd', ready: 0, unacked: 0, consumers: 0, rates: {}, totals: {} },
    ]);
    expect(s!.via).toBe('management');
  });

  it('finds dead-letter queues from the topology (all their sources) and by name (the source in it)', () => {
    const [s] = run([
      {
        queues: [q('orders', dlx('dlx')), q('payments', dlx('dlx')), q('parking', { messages: 4 }), q('refunds.dlq', { messages: 1 }), q('plain')],
        bindings: [b('dlx', 'parking', 'orders'), b('dlx', 'parking', 'payments')],
      },
    ]).snapshots;
    expect(s!.dlqs.map((d) => [d.dlq, d.sources, d.depth])).toEqual([
      ['parking', ['orders', 'payments'], 4],
      ['refunds.dlq', ['refunds'], 1],
    ]);
    // Two sources: inflow cannot be attributed.
    expect(inflowOf(s!, 'parking', DLQ_SOURCE_UNKNOWN)).toBe(0);
    expect(inflowOf(s!, 'refunds.dlq', 'refunds')).toBe(0);
  });

  it('inflow is depth growth plus what was taken out since the last collection, never negative', () => {
    const dlq = (messages: number, ack: number) => ({ queues: [q('x.dlq', { messages, message_stats: { ack } })], bindings: [] });
    const { snapshots } = run([dlq(2, 0), dlq(5, 0), dlq(1, 6), dlq(0, 0), dlq(1, 0)]);
    expect(snapshots.map((s) => inflowOf(s, 'x.dlq', 'x'))).toEqual([0, 3, 5, 5, 6]);
  });

  it('forgets dead-letter queues that are gone, but keeps their counted inflow', () => {
    const { memory } = run([{ queues: [q('x.dlq', { messages: 1 })], bindings: [] }, { queues: [], bindings: [] }]);
    expect(memory.lastDlqCounts.size).toBe(0);
    expect(memory.arrivals.size).toBe(0);
    expect(memory.inflow.size).toBe(1);
  });
});

describe('RabbitMQ snapshot from AMQP passive declares', () => {
  it('has ready messages and consumers, no unacknowledged count, dead letters by name with no age, and the inflow so far', () => {
    const { memory } = run([{ queues: [q('x.dlq', { messages: 1 })], bindings: [] }, { queues: [q('x.dlq', { messages: 3 })], bindings: [] }]);
    const s = amqpSnapshot(
      [
        { vhost: '/', queue: 'work', messageCount: 7, consumerCount: 2 },
        { vhost: '/', queue: 'x.dlq', messageCount: 3, consumerCount: 0 },
      ],
      memory,
      selection,
      5_000,
    );
    expect(s.queues[0]).toEqual({ vhost: '/', queue: 'work', ready: 7, unacked: undefined, consumers: 2, rates: {}, totals: {} });
    expect(s.dlqs).toEqual([{ system: 'rabbitmq', vhost: '/', dlq: 'x.dlq', sources: ['x'], depth: 3, oldestAgeSeconds: undefined }]);
    expect(inflowOf(s, 'x.dlq', 'x')).toBe(2);
    // AMQP cannot list queues: the collection says it is not the whole picture.
    expect(s).toMatchObject({ via: 'amqp', source: 'amqp', degraded: true, atMs: 5_000 });
  });
});
