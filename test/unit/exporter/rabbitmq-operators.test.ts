import { createNameFilter } from '../../../exporter/name-filter';
import { amqpVhost } from '../../../exporter/rabbitmq/collector';
import { deadLetterTopology, routes, topicMatches } from '../../../exporter/rabbitmq/dead-letter-topology';
import type { ManagementBinding, ManagementExchange, ManagementQueue } from '../../../exporter/rabbitmq/management';
import { renderRabbitMqSamples } from '../../../exporter/rabbitmq/render';
import { amqpSnapshot, EMPTY_RABBITMQ_MEMORY, managementSnapshot } from '../../../exporter/rabbitmq/snapshot';
import type { ManagementAnswers, RabbitMqSelection } from '../../../exporter/rabbitmq/snapshot';
import type { RabbitMqCollection } from '../../../exporter/rabbitmq/types';
import { METRIC } from '../../../semconv/index';

/**
 * RabbitMQ as operators run it, over plain management answers: vhosts, retry loops through a
 * dead-letter exchange, a DLQ deny list, exchange types, cumulative counters and the degraded mark.
 */

const selection: RabbitMqSelection = { queues: createNameFilter({}), dlqPatterns: ['*.dlq'] };
const q = (name: string, fields: Partial<ManagementQueue> = {}, vhost = '/'): ManagementQueue => ({ name, vhost, ...fields });
const b = (source: string, destination: string, routing_key: string, vhost = '/', destination_type = 'queue'): ManagementBinding => ({ source, vhost, destination, destination_type, routing_key });
const x = (name: string, type: string, vhost = '/'): ManagementExchange => ({ name, vhost, type });

function snapshot(answers: Omit<ManagementAnswers, 'atMs'>, sel: RabbitMqSelection = selection): RabbitMqCollection {
  return managementSnapshot({ ...answers, atMs: 1_000 }, EMPTY_RABBITMQ_MEMORY, sel).snapshot;
}

describe('vhosts', () => {
  it('two queues of one name in two vhosts are two series, each with its own depth', () => {
    const s = snapshot({ queues: [q('orders', { messages_ready: 3 }, 'eu'), q('orders', { messages_ready: 5 }, 'us')], bindings: [] });
    const depth = renderRabbitMqSamples(s).filter((m) => m.key === 'RABBITMQ_QUEUE_MESSAGES' && m.labels['state'] === 'ready');
    expect(depth).toEqual([
      { key: 'RABBITMQ_QUEUE_MESSAGES', labels: { vhost: 'eu', queue: 'orders', state: 'ready' }, value: 3 },
      { key: 'RABBITMQ_QUEUE_MESSAGES', labels: { vhost: 'us', queue: 'orders', state: 'ready' }, value: 5 },
    ]);
  });

  it('DLQs of one name in two vhosts keep their own depth and inflow', () => {
    const frame = (eu: number, us: number) => ({ queues: [q('x.dlq', { messages: eu }, 'eu'), q('x.dlq', { messages: us }, 'us')], bindings: [] });
    const first = managementSnapshot({ ...frame(1, 2), atMs: 0 }, EMPTY_RABBITMQ_MEMORY, selection);
    const second = managementSnapshot({ ...frame(4, 2), atMs: 1_000 }, first.memory, selection).snapshot;
    const samples = renderRabbitMqSamples(second);
    const of = (key: string, vhost: string) => samples.find((m) => m.key === key && m.labels['vhost'] === vhost)?.value;
    expect([of('DLQ_DEPTH', 'eu'), of('DLQ_DEPTH', 'us')]).toEqual([4, 2]);
    expect([of('DLQ_INFLOW', 'eu'), of('DLQ_INFLOW', 'us')]).toEqual([3, 0]);
  });

  it('every label rendered is declared on its metric', () => {
    const s = snapshot({ queues: [q('x.dlq', { messages: 1, message_stats: { publish: 1, publish_details: { rate: 0.5 } } })], bindings: [] });
    for (const m of renderRabbitMqSamples(s)) expect(METRIC[m.key].labels).toEqual(expect.arrayContaining(Object.keys(m.labels)));
  });
});

describe('the vhost of the AMQP fallback', () => {
  it.each([
    ['amqp://guest:guest@rabbit:5672', '/'],
    ['amqp://rabbit/', '/'],
    ['amqp://rabbit/%2F', '/'],
    ['amqps://rabbit/orders-eu?heartbeat=10', 'orders-eu'],
  ])('%s connects to vhost %p', (url, vhost) => {
    expect(amqpVhost(url)).toBe(vhost);
  });
});

