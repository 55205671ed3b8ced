import { EventEmitter } from 'node:events';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Channel, ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { amqpHandle, instrumentAmqp, uninstrumentAmqp } from '../../../instrumentation/index';
import { ATTR, HEADER, METRIC } from '../../../semconv/index';
import { metricValue } from './metric-values';
import { useOtel } from './otel-fixture';

/** An amqplib-shaped channel: publish records what "the broker" got; deliver() drives consume handlers. */
class FakeChannel extends EventEmitter {
  published: Array<{ exchange: string; routingKey: string; options: { headers?: Record<string, unknown> } }> = [];
  handlers = new Map<string, (msg: ConsumeMessage | null) => unknown>();
  confirms: Array<(err: unknown, ok: unknown) => void> = [];
  publish(exchange: string, routingKey: string, _content: Buffer, options: { headers?: Record<string, unknown> }, cb?: (err: unknown, ok: unknown) => void): boolean {
    this.published.push({ exchange, routingKey, options });
    if (cb) this.confirms.push(cb);
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options: { headers?: Record<string, unknown> }, cb?: (err: unknown, ok: unknown) => void): boolean {
    return this.publish('', queue, content, options, cb);
  }
  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => unknown): Promise<{ consumerTag: string }> {
    this.handlers.set(queue, onMessage);
    return { consumerTag: 'ctag' };
  }
  async get(): Promise<false> {
    return false;
  }
  async assertQueue(queue: string, _options?: unknown): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  ack(..._args: unknown[]): void {}
  nack(..._args: unknown[]): void {}
  reject(..._args: unknown[]): void {}
  ackAll(..._args: unknown[]): void {}
  nackAll(..._args: unknown[]): void {}
  deliver(queue: string, tag: number, headers: Record<string, unknown>, redelivered = false): unknown {
    const msg = { content: Buffer.from('x'), fields: { deliveryTag: tag, redelivered, exchange: '', routingKey: queue, consumerTag: 'ctag' }, properties: { headers } } as unknown as ConsumeMessage;
    return this.handlers.get(queue)!(msg);
  }
}

class FakeConfirmChannel extends FakeChannel {
  async waitForConfirms(): Promise<void> {}
}

const otel = useOtel();
let registry: Registry;
beforeEach(() => {
  registry = new Registry();
});

