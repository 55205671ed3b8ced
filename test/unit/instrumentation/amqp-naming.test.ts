import { EventEmitter } from 'node:events';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { instrumentAmqp } from '../../../instrumentation/index';
import { ATTR, DEFAULT_MAX_SERIES_PER_METRIC, LABEL_OVERFLOW_VALUE, METRIC, rabbitMqConsumeDestination, rabbitMqPublishDestination } from '../../../semconv/index';
import { metricValue } from './metric-values';
import { useOtel } from './otel-fixture';

type PublishOptions = { headers?: Record<string, unknown>; replyTo?: string; correlationId?: string };

interface Delivery {
  exchange?: string;
  routingKey?: string;
  replyTo?: string;
  tag: number;
}

/** An amqplib-shaped channel: publish records; deliver() drives consume handlers; assertQueue names '' queues like the broker. */
class FakeChannel extends EventEmitter {
  published: Array<{ exchange: string; routingKey: string; options: PublishOptions }> = [];
  handlers = new Map<string, (msg: ConsumeMessage | null) => unknown>();
  private generated = 0;
  publish(exchange: string, routingKey: string, _content: Buffer, options: PublishOptions): boolean {
    this.published.push({ exchange, routingKey, options });
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options: PublishOptions): boolean {
    return this.publish('', queue, content, options);
  }
  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => unknown, _options?: unknown): Promise<{ consumerTag: string }> {
    this.handlers.set(queue, onMessage);
    return { consumerTag: 'ctag' };
  }
  async cancel(): Promise<void> {}
  async get(queue: string): Promise<unknown> {
    return { content: Buffer.from('x'), fields: { deliveryTag: 99, redelivered: false, exchange: '', routingKey: queue, messageCount: 0 }, properties: { headers: {} } };
  }
  async assertQueue(queue: string, _options?: unknown): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    return { queue: queue === '' ? `amq.gen-${++this.generated}` : queue, messageCount: 0, consumerCount: 0 };
  }
  ack(..._args: unknown[]): void {}
  nack(..._args: unknown[]): void {}
  reject(..._args: unknown[]): void {}
  ackAll(..._args: unknown[]): void {}
  nackAll(..._args: unknown[]): void {}
  deliver(queue: string, d: Delivery): unknown {
    const msg = {
      content: Buffer.from('x'),
      fields: { deliveryTag: d.tag, redelivered: false, exchange: d.exchange ?? '', routingKey: d.routingKey ?? queue, consumerTag: 'ctag' },
      properties: { headers: {}, replyTo: d.replyTo },
    } as unknown as ConsumeMessage;
    return this.handlers.get(queue)!(msg);
  }
}

const otel = useOtel();
let registry: Registry;
beforeEach(() => {
  registry = new Registry();
});

describe('RabbitMQ destination names (semconv v1.44)', () => {
  it.each([
    ['', 'orders', 'orders'],
    ['ex', 'order.created', 'ex:order.created'],
    ['ex', '', 'ex'],
  ])('publish to exchange %j with routing key %j: messaging.destination.name %j', (exchange, routingKey, name) => {
    expect(rabbitMqPublishDestination(exchange, routingKey)).toBe(name);
  });

  it.each([
    ['', 'orders', 'orders', 'orders'],
    ['ex', 'order.created', 'q', 'ex:order.created:q'],
    ['ex', 'q', 'q', 'ex:q'],
    ['', 'rk', 'q', 'rk:q'],
    ['ex', '', 'q', 'ex:q'],
  ])('a delivery from exchange %j, routing key %j, queue %j: %j', (exchange, routingKey, queue, name) => {
    expect(rabbitMqConsumeDestination(exchange, routingKey, queue)).toBe(name);
  });

  it('spans and labels: publish on the default exchange is named after the queue, deliveries after their queue, get apart from consume', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    ch.sendToQueue('orders', Buffer.from('x'), {});
    ch.publish('ex', 'order.created', Buffer.from('x'), {});
    await ch.consume('orders', () => undefined);
    ch.deliver('orders', { tag: 1 });
    ch.deliver('orders', { tag: 2, exchange: 'ex', routingKey: 'order.created' });
    ch.ackAll();
    const got = await ch.get('orders');
    ch.ack(got as never);
    expect(otel.spans('publish orders')[0]!.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBe('orders');
    expect(otel.spans('publish ex')[0]!.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBe('ex:order.created');
    expect(otel.spans('process orders').map((s) => s.attributes[ATTR.MESSAGING_DESTINATION_NAME]).sort()).toEqual(['ex:order.created:orders', 'orders']);
    expect(otel.spans('receive orders')[0]!.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBe('orders');
    const consumed = (operation: string) => metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 'orders', messaging_operation_name: operation });
    expect(await consumed('process')).toBe(2);
    expect(await consumed('receive')).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 'orders', messaging_operation_name: 'receive' })).toBe(1);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'orders', messaging_operation_name: 'publish' })).toBe(1);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'ex' })).toBe(1);
  });
});

