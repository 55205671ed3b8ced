import fc from 'fast-check';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafka } from '../../../instrumentation/index';
import { METRIC } from '../../../semconv/index';
import { useOtel } from './otel-fixture';
import { metricValue } from './metric-values';

// Property-based tests through the real wrapper paths: a fake producer whose original send /
// sendBatch records its argument, a fake consumer whose run records its config. Whatever the
// caller's objects are made of (classes, getters, private fields, null prototypes, frozen, Maps,
// odd keys), the wrapper never throws where the original would not, and what reaches the original
// equals the input except for the documented headers.

const DOCUMENTED_HEADERS = new Set(['traceparent', 'tracestate', 'baggage', 'eda-produced-at']);
const RUNS = Number(process.env['FC_RUNS'] ?? 300);

useOtel();

/** Spans started and not ended: what a leak looks like. */
class OpenSpans implements SpanProcessor {
  open = 0;
  onStart(): void {
    this.open++;
  }
  onEnd(_span: ReadableSpan): void {
    this.open--;
  }
  forceFlush = async () => undefined;
  shutdown = async () => undefined;
}

/** Every own and inherited string-keyed property read through the object, as the wrapper must keep them. */
function allProperties(o: object): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (let level: object | null = o; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const key of Object.getOwnPropertyNames(level)) {
      if (out.has(key) || (level !== o && key === 'constructor')) continue;
      out.set(key, (o as Record<string, unknown>)[key]);
    }
  }
  return out;
}

/** `actual` has exactly `expected`'s properties with identical values, except the keys in `skip`. */
function expectSameProperties(actual: object, expected: object, skip: ReadonlySet<string>): void {
  const a = allProperties(actual);
  const e = allProperties(expected);
  for (const key of skip) {
    a.delete(key);
    e.delete(key);
  }
  expect([...a.keys()].sort()).toEqual([...e.keys()].sort());
  for (const [key, value] of e) expect(Object.is(a.get(key), value)).toBe(true);
}

const isCarrier = (h: unknown): h is Record<string, unknown> => typeof h === 'object' && h !== null && !Array.isArray(h) && !ArrayBuffer.isView(h);

/** Headers kafkajs will encode (own enumerable keys): the caller's, plus only documented ones. */
function expectSameHeaders(actual: unknown, expected: unknown): void {
  if (expected !== undefined && expected !== null && !isCarrier(expected)) {
    expect(Object.is(actual, expected)).toBe(true);
    return;
  }
  expect(isCarrier(actual)).toBe(true);
  const out = actual as Record<string, unknown>;
  const callers = isCarrier(expected) ? Object.keys(expected) : [];
  for (const key of Object.keys(out)) if (!DOCUMENTED_HEADERS.has(key.toLowerCase())) expect(callers).toContain(key);
  for (const key of callers) {
    if (DOCUMENTED_HEADERS.has(key.toLowerCase())) continue;
    expect(Object.keys(out)).toContain(key);
    expect(Object.is(out[key], (expected as Record<string, unknown>)[key])).toBe(true);
  }
}

// ---- generators -------------------------------------------------------------------------------

const oddKey = fc.oneof(
  fc.constantFrom('__proto__', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'ü', '\u0000', 'headers', 'topic', 'then', '1', 'length'),
  fc.string({ maxLength: 6 }),
);
const anyValue = fc.anything({ withNullPrototype: true, withMap: true, withSet: true, withBigInt: true, withTypedArray: true, withBoxedValues: true, withSparseArray: true, maxDepth: 2 });
const headerValue = fc.oneof(fc.string(), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)), fc.array(fc.string(), { maxLength: 3 }), fc.constant(new Map([['a', 'b']])), anyValue);
const headerKey = fc.oneof(oddKey, fc.constantFrom('traceparent', 'TraceParent', 'baggage', 'eda-produced-at', 'x-tenant'));
const headers = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(headerKey, headerValue, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(headerKey, headerValue, { maxKeys: 3 }).map((d) => Object.assign(Object.create(null) as object, d)) },
  { weight: 1, arbitrary: fc.dictionary(headerKey, headerValue, { maxKeys: 3 }).map((d) => Object.freeze(d)) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'not-headers', 42, new Map([['traceparent', 'x']]), ['a'], Buffer.from('h')) },
);
/** What a caller may put on a message: the fields kafkajs reads, plus anything else. */
const fields = fc.record(
  {
    key: fc.oneof(fc.string(), fc.constant(null), fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a))),
    value: fc.oneof(fc.string(), fc.constant(null), fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a))),
    partition: fc.integer({ min: 0, max: 9 }),
    timestamp: fc.string(),
    headers,
  },
  { requiredKeys: ['value'] },
);
const extras = fc.dictionary(oddKey.filter((k) => k !== 'constructor'), anyValue, { maxKeys: 3 });

/** A class whose prototype serves every property through a getter. */
function getterInstance(props: Record<string, unknown>): object {
  class Generated {}
  for (const key of Object.keys(props)) Object.defineProperty(Generated.prototype, key, { get: () => props[key], configurable: true });
  return new Generated();
}

