import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import type { ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { instrumentAmqp } from '../../../instrumentation/index';
import { HEADER } from '../../../semconv/index';
import { useOtel } from './otel-fixture';

/** amqplib's own translation of publish options into method fields and properties (what goes on the wire). */
const Args = require(join(dirname(require.resolve('amqplib')), 'lib', 'api_args.js')) as {
  publish(exchange: string, routingKey: string, options: unknown): Record<string, unknown>;
};

/** What amqplib sends: every field as Args.publish computes it, headers as its encoder lists them (for…in, undefined skipped). */
function wire(fields: Record<string, unknown>, documented: 'keep' | 'drop'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (k !== 'headers') out[k] = v;
  const table: Record<string, unknown> = {};
  const headers = fields['headers'] as Record<string, unknown>;
  for (const key in headers) {
    if (headers[key] === undefined) continue;
    if (documented === 'drop' && DOCUMENTED_HEADERS.has(key.toLowerCase())) continue;
    Object.defineProperty(table, key, { value: headers[key], enumerable: true }); // `__proto__` too
  }
  out['headers'] = table;
  return out;
}

/** The headers the instrumentation documents as its own (README): trace context, baggage, produced-at. */
const DOCUMENTED_HEADERS = new Set(['traceparent', 'tracestate', 'baggage', HEADER.PRODUCED_AT]);

/** A channel whose publish is amqplib's argument handling: it throws where amqplib would, and records what amqplib would send. */
class RecordingChannel extends EventEmitter {
  sent: Array<Record<string, unknown>> = [];
  consumed: Array<{ queue: unknown; options: unknown; rest: unknown[] }> = [];
  handlers: Array<(msg: ConsumeMessage | null) => unknown> = [];
  publish(exchange: string, routingKey: string, _content: Buffer, options?: unknown): boolean {
    this.sent.push(Args.publish(exchange, routingKey, options));
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options?: unknown): boolean {
    return this.publish('', queue, content, options);
  }
  async consume(queue: unknown, onMessage: (msg: ConsumeMessage | null) => unknown, options?: unknown, ...rest: unknown[]): Promise<{ consumerTag: string }> {
    this.consumed.push({ queue, options, rest });
    this.handlers.push(onMessage);
    return { consumerTag: 'ctag' };
  }
  async get(): Promise<false> {
    return false;
  }
  async assertQueue(queue: string): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  ack(): void {}
  nack(): void {}
  reject(): void {}
  ackAll(): void {}
  nackAll(): void {}
}

const otel = useOtel();

/** Publish options the way an application with an options class writes them: accessors over private state. */
class PersistentOptions {
  readonly #id: string;
  constructor(id: string) {
    this.#id = id;
  }
  get persistent(): boolean {
    return true;
  }
  get messageId(): string {
    return this.#id;
  }
  get replyTo(): string {
    return 'replies';
  }
  get expiration(): number {
    return 60_000;
  }
  get headers(): Record<string, unknown> {
    return { tenant: 'acme' };
  }
}

describe('amqplib publish options reach amqplib whole', () => {
  it('options built by a class (getters over private fields) keep persistent, messageId, replyTo and expiration', () => {
    const ch = instrumentAmqp(new RecordingChannel(), { registry: new Registry() });
    ch.sendToQueue('orders', Buffer.from('x'), new PersistentOptions('m-1'));
    const sent = ch.sent[0]!;
    expect(sent).toMatchObject({ deliveryMode: 2, messageId: 'm-1', replyTo: 'replies', expiration: '60000' });
    expect(wire(sent, 'keep')['headers']).toMatchObject({ tenant: 'acme', traceparent: expect.any(String) });
  });

  it('inherited options (Object.create(defaults)) and non-enumerable ones are kept', () => {
    const ch = instrumentAmqp(new RecordingChannel(), { registry: new Registry() });
    const options = Object.create({ persistent: true, contentType: 'application/json' }) as Record<string, unknown>;
    Object.defineProperty(options, 'priority', { value: 7, enumerable: false });
    ch.publish('ex', 'rk', Buffer.from('x'), options);
    expect(ch.sent[0]).toMatchObject({ deliveryMode: 2, contentType: 'application/json', priority: 7 });
  });

  it('a getter that throws on a key amqplib never reads does not make publish throw; one amqplib reads throws as before', () => {
    const ch = instrumentAmqp(new RecordingChannel(), { registry: new Registry(), logger: { warn: () => undefined } });
    const unrelated = { persistent: true, get audit(): never { throw new Error('not for amqplib'); } };
    expect(() => ch.sendToQueue('q', Buffer.from('x'), unrelated)).not.toThrow();
    expect(ch.sent[0]).toMatchObject({ deliveryMode: 2 });
    const read = { get messageId(): never { throw new Error('messageId getter'); } };
    expect(() => ch.sendToQueue('q', Buffer.from('x'), read)).toThrow('messageId getter');
  });
});

// ---- properties: whatever the options, amqplib gets what it would have got, plus the documented headers ----

const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(undefined), fc.constant(null));
const headerValue = fc.oneof(
  scalar,
  fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
  fc.constant(new Map([['k', 'v']])),
);
const headerKey = fc.oneof(fc.constantFrom('traceparent', 'TraceParent', 'tracestate', 'baggage', HEADER.PRODUCED_AT, 'x-tenant', 'constructor', 'toString', '__proto__'), fc.string({ maxLength: 8 }));
const headerEntries = fc.array(fc.tuple(headerKey, headerValue), { maxLength: 6 });

