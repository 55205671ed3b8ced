import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { AmqplibInstrumentation, instrumentAmqp } from '../../../instrumentation/index';
import { METRIC } from '../../../semconv/index';
import { metricValue } from './metric-values';
import { useOtel } from './otel-fixture';

type Callback = (err: unknown, ok?: unknown) => void;

/**
 * A channel of amqplib's callback API (amqplib/callback_api), with its arities: methods return
 * the channel and answer through a callback, later (as the broker does).
 */
class CallbackChannel extends EventEmitter {
  published: Array<{ routingKey: string; options: { headers?: Record<string, unknown> } }> = [];
  handlers = new Map<string, (msg: ConsumeMessage | null) => unknown>();
  acked: number[] = [];
  publish(_exchange: string, routingKey: string, _content: Buffer, options: { headers?: Record<string, unknown> }): boolean {
    this.published.push({ routingKey, options });
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options: { headers?: Record<string, unknown> }): boolean {
    return this.publish('', queue, content, options);
  }
  consume(queue: string, onMessage: (msg: ConsumeMessage | null) => unknown, _options: unknown, cb0?: Callback): this {
    this.handlers.set(queue, onMessage);
    setImmediate(() => cb0?.(null, { consumerTag: 'ctag' }));
    return this;
  }
  assertQueue(queue: string, _options: unknown, cb?: Callback): this {
    setImmediate(() => cb?.(null, { queue: queue === '' ? 'amq.gen-cb' : queue, messageCount: 0, consumerCount: 0 }));
    return this;
  }
  get(queue: string, _options: unknown, cb0?: Callback): this {
    setImmediate(() => cb0?.(null, this.message(queue, 7)));
    return this;
  }
  ack(message: ConsumeMessage): this {
    this.acked.push(message.fields.deliveryTag);
    return this;
  }
  nack(): this {
    return this;
  }
  reject(): this {
    return this;
  }
  ackAll(): this {
    return this;
  }
  nackAll(): this {
    return this;
  }
  message(queue: string, tag: number, headers: Record<string, unknown> = {}): ConsumeMessage {
    return { content: Buffer.from('x'), fields: { deliveryTag: tag, redelivered: false, exchange: '', routingKey: queue, consumerTag: 'ctag' }, properties: { headers } } as unknown as ConsumeMessage;
  }
}

/** amqplib's CallbackModel: createChannel returns the channel at once and calls back once it is open. */
class FakeCallbackModel {
  createChannel(options?: unknown, cb?: Callback): CallbackChannel {
    if (cb === undefined && typeof options === 'function') cb = options as Callback;
    const ch = new CallbackChannel();
    setImmediate(() => cb?.(null, ch));
    return ch;
  }
  createConfirmChannel(options?: unknown, cb?: Callback): CallbackChannel {
    return this.createChannel(options, cb);
  }
}

const otel = useOtel();

function opened(model: FakeCallbackModel): Promise<{ returned: unknown; channel: CallbackChannel }> {
  return new Promise((resolve, reject) => {
    const returned = model.createChannel((err: unknown, ch?: unknown) => (err ? reject(err) : resolve({ returned, channel: ch as CallbackChannel })));
  });
}

describe('amqplib callback API (amqplib/callback_api)', () => {
  it('createChannel(cb) keeps its return value (the channel, not a Promise) and calls back with the same, instrumented channel', async () => {
    const registry = new Registry();
    const model = instrumentAmqp(new FakeCallbackModel(), { registry });
    const { returned, channel } = await opened(model);
    expect(returned).toBe(channel);
    expect(returned).not.toBeInstanceOf(Promise);
    channel.sendToQueue('orders', Buffer.from('x'), {});
    expect(typeof channel.published[0]!.options.headers?.['traceparent']).toBe('string');
    expect(otel.spans('publish orders')).toHaveLength(1);
  });

  it('consume, ack, get and assertQueue work through callbacks and return the channel', async () => {
    const registry = new Registry();
    const model = instrumentAmqp(new FakeCallbackModel(), { registry });
    const { channel: ch } = await opened(model);
    const declared = await new Promise<{ queue: string }>((resolve) => expect(ch.assertQueue('', { exclusive: true }, (_e, ok) => resolve(ok as { queue: string }))).toBe(ch));
    expect(declared.queue).toBe('amq.gen-cb');
    await new Promise((resolve) => expect(ch.consume('work', (msg) => ch.ack(msg!), {}, resolve)).toBe(ch));
    ch.handlers.get('work')!(ch.message('work', 1));
    expect(ch.acked).toEqual([1]);
    const got = await new Promise<ConsumeMessage>((resolve) => expect(ch.get('work', {}, (_e, msg) => resolve(msg as ConsumeMessage))).toBe(ch));
    expect(got.fields.deliveryTag).toBe(7);
    ch.ack(got);
    expect(otel.spans('process work').map((s) => s.kind)).toEqual([SpanKind.CONSUMER]);
    expect(otel.spans('receive work').map((s) => s.kind)).toEqual([SpanKind.CLIENT]);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 'work' })).toBe(2);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    // The exclusive queue was learned through the callback: a temporary destination.
    ch.sendToQueue('amq.gen-cb', Buffer.from('reply'), {});
    expect(otel.spans('publish (anonymous)')).toHaveLength(1);
  });

  it('a channel of the callback API handed to instrumentAmqp directly is recognised by its methods', async () => {
    const ch = instrumentAmqp(new CallbackChannel(), { registry: new Registry() });
    const returned = await new Promise((resolve) => {
      const r = ch.get('q', {}, () => resolve(r));
    });
    expect(returned).toBe(ch);
    expect(otel.spans('receive q')).toHaveLength(1);
  });
});

describe('AmqplibInstrumentation and the callback model', () => {
  it('hooks amqplib/lib/callback_model.js next to channel_model.js', () => {
    const a = new AmqplibInstrumentation({ enabled: false });
    expect(a.getModuleDefinitions()[0]!.files.map((f) => f.name)).toEqual(['amqplib/lib/channel_model.js', 'amqplib/lib/callback_model.js']);
  });

  it('patches CallbackModel.prototype: createChannel(cb) keeps its shape, its channels are instrumented, unpatch restores', async () => {
    const original = FakeCallbackModel.prototype.createChannel;
    const instrumentation = new AmqplibInstrumentation({ registry: new Registry(), enabled: false });
    instrumentation.setTracerProvider(otel.provider);
    instrumentation.patch({ CallbackModel: FakeCallbackModel } as never);
    try {
      const { returned, channel } = await opened(new FakeCallbackModel());
      expect(returned).toBe(channel);
      channel.sendToQueue('q', Buffer.from('x'), {});
      expect(otel.spans('publish q')).toHaveLength(1);
    } finally {
      instrumentation.unpatch();
    }
    expect(FakeCallbackModel.prototype.createChannel).toBe(original);
  });

  it('finds CallbackModel in the real amqplib/lib/callback_model.js', () => {
    const callbackModel = require(join(dirname(require.resolve('amqplib')), 'lib', 'callback_model.js')) as { CallbackModel: { prototype: Record<string, unknown> } };
    const original = callbackModel.CallbackModel.prototype['createChannel'];
    const instrumentation = new AmqplibInstrumentation({ registry: new Registry(), enabled: false });
    instrumentation.patch(callbackModel as never);
    expect(callbackModel.CallbackModel.prototype['createChannel']).not.toBe(original);
    instrumentation.unpatch();
    expect(callbackModel.CallbackModel.prototype['createChannel']).toBe(original);
  });
});