/** Getters over private fields: readable only through the instance itself. */
function privateInstance(props: Record<string, unknown>): object {
  class Private {
    readonly #props = props;
    static read(self: Private, key: string): unknown {
      return self.#props[key];
    }
  }
  for (const key of Object.keys(props)) Object.defineProperty(Private.prototype, key, { get: function (this: Private) { return Private.read(this, key); }, configurable: true });
  return new Private();
}

/** Own, but not enumerable: invisible to `{ ...m }`. */
function hiddenOwn(props: Record<string, unknown>): object {
  const o = {};
  for (const key of Object.keys(props)) Object.defineProperty(o, key, { value: props[key], enumerable: false, configurable: true, writable: true });
  return o;
}

/** `props` defined on `o` as own data properties (`__proto__` included, as a plain key). */
const define = (o: object, props: Record<string, unknown>): Record<string, unknown> => {
  for (const key of Object.keys(props)) Object.defineProperty(o, key, { value: props[key], enumerable: true, configurable: true, writable: true });
  return o as Record<string, unknown>;
};

const messageObject = fc.tuple(fields, extras, fc.constantFrom('plain', 'getters', 'private', 'null-prototype', 'frozen', 'hidden')).map(([f, x, kind]) => {
  const props = define(define({}, x), f);
  switch (kind) {
    case 'getters':
      return getterInstance(props);
    case 'private':
      return privateInstance(props);
    case 'null-prototype':
      return define(Object.create(null) as object, props);
    case 'frozen':
      return Object.freeze(define({}, props));
    case 'hidden':
      return hiddenOwn(props);
    default:
      return define({}, props);
  }
});
const message = fc.oneof({ weight: 9, arbitrary: messageObject }, { weight: 1, arbitrary: fc.constantFrom(null, undefined, 42, 'text', ['array']) });

// ---- fakes ------------------------------------------------------------------------------------

function fakeKafka() {
  const received: unknown[] = [];
  const runConfigs: Array<Record<string, unknown>> = [];
  const record = async (arg: unknown) => void received.push(arg);
  const kafka = {
    producer: () => ({ send: record, sendBatch: record, transaction: async () => ({}) }),
    consumer: () => ({ run: async (config: Record<string, unknown>) => void runConfigs.push(config) }),
  } as unknown as Kafka;
  return { kafka, received, runConfigs };
}

function instrumented() {
  const f = fakeKafka();
  const open = new OpenSpans();
  const registry = new Registry();
  const client = instrumentKafka(f.kafka, { registry, tracerProvider: new BasicTracerProvider({ spanProcessors: [open] }), logger: { warn: () => undefined } });
  return { ...f, client, open, registry };
}

function expectMessageKept(out: unknown, input: unknown): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    expect(Object.is(out, input)).toBe(true);
    return;
  }
  expectSameProperties(out as object, input, new Set(['headers']));
  expectSameHeaders((out as Record<string, unknown>)['headers'], (input as Record<string, unknown>)['headers']);
}