/** How the caller built an object from its entries: each shape is one the wrapper must see through. */
type Shape = 'plain' | 'class-getters' | 'inherited' | 'null-prototype' | 'frozen' | 'non-enumerable';
const shape = fc.constantFrom<Shape>('plain', 'class-getters', 'inherited', 'null-prototype', 'frozen', 'non-enumerable');

function build(entries: ReadonlyArray<readonly [string, unknown]>, how: Shape): object {
  const define = (target: object, key: string, value: unknown, enumerable = true) => Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
  switch (how) {
    case 'plain': {
      const o = {};
      for (const [k, v] of entries) define(o, k, v);
      return o;
    }
    case 'null-prototype': {
      const o = Object.create(null) as object;
      for (const [k, v] of entries) define(o, k, v);
      return o;
    }
    case 'frozen': {
      const o = {};
      for (const [k, v] of entries) define(o, k, v);
      return Object.freeze(o);
    }
    case 'non-enumerable': {
      const o = {};
      for (const [k, v] of entries) define(o, k, v, false);
      return o;
    }
    case 'inherited': {
      const proto = {};
      for (const [k, v] of entries) define(proto, k, v);
      return Object.create(proto) as object;
    }
    case 'class-getters': {
      class Built {}
      const values = new WeakMap<object, Map<string, unknown>>();
      for (const [k] of entries) {
        if (k === 'constructor') continue; // a class's constructor is not an option
        Object.defineProperty(Built.prototype, k, { get(this: object) { return values.get(this)?.get(k); }, enumerable: false, configurable: true });
      }
      const o = new Built();
      values.set(o, new Map(entries.filter(([k]) => k !== 'constructor')));
      return o;
    }
  }
}

const publishOptions = fc.record(
  {
    persistent: fc.boolean(),
    deliveryMode: fc.oneof(fc.constantFrom(1, 2), fc.boolean()),
    expiration: fc.oneof(fc.string({ maxLength: 6 }), fc.nat()),
    messageId: fc.string({ maxLength: 8 }),
    correlationId: fc.string({ maxLength: 8 }),
    replyTo: fc.constantFrom('amq.rabbitmq.reply-to', 'replies', ''),
    priority: fc.nat({ max: 9 }),
    contentType: fc.constantFrom('application/json', 'text/plain'),
    timestamp: fc.nat(),
    type: fc.string({ maxLength: 6 }),
    appId: fc.string({ maxLength: 6 }),
    userId: fc.string({ maxLength: 6 }),
    mandatory: fc.boolean(),
    CC: fc.oneof(fc.string({ maxLength: 6 }), fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 })),
  },
  { requiredKeys: [] },
);

const headersArbitrary = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(new Map([['x-map', 'not a table']])),
  fc.tuple(headerEntries, shape).map(([entries, how]) => build(entries, how)),
);

const optionsArbitrary = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.tuple(publishOptions, headersArbitrary, shape).map(([o, headers, how]) => build([...Object.entries(o), ...(headers === undefined ? [] : [['headers', headers] as const])], how)),
);

describe('amqplib wrappers, property-based through the real publish / sendToQueue / consume paths', () => {
  it('publish and sendToQueue never throw where amqplib would not, and amqplib gets the same fields and headers but the documented ones', () => {
    const raw = new RecordingChannel();
    const ch = instrumentAmqp(new RecordingChannel(), { registry: new Registry(), logger: { warn: () => undefined } });
    fc.assert(
      fc.property(optionsArbitrary, fc.boolean(), fc.constantFrom('', 'orders', 'amq.gen-abc'), (options, viaSendToQueue, routingKey) => {
        raw.sent.length = 0;
        ch.sent.length = 0;
        const send = (c: RecordingChannel) => (viaSendToQueue ? c.sendToQueue(routingKey, Buffer.from('x'), options) : c.publish('ex', routingKey, Buffer.from('x'), options));
        let rawError: unknown;
        try {
          send(raw);
        } catch (err) {
          rawError = err;
        }
        if (rawError !== undefined) {
          expect(() => send(ch)).toThrow();
          return;
        }
        expect(send(ch)).toBe(true);
        expect(wire(ch.sent[0]!, 'drop')).toEqual(wire(raw.sent[0]!, 'drop'));
      }),
      { numRuns: 2_000 },
    );
    expect(otel.spans().length).toBeGreaterThan(0);
  });

  it('consume hands amqplib the caller\'s queue and options untouched, and the handler its message, this and return value', async () => {
    const ch = instrumentAmqp(new RecordingChannel(), { registry: new Registry(), logger: { warn: () => undefined } });
    await fc.assert(
      fc.asyncProperty(optionsArbitrary, fc.array(fc.anything(), { maxLength: 2 }), async (options, rest) => {
        ch.consumed.length = 0;
        ch.handlers.length = 0;
        const seen: unknown[] = [];
        const returned = { token: Symbol('r') };
        await ch.consume('q', function handler(this: unknown, msg) {
          seen.push(this, msg);
          return returned;
        }, options, ...rest);
        expect(ch.consumed[0]!.options).toBe(options);
        expect(ch.consumed[0]!.rest).toEqual(rest);
        const msg = { content: Buffer.from('x'), fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', consumerTag: 'c' }, properties: { headers: options } } as unknown as ConsumeMessage;
        const self = { channel: true };
        expect(ch.handlers[0]!.call(self, msg)).toBe(returned);
        expect(seen).toEqual([self, msg]);
        ch.ackAll();
      }),
      { numRuns: 500 },
    );
  });
});