describe('temporary and anonymous destinations get fixed span names and labels', () => {
  it('direct reply-to, server-named and exclusive queues: placeholders in span names and labels, flags on spans, real names in the attribute', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    ch.sendToQueue('amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NQ==', Buffer.from('x'), {});
    const { queue: generated } = await ch.assertQueue('', { exclusive: true });
    await ch.assertQueue('reply-7f3a', { exclusive: true });
    ch.sendToQueue('reply-7f3a', Buffer.from('x'), {});
    await ch.consume(generated, () => undefined);
    await ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: true });
    ch.deliver(generated, { tag: 1 });
    ch.deliver('amq.rabbitmq.reply-to', { tag: 2, routingKey: 'amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NQ==' });
    ch.ackAll();
    const names = otel.spans().map((s) => s.name).sort();
    expect(names).toEqual(['process (anonymous)', 'process (temporary)', 'publish (temporary)', 'publish (temporary)']);
    const reply = otel.spans('publish (temporary)')[0]!;
    expect(reply.attributes[ATTR.MESSAGING_DESTINATION_TEMPORARY]).toBe(true);
    expect(reply.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBe('amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxMjM0NQ==');
    expect(otel.spans('process (anonymous)')[0]!.attributes[ATTR.MESSAGING_DESTINATION_ANONYMOUS]).toBe(true);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: '(temporary)' })).toBe(2);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: '(anonymous)' })).toBe(1);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: '(temporary)' })).toBe(1);
  });

  it('a reply sent to the replyTo of the request being processed is temporary, whatever the queue is called', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    await ch.consume('rpc', async (msg) => {
      await Promise.resolve(); // replies are usually sent after some awaiting
      ch.sendToQueue(msg!.properties.replyTo as string, Buffer.from('answer'), {});
      ch.ack(msg!);
    });
    await ch.deliver('rpc', { tag: 1, replyTo: 'client-42.replies' });
    ch.sendToQueue('client-42.replies', Buffer.from('not a reply'), {}); // outside the request: a plain queue
    expect(otel.spans('publish (temporary)')).toHaveLength(1);
    expect(otel.spans('publish client-42.replies')).toHaveLength(1);
  });
});

/** Distinct label sets of every metric (histogram buckets folded). */
async function seriesPerMetric(r: Registry): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const metric of await r.getMetricsAsJSON()) {
    const series = new Set<string>();
    for (const v of metric.values as Array<{ labels: Record<string, unknown> }>) {
      const { le: _le, ...labels } = v.labels;
      series.add(JSON.stringify(Object.entries(labels).sort()));
    }
    out.set(metric.name, series);
  }
  return out;
}

describe('cardinality: RPC reply queues', () => {
  it('10,000 distinct reply queues, replied to and consumed from, stay within every metric\'s cap; real destinations keep their names', async () => {
    const spanNames = new Set<string>();
    const recordNames: SpanProcessor = { onStart: () => undefined, onEnd: (s: ReadableSpan) => void spanNames.add(s.name), forceFlush: async () => undefined, shutdown: async () => undefined };
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [recordNames] });
    const client = instrumentAmqp(new FakeChannel(), { registry, tracerProvider });
    const server = instrumentAmqp(new FakeChannel(), { registry, tracerProvider });
    await server.consume('rpc', (msg) => {
      server.sendToQueue(msg!.properties.replyTo as string, Buffer.from('answer'), { correlationId: 'c' });
      server.ack(msg!);
    });
    const calls = 10_000;
    for (let i = 0; i < calls; i++) {
      // Three reply styles, as RPC clients write them: server-named, direct reply-to, named exclusive.
      const style = i % 3;
      const replyQueue = style === 0 ? (await client.assertQueue('', { exclusive: true })).queue : style === 1 ? `amq.rabbitmq.reply-to.${i}` : (await client.assertQueue(`reply-${i}`, { exclusive: true })).queue;
      client.sendToQueue('rpc', Buffer.from('question'), { replyTo: replyQueue });
      server.deliver('rpc', { tag: i + 1, replyTo: replyQueue });
      await client.consume(replyQueue, (msg) => client.ack(msg!));
      client.deliver(replyQueue, { tag: i + 1 });
    }
    const series = await seriesPerMetric(registry);
    // Within the cap is not enough (overflow is within the cap): a handful of destinations x
    // outcomes per metric, not one per reply queue, and nothing collapsed into _overflow.
    const crowded = [...series].filter(([, set]) => set.size > 12 || set.size > DEFAULT_MAX_SERIES_PER_METRIC).map(([name, set]) => `${name}: ${set.size}`);
    expect(crowded).toEqual([]);
    const overflowed = [...series].filter(([, set]) => [...set].some((s) => s.includes(LABEL_OVERFLOW_VALUE))).map(([name]) => name);
    expect(overflowed).toEqual([]);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 'rpc' })).toBe(calls);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'rpc' })).toBe(calls);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    expect([...spanNames].sort()).toEqual(['process (anonymous)', 'process (temporary)', 'process rpc', 'publish (anonymous)', 'publish (temporary)', 'publish rpc']);
  });
});