describe('amqplib wrappers (span shapes with a fake channel)', () => {
  it('publishes a copy of the options with trace headers, never touching the caller\'s', () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    const options = Object.freeze({ headers: Object.freeze({ tenant: 'a' }), messageId: 'm1' });
    ch.sendToQueue('orders', Buffer.from('x'), options as never);
    expect(options.headers).toEqual({ tenant: 'a' });
    const sent = ch.published[0]!;
    expect(sent.options).not.toBe(options);
    expect(sent.options.headers?.['tenant']).toBe('a');
    expect(typeof sent.options.headers?.['traceparent']).toBe('string');
    expect(sent.options.headers?.[HEADER.PRODUCED_AT]).toMatch(/^\d+$/);
    const span = otel.spans('publish orders')[0]!;
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBe('orders'); // semconv v1.44: {exchange}:{routing key}, the empty default exchange omitted
    expect(otel.spans()).toHaveLength(1); // sendToQueue → publish: one span, not two
  });

  it('on a confirm channel the span stays open until the broker confirms, and a nack is an error', () => {
    const ch = instrumentAmqp(new FakeConfirmChannel(), { registry });
    const userCallback = jest.fn();
    ch.publish('ex', 'rk', Buffer.from('x'), {}, userCallback);
    expect(otel.spans()).toHaveLength(0);
    const nackError = new Error('message nacked');
    ch.confirms[0]!(nackError, undefined);
    expect(userCallback).toHaveBeenCalledWith(nackError, undefined);
    const span = otel.spans('publish ex')[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes[ATTR.ERROR_TYPE]).toBe('nacked');
  });

  it('consume: the span ends at settle, nack(requeue=false) on a queue with a learned DLX counts a DLQ event', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    await ch.assertQueue('work', { deadLetterExchange: 'work.dlx' });
    await ch.consume('work', () => undefined);
    ch.deliver('work', 1, {});
    ch.deliver('work', 2, {}, true);
    expect(otel.spans()).toHaveLength(0);
    ch.nack({ fields: { deliveryTag: 1 } } as never, false, false);
    ch.nack({ fields: { deliveryTag: 2 } } as never); // default requeue=true: not dead-lettered
    const spans = otel.spans('process work');
    expect(spans).toHaveLength(2);
    expect(spans.map((s) => s.attributes[ATTR.EDA_REQUEUE]).sort()).toEqual([false, true]);
    expect(await metricValue(registry, METRIC.DLQ_MESSAGES.name, { source: 'work', dlq: 'work.dlx', reason: 'rejected' })).toBe(1);
    expect(await metricValue(registry, METRIC.REDELIVERIES.name)).toBe(1);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
  });

  it('ack with allUpTo settles every earlier delivery; closing the channel ends what is left', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    await ch.consume('q', () => undefined);
    for (const tag of [1, 2, 3, 4]) ch.deliver('q', tag, {});
    ch.ack({ fields: { deliveryTag: 3 } } as never, true);
    expect(otel.spans()).toHaveLength(3);
    ch.emit('close');
    const last = otel.spans().find((s) => s.attributes[ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG] === 4)!;
    expect(last.attributes[ATTR.ERROR_TYPE]).toBe('channel_closed');
  });

  it('parents the process span on the producer even if the client\'s internals carry another active span; link mode starts a new trace', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry });
    ch.sendToQueue('q', Buffer.from('x'), {});
    const headers = ch.published[0]!.options.headers!;
    const publish = otel.spans('publish q')[0]!;
    await ch.consume('q', () => undefined);
    // As if connect() had been called inside a start-up span: deliveries would inherit it.
    trace.getTracer('t').startActiveSpan('startup', (startup) => {
      ch.deliver('q', 1, headers);
      startup.end();
    });
    ch.ackAll();
    const processSpan = otel.spans('process q')[0]!;
    expect(processSpan.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(processSpan.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);

    const linkOnly = instrumentAmqp(new FakeChannel(), { registry, processContext: 'link' });
    await linkOnly.consume('q', () => undefined);
    linkOnly.deliver('q', 1, headers);
    linkOnly.ackAll();
    const linked = otel.spans('process q')[1]!;
    expect(linked.spanContext().traceId).not.toBe(publish.spanContext().traceId);
    expect(linked.parentSpanContext).toBeUndefined();
    expect(linked.links[0]?.context.spanId).toBe(publish.spanContext().spanId);
  });

  it('is idempotent and reversible', () => {
    const raw = new FakeChannel();
    const originalPublish = raw.publish;
    const handle = amqpHandle(raw, { registry });
    expect(amqpHandle(raw, { registry })).toBe(handle);
    raw.sendToQueue('q', Buffer.from('x'), {});
    expect(otel.spans()).toHaveLength(1);
    uninstrumentAmqp(raw);
    expect(raw.publish).toBe(originalPublish);
    expect(Object.prototype.hasOwnProperty.call(raw, 'publish')).toBe(false);
    expect(raw.listenerCount('close')).toBe(0);
    raw.sendToQueue('q', Buffer.from('x'), {});
    expect(otel.spans()).toHaveLength(1);
  });

  it('instruments channels created by a ChannelModel', async () => {
    const model = { createChannel: async () => new FakeChannel() as unknown as Channel, createConfirmChannel: async () => new FakeConfirmChannel() as unknown as Channel };
    instrumentAmqp(model, { registry });
    const ch = (await model.createChannel()) as unknown as FakeChannel;
    ch.sendToQueue('q', Buffer.from('x'), {});
    expect(otel.spans('publish q')).toHaveLength(1);
  });

  it('a throwing publish hook is logged, never thrown into publish', () => {
    const warnings: string[] = [];
    const ch = instrumentAmqp(new FakeChannel(), {
      registry,
      logger: { warn: (m) => warnings.push(m) },
      publishHook: () => {
        throw new Error('hook bug');
      },
    });
    expect(ch.sendToQueue('q', Buffer.from('x'), {})).toBe(true);
    expect(ch.published).toHaveLength(1);
    expect(warnings.join()).toContain('amqp.publishHook');
  });
});