describe('Kafka wrappers (property-based, through the real wrapper paths)', () => {
  it('send: never throws, and kafkajs gets every property of the record and its messages, headers aside', async () => {
    const { client, received, open } = instrumented();
    const producer = client.producer();
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 4 }), extras, fc.constantFrom('plain', 'getters', 'frozen'), async (messages, x, kind) => {
        const props = define(define({}, x), { topic: 'orders', messages });
        const input = kind === 'getters' ? getterInstance(props) : kind === 'frozen' ? Object.freeze(props) : props;
        received.length = 0;
        await producer.send(input as never);
        const out = received[0] as Record<string, unknown>;
        expectSameProperties(out, input, new Set(['messages']));
        const sent = out['messages'] as unknown[];
        expect(sent).toHaveLength(messages.length);
        sent.forEach((m, i) => expectMessageKept(m, messages[i]));
      }),
      { numRuns: RUNS },
    );
    expect(open.open).toBe(0);
  });

  it('sendBatch: the same for every topicMessages entry', async () => {
    const { client, received, open } = instrumented();
    const producer = client.producer();
    const entry = fc.tuple(fc.constantFrom('a', 'b'), fc.array(message, { maxLength: 3 }), extras, fc.boolean()).map(([topic, messages, x, asClass]) => {
      const props = define(define({}, x), { topic, messages });
      return asClass ? getterInstance(props) : props;
    });
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 3 }), async (topicMessages) => {
        received.length = 0;
        await producer.sendBatch({ topicMessages } as never);
        const out = (received[0] as { topicMessages: object[] }).topicMessages;
        out.forEach((tm, i) => {
          const input = topicMessages[i] as { messages: unknown[] };
          expectSameProperties(tm, input, new Set(['messages']));
          (tm as { messages: unknown[] }).messages.forEach((m, j) => expectMessageKept(m, input.messages[j]));
        });
      }),
      { numRuns: RUNS },
    );
    expect(open.open).toBe(0);
  });

  it('a getter that throws anywhere: the original gets the caller\'s own record, and no span is left open', async () => {
    const { client, received, open } = instrumented();
    const producer = client.producer();
    await fc.assert(
      fc.asyncProperty(fc.array(messageObject, { minLength: 1, maxLength: 3 }), fc.nat(), fc.constantFrom('key', 'value', 'headers', 'partition'), async (messages, at, field) => {
        const poisoned = messages.slice();
        const i = at % poisoned.length;
        poisoned[i] = Object.defineProperty(Object.create(poisoned[i] as object) as object, field, {
          get: () => {
            throw new Error('getter');
          },
        });
        const input = { topic: 't', messages: poisoned };
        received.length = 0;
        await producer.send(input as never);
        expect(received[0]).toBe(input);
      }),
      { numRuns: RUNS },
    );
    expect(open.open).toBe(0);
  });

  it('run(): kafkajs gets every option the caller set, handlers wrapped, whatever the config object is', async () => {
    const { client, runConfigs } = instrumented();
    const consumer = client.consumer({ groupId: 'g' });
    const options = fc.record({ autoCommit: fc.boolean(), partitionsConsumedConcurrently: fc.integer({ min: 1, max: 4 }), eachBatchAutoResolve: fc.boolean() }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(options, extras, fc.constantFrom('eachMessage', 'eachBatch'), fc.constantFrom('plain', 'class', 'null-prototype', 'frozen'), async (o, x, handlerName, kind) => {
        const calls: unknown[] = [];
        const handler = async (payload: unknown) => void calls.push(payload);
        let input: object;
        if (kind === 'class') {
          class Worker {}
          Object.defineProperty(Worker.prototype, handlerName, { value: handler, configurable: true });
          for (const key of Object.keys(o)) Object.defineProperty(Worker.prototype, key, { get: () => (o as Record<string, unknown>)[key], configurable: true });
          input = define(new Worker(), x);
        } else {
          const props = define(define({}, x), { ...o, [handlerName]: handler });
          input = kind === 'null-prototype' ? define(Object.create(null) as object, props) : kind === 'frozen' ? Object.freeze(props) : props;
        }
        runConfigs.length = 0;
        await consumer.run(input as never);
        const out = runConfigs[0]!;
        expectSameProperties(out, input, new Set([handlerName]));
        expect(typeof out[handlerName]).toBe('function');
        const m = { key: null, value: null, offset: '1', headers: {}, timestamp: '0' };
        const payload = handlerName === 'eachMessage' ? { topic: 't', partition: 0, message: m } : { batch: { topic: 't', partition: 0, messages: [m] }, resolveOffset: () => undefined };
        await (out[handlerName] as (p: unknown) => Promise<unknown>)(payload);
        expect(calls).toHaveLength(1);
        if (handlerName === 'eachMessage') expect(calls[0]).toBe(payload);
        else expectSameProperties(calls[0] as object, payload, new Set(['resolveOffset']));
      }),
      { numRuns: RUNS },
    );
  });

  it('handlers: the same value or reason comes back, every span ends, in-flight returns to 0', async () => {
    const { client, runConfigs, open, registry } = instrumented();
    const outcome = fc.oneof(
      anyValue.map((v) => ({ kind: 'resolve' as const, v })),
      anyValue.map((v) => ({ kind: 'reject' as const, v })),
      anyValue.map((v) => ({ kind: 'throw' as const, v })),
    );
    let current: { kind: 'resolve' | 'reject' | 'throw'; v: unknown } = { kind: 'resolve', v: undefined };
    const handler = () => {
      if (current.kind === 'throw') throw current.v;
      return current.kind === 'reject' ? Promise.reject(current.v) : Promise.resolve(current.v);
    };
    await client.consumer({ groupId: 'g' }).run({ eachMessage: handler as never, eachBatch: handler as never });
    const { eachMessage, eachBatch } = runConfigs[0] as Record<string, (p: unknown) => Promise<unknown>>;
    let offset = 0;
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(outcome, fc.boolean(), async (o, batch) => {
        current = o;
        const m = { key: null, value: null, offset: String(offset++), headers: {}, timestamp: '0' };
        const call = batch ? eachBatch!({ batch: { topic: 't', partition: 0, messages: [m, { ...m }] }, resolveOffset: () => undefined }) : eachMessage!({ topic: 't', partition: 0, message: m });
        const settled = await call.then(
          (v) => ({ ok: true, v }),
          (e: unknown) => ({ ok: false, v: e }),
        );
        expect(settled.ok).toBe(o.kind === 'resolve');
        expect(Object.is(settled.v, o.v)).toBe(true);
        expect(open.open).toBe(0);
        if (!settled.ok) failures += batch ? 2 : 1;
      }),
      { numRuns: RUNS * 3 },
    );
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    // Every rejection is a failure, whatever its reason (undefined, null, a null-prototype object...).
    const processed = (await registry.getMetricsAsJSON()).find((m) => m.name === METRIC.MESSAGES_PROCESSED.name)?.values ?? [];
    expect(processed.filter((v) => v.labels['error_type'] !== undefined).reduce((n, v) => n + v.value, 0)).toBe(failures);
  });
});