describe('the retry pattern through a dead-letter exchange', () => {
  // orders rejects into the DLX `retry-x` (direct), bound to orders.retry; orders.retry holds the
  // message for a TTL, then dead-letters it through `work-x` back into orders.
  const retryPattern = (names = { work: 'orders', retry: 'orders.retry' }) => ({
    queues: [
      q(names.work, { arguments: { 'x-dead-letter-exchange': 'retry-x' }, messages: 0 }),
      q(names.retry, { arguments: { 'x-dead-letter-exchange': 'work-x', 'x-message-ttl': 5_000 }, messages: 2 }),
    ],
    bindings: [b('retry-x', names.retry, names.work), b('work-x', names.work, names.work)],
    exchanges: [x('retry-x', 'direct'), x('work-x', 'direct')],
  });

  it('is a retry loop, not two DLQs', () => {
    const topology = deadLetterTopology(retryPattern().queues, retryPattern().bindings, retryPattern().exchanges);
    expect(topology.routes).toEqual([]);
    expect([...topology.retryLoopQueues].sort()).toEqual(['/\u0000orders', '/\u0000orders.retry']);
    const s = snapshot(retryPattern());
    expect(s.dlqs).toEqual([]);
    expect(s.dlqInflow).toEqual([]);
  });

  it('marks the waiting queue (in the loop, with a TTL) with the retry info series, not the work queue', () => {
    const topology = deadLetterTopology(retryPattern().queues, retryPattern().bindings, retryPattern().exchanges);
    expect([...topology.retryHoldQueues]).toEqual(['/\u0000orders.retry']);
    const retryInfo = renderRabbitMqSamples(snapshot(retryPattern())).filter((x) => x.key === 'RABBITMQ_RETRY_QUEUE');
    expect(retryInfo).toEqual([{ key: 'RABBITMQ_RETRY_QUEUE', labels: { vhost: '/', queue: 'orders.retry' }, value: 1 }]);
    // A TTL set by policy counts the same; a loop queue with no TTL anywhere is not a waiting queue.
    const answers = retryPattern();
    const byPolicy = { ...answers, queues: [answers.queues[0]!, q('orders.retry', { arguments: { 'x-dead-letter-exchange': 'work-x' }, effective_policy_definition: { 'message-ttl': 5_000 } })] };
    expect([...deadLetterTopology(byPolicy.queues, byPolicy.bindings, byPolicy.exchanges).retryHoldQueues]).toEqual(['/\u0000orders.retry']);
    const noTtl = { ...answers, queues: [answers.queues[0]!, q('orders.retry', { arguments: { 'x-dead-letter-exchange': 'work-x' } })] };
    expect([...deadLetterTopology(noTtl.queues, noTtl.bindings, noTtl.exchanges).retryHoldQueues]).toEqual([]);
  });

  it('a TTL queue that dead-letters into a parking DLQ (no loop) is no waiting queue', () => {
    const queues = [q('delayed', { arguments: { 'x-dead-letter-exchange': 'park-x', 'x-message-ttl': 1000 } }), q('parking')];
    expect([...deadLetterTopology(queues, [b('park-x', 'parking', '')], [x('park-x', 'fanout')]).retryHoldQueues]).toEqual([]);
  });

  it('is recognised whatever the queues are called', () => {
    expect(snapshot(retryPattern({ work: 'billing', retry: 'billing-wait' })).dlqs).toEqual([]);
  });

  it('a real DLQ of the same work queue is still one (the parking lot after the last retry)', () => {
    const answers = retryPattern();
    const withParking = { ...answers, queues: [...answers.queues, q('orders.dlq', { messages: 1 })] };
    expect(snapshot(withParking).dlqs.map((d) => [d.dlq, d.sources])).toEqual([['orders.dlq', ['orders']]]);
  });

  it('a loop through three queues is a loop too', () => {
    const queues = [
      q('a', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'b' } }),
      q('b', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'c' } }),
      q('c', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'a' } }),
    ];
    expect(deadLetterTopology(queues, []).routes).toEqual([]);
  });

  it('a retry queue the topology cannot see as one (a consumer republishes) is kept out by the retry-queue patterns', () => {
    const queues = [q('orders', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'orders.retry' } }), q('orders.retry', { messages: 1 })];
    expect(snapshot({ queues, bindings: [] }).dlqs.map((d) => d.dlq)).toEqual(['orders.retry']);
    expect(snapshot({ queues, bindings: [] }, { ...selection, notDlq: createNameFilter({ allow: ['*.retry'] }) }).dlqs).toEqual([]);
  });

  it('the deny list wins over the topology and the name patterns', () => {
    const queues = [q('src', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'audit' } }), q('audit'), q('keep.dlq')];
    const denied = { ...selection, notDlq: createNameFilter({ allow: ['audit', 'keep.*'] }) };
    expect(snapshot({ queues, bindings: [] }).dlqs.map((d) => d.dlq)).toEqual(['audit', 'keep.dlq']);
    expect(snapshot({ queues, bindings: [] }, denied).dlqs).toEqual([]);
    expect(amqpSnapshot([{ vhost: '/', queue: 'keep.dlq', messageCount: 1, consumerCount: 0 }], EMPTY_RABBITMQ_MEMORY, denied, 0).dlqs).toEqual([]);
  });
});

describe('exchange types', () => {
  const src = q('orders', { arguments: { 'x-dead-letter-exchange': 'dlx' } });

  it('a direct DLX routes by exact key only: an empty binding key takes nothing', () => {
    const r = deadLetterTopology([src, q('p'), q('other')], [b('dlx', 'p', 'orders'), b('dlx', 'other', '')], [x('dlx', 'direct')]).routes;
    expect(r.map((x) => x.dlq)).toEqual(['p']);
  });

  it('a fanout DLX routes to every bound queue, whatever the keys', () => {
    const r = deadLetterTopology([src, q('p'), q('other')], [b('dlx', 'p', 'nothing-alike'), b('dlx', 'other', 'x')], [x('dlx', 'fanout')]).routes;
    expect(r.map((x) => x.dlq).sort()).toEqual(['other', 'p']);
  });

  it('the original routing keys are the keys the source is bound with, not only its name', () => {
    const queues = [q('orders-q', { arguments: { 'x-dead-letter-exchange': 'dlx' } }), q('parking')];
    const bindings = [b('ingress', 'orders-q', 'order.created'), b('dlx', 'parking', 'order.created')];
    expect(deadLetterTopology(queues, bindings, [x('ingress', 'topic'), x('dlx', 'direct')]).routes.map((r) => r.dlq)).toEqual(['parking']);
  });

  it('follows exchange-to-exchange bindings', () => {
    const bindings = [b('dlx', 'inner', 'orders', '/', 'exchange'), b('inner', 'parking', '')];
    expect(deadLetterTopology([src, q('parking')], bindings, [x('dlx', 'direct'), x('inner', 'fanout')]).routes.map((r) => r.dlq)).toEqual(['parking']);
  });

  it.each([
    ['direct', 'a', 'a', true],
    ['direct', '', 'a', false],
    ['fanout', 'x', 'a', true],
    ['headers', '', 'a', true],
    ['topic', 'orders.#', 'orders', true],
    ['topic', '#.dead', 'a.b.dead', true],
    ['topic', 'a.*.c', 'a.b.c', true],
    ['topic', 'a.*.c', 'a.c', false],
  ])('%s exchange, binding %p, key %p → %p', (type, bindingKey, key, expected) => {
    expect(routes(type, bindingKey, key)).toBe(expected);
  });

  it('# matches zero words', () => {
    expect(topicMatches('orders.#', 'orders')).toBe(true);
    expect(topicMatches('orders.#.eu', 'orders.eu')).toBe(true);
  });
});

describe('message counts as counters', () => {
  it('exports the cumulative message_stats as eda_rabbitmq_queue_operation_messages_total and keeps the deprecated rate gauge', () => {
    const stats = { publish: 120, deliver_get: 100, ack: 98, redeliver: 3, publish_details: { rate: 2.5 } };
    const samples = renderRabbitMqSamples(snapshot({ queues: [q('work', { message_stats: stats })], bindings: [] }));
    const totals = Object.fromEntries(samples.filter((m) => m.key === 'RABBITMQ_QUEUE_OPERATIONS').map((m) => [m.labels['messaging_operation_name'], m.value]));
    expect(totals).toEqual({ publish: 120, deliver: 100, ack: 98, redeliver: 3 });
    expect(METRIC.RABBITMQ_QUEUE_OPERATIONS).toMatchObject({ type: 'counter', name: expect.stringMatching(/_total$/) });
    expect(samples.filter((m) => m.key === 'RABBITMQ_QUEUE_MESSAGE_RATE').map((m) => m.value)).toEqual([2.5]);
  });

  it('leaves out a count RabbitMQ did not report (a queue nothing was published to yet), never 0', () => {
    const samples = renderRabbitMqSamples(snapshot({ queues: [q('new')], bindings: [] }));
    expect(samples.filter((m) => m.key === 'RABBITMQ_QUEUE_OPERATIONS')).toEqual([]);
  });
});

describe('which way the numbers were read', () => {
  it('the management API: not degraded', () => {
    const samples = renderRabbitMqSamples(snapshot({ queues: [], bindings: [] }));
    expect(samples.filter((m) => m.key === 'EXPORTER_RABBITMQ_VIA' && m.value === 1).map((m) => m.labels['via'])).toEqual(['management']);
    expect(samples.find((m) => m.key === 'EXPORTER_DEGRADED')?.value).toBe(0);
  });

  it('the AMQP fallback: degraded, not an empty healthy server', () => {
    const samples = renderRabbitMqSamples(amqpSnapshot([], EMPTY_RABBITMQ_MEMORY, selection, 0));
    expect(samples.filter((m) => m.key === 'EXPORTER_RABBITMQ_VIA' && m.value === 1).map((m) => m.labels['via'])).toEqual(['amqp']);
    expect(samples.find((m) => m.key === 'EXPORTER_DEGRADED')).toEqual({ key: 'EXPORTER_DEGRADED', labels: { target: 'rabbitmq' }, value: 1 });
  });
});
