import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, context, propagation } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafka, kafkaMessageContext, traceKafkaMessage } from '../../../instrumentation/index';
import type { KafkaInstrumentationOptions } from '../../../instrumentation/index';
import { ATTR, HEADER, METRIC } from '../../../semconv/index';
import { useOtel } from './otel-fixture';
import { metricValue } from './metric-values';

// What reaches kafkajs is exactly what the caller set (plus our headers), whatever the caller's
// objects are made of; every span started ends, and gauges come back, whatever a handler throws.

type Handler = (payload: unknown) => Promise<unknown>;

/** A kafkajs-shaped client whose originals record what they are given. */
function fakeKafka(overrides: { send?: (record: unknown) => unknown; transaction?: () => unknown } = {}) {
  const sent: Array<Record<string, unknown>> = [];
  const runConfigs: Array<Record<string, unknown>> = [];
  const send = overrides.send ?? (async (record: Record<string, unknown>) => sent.push(record));
  const producer = () => ({
    send,
    sendBatch: async (batch: Record<string, unknown>) => sent.push(batch),
    transaction: overrides.transaction ?? (async () => ({ send, sendBatch: send, commit: async () => undefined, abort: async () => undefined })),
  });
  const consumer = () => ({
    run: async (config: Record<string, unknown>) => {
      runConfigs.push(config);
    },
  });
  return { kafka: { producer, consumer } as unknown as Kafka, sent, runConfigs, handler: (name: string) => runConfigs.at(-1)?.[name] as Handler };
}

function message(offset: string, headers: Record<string, unknown> = {}, key: string | null = 'order-1'): KafkaMessage {
  return { key, value: Buffer.from('{}'), timestamp: String(Date.now()), attributes: 0, offset, headers, size: 0 } as unknown as KafkaMessage;
}

const eachMessagePayload = (m: KafkaMessage, topic = 't') => ({ topic, partition: 0, message: m, heartbeat: async () => undefined, pause: () => () => undefined });

/** Spans started and not (yet) ended by the provider the wrappers get: what a leak looks like. */
class OpenSpans implements SpanProcessor {
  readonly open = new Set<unknown>();
  onStart(span: unknown): void {
    this.open.add((span as ReadableSpan).spanContext().spanId);
  }
  onEnd(span: ReadableSpan): void {
    this.open.delete(span.spanContext().spanId);
  }
  forceFlush = async () => undefined;
  shutdown = async () => undefined;
}

// Global context manager and W3C propagators; spans go to this file's own provider below.
useOtel();
let registry: Registry;
let openSpans: OpenSpans;
let exporter: InMemorySpanExporter;
let options: KafkaInstrumentationOptions;
beforeEach(() => {
  registry = new Registry();
  openSpans = new OpenSpans();
  exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [openSpans, new SimpleSpanProcessor(exporter)] });
  options = { registry, tracerProvider };
});
const spans = (name?: string) => exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name);

/** Rejection reasons the fuzzer found spans lost with: [description, reason factory, expected error_type]. */
function failures(noReason: string): Array<[string, () => unknown, string]> {
  const throwingMessage = () =>
    Object.defineProperty(new Error(), 'message', {
      get: () => {
        throw new Error('getter');
      },
    });
  return [
    ['a null-prototype object', () => Object.create(null) as unknown, '_OTHER'],
    ['an error whose message getter throws', throwingMessage, 'Error'],
    [noReason, () => undefined, '_OTHER'],
  ];
}

class OrderMessage {
  readonly #key: string;
  readonly #value: string;
  constructor(key: string, value: string) {
    this.#key = key;
    this.#value = value;
  }
  get key() {
    return this.#key;
  }
  get value() {
    return this.#value;
  }
  get partition() {
    return 2;
  }
  get headers() {
    return { tenant: 'acme' };
  }
}

describe('Kafka producer: what the caller set reaches kafkajs', () => {
  it('class-instance messages keep key, value, partition and headers, as own properties kafkajs can spread', async () => {
    const f = fakeKafka();
    const producer = instrumentKafka(f.kafka, options).producer();
    const withAccessor = { value: 'v2' };
    Object.defineProperty(withAccessor, 'key', { get: () => 'k2', enumerable: false });
    await producer.send({ topic: 't', messages: [new OrderMessage('k1', 'v1') as never, withAccessor as never] });
    const [first, second] = f.sent[0]!['messages'] as Array<Record<string, unknown>>;
    // kafkajs encodes `{ ...message }`: the copy must hold them as own data.
    expect({ ...first }).toMatchObject({ key: 'k1', value: 'v1', partition: 2 });
    expect((first!['headers'] as Record<string, unknown>)['tenant']).toBe('acme');
    expect(String((first!['headers'] as Record<string, unknown>)['traceparent'])).toContain(spans('send t')[0]!.spanContext().spanId);
    expect({ ...second }).toMatchObject({ key: 'k2', value: 'v2' });
  });

  it('a record and sendBatch entries built by classes keep every option (acks, timeout, compression, topic)', async () => {
    const f = fakeKafka();
    const producer = instrumentKafka(f.kafka, options).producer();
    class SendRecord {
      get topic() {
        return 'orders';
      }
      get messages() {
        return [{ value: 'x' }];
      }
      get acks() {
        return -1;
      }
      timeout = 5000;
    }
    class Entry {
      constructor(readonly topic: string) {}
      get messages() {
        return [{ value: this.topic }];
      }
    }
    await producer.send(new SendRecord() as never);
    await producer.sendBatch({ topicMessages: [new Entry('a') as never], compression: 1 } as never);
    expect(f.sent[0]).toMatchObject({ topic: 'orders', acks: -1, timeout: 5000 });
    expect(f.sent[1]).toMatchObject({ compression: 1, topicMessages: [{ topic: 'a', messages: [{ value: 'a' }] }] });
    expect(spans().map((s) => s.name).sort()).toEqual(['send a', 'send orders']);
  });

  it('a throwing getter: kafkajs gets the caller\'s own record (and its error), no span is left open', async () => {
    const boom = new Error('getter failed');
    const seen: unknown[] = [];
    const f = fakeKafka({ send: async (record) => seen.push(record) });
    const producer = instrumentKafka(f.kafka, options).producer();
    const bad = {
      key: 'k',
      get value(): string {
        throw boom;
      },
    };
    const record = { topic: 't', messages: [bad] };
    await producer.send(record as never);
    expect(seen[0]).toBe(record);
    expect(openSpans.open.size).toBe(0);
  });

  it('the send span links to a creation context the message already carries, which it keeps', async () => {
    const f = fakeKafka();
    const producer = instrumentKafka(f.kafka, options).producer();
    const theirs = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const traceparent = `00-${theirs.traceId}-${theirs.spanId}-01`;
    await producer.send({ topic: 't', messages: [{ value: 'relayed', headers: { traceparent, baggage: 'tenant=acme' } }, { value: 'fresh' }] });
    const send = spans('send t')[0]!;
    expect(send.links.map((l) => l.context.spanId)).toEqual([theirs.spanId]);
    const [relayed, fresh] = (f.sent[0]!['messages'] as Array<{ headers: Record<string, unknown> }>).map((m) => m.headers);
    expect(relayed!['traceparent']).toBe(traceparent);
    expect(String(relayed!['baggage'])).toContain('tenant=acme');
    expect(String(fresh!['traceparent'])).toContain(send.spanContext().spanId);
  });

  it('producedAtHeader: false writes no eda-produced-at; the default does', async () => {
    const f = fakeKafka();
    await instrumentKafka(f.kafka, { ...options, producedAtHeader: false }).producer().send({ topic: 't', messages: [{ value: 'x' }] });
    const g = fakeKafka();
    await instrumentKafka(g.kafka, options).producer().send({ topic: 't', messages: [{ value: 'x' }] });
    const headersOf = (sent: Array<Record<string, unknown>>) => (sent[0]!['messages'] as Array<{ headers: Record<string, unknown> }>)[0]!.headers;
    expect(headersOf(f.sent)).not.toHaveProperty(HEADER.PRODUCED_AT);
    expect(headersOf(f.sent)).toHaveProperty('traceparent');
    expect(headersOf(g.sent)).toHaveProperty(HEADER.PRODUCED_AT);
  });

  it.each(failures('no reason at all'))('a send rejected with %s is counted as failed and its span ends', async (_what, reason, type) => {
    const thrown = reason();
    const f = fakeKafka({ send: () => Promise.reject(thrown) });
    const producer = instrumentKafka(f.kafka, options).producer();
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }, { value: 'y' }] })).rejects.toBe(thrown);
    expect(openSpans.open.size).toBe(0);
    expect(spans('send t')[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { error_type: type })).toBe(2);
  });

  it('transaction() throwing synchronously throws the same error and leaves no span open', () => {
    const boom = new Error('not transactional');
    const producer = instrumentKafka(fakeKafka({ transaction: () => { throw boom; } }).kafka, options).producer();
    expect(() => producer.transaction()).toThrow(boom);
    expect(openSpans.open.size).toBe(0);
    expect(spans('transaction')[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('Kafka consumer: run() config and handler failures', () => {
  it('consumer.run(new Worker()) with class-method handlers reaches kafkajs with them (and its own options)', async () => {
    const f = fakeKafka();
    const handled: string[] = [];
    class Worker {
      autoCommit = false;
      get partitionsConsumedConcurrently() {
        return 3;
      }
      async eachMessage({ message: m }: { message: KafkaMessage }) {
        handled.push(m.offset);
      }
    }
    await instrumentKafka(f.kafka, options).consumer({ groupId: 'g' }).run(new Worker() as never);
    expect(f.runConfigs[0]).toMatchObject({ autoCommit: false, partitionsConsumedConcurrently: 3 });
    await f.handler('eachMessage')(eachMessagePayload(message('5')));
    expect(handled).toEqual(['5']);
    expect(spans('process t')).toHaveLength(1);
  });

  it.each(failures('no reason at all (Promise.reject())'))('eachMessage rejecting with %s: span ends failed, in-flight back to 0, processed counted failed', async (_what, reason, type) => {
    const thrown = reason();
    const f = fakeKafka();
    await instrumentKafka(f.kafka, options).consumer({ groupId: 'g' }).run({ eachMessage: () => Promise.reject(thrown) });
    for (let i = 0; i < 3; i++) await expect(f.handler('eachMessage')(eachMessagePayload(message(String(i))))).rejects.toBe(thrown);
    expect(openSpans.open.size).toBe(0);
    expect(spans('process t').map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { error_type: type })).toBe(3);
    expect(await metricValue(registry, METRIC.E2E_LATENCY.name, { stage: 'processed' }, `${METRIC.E2E_LATENCY.name}_count`)).toBe(0);
  });

  it('messageKeyAttribute: false leaves messaging.kafka.message.key out (eachMessage and traceKafkaMessage)', async () => {
    const f = fakeKafka();
    await instrumentKafka(f.kafka, { ...options, messageKeyAttribute: false }).consumer({ groupId: 'g' }).run({
      eachMessage: async () => undefined,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) await traceKafkaMessage(m, () => undefined);
      },
    });
    await f.handler('eachMessage')(eachMessagePayload(message('1')));
    await f.handler('eachBatch')({ batch: { topic: 't', partition: 0, messages: [message('2')] }, resolveOffset: () => undefined });
    expect(spans('process t')).toHaveLength(3);
    for (const s of spans('process t')) expect(Object.keys(s.attributes)).not.toContain(ATTR.MESSAGING_KAFKA_MESSAGE_KEY);
    const g = fakeKafka();
    await instrumentKafka(g.kafka, options).consumer({ groupId: 'g' }).run({ eachMessage: async () => undefined });
    await g.handler('eachMessage')(eachMessagePayload(message('3'), 'keyed'));
    expect(spans('process keyed')[0]!.attributes[ATTR.MESSAGING_KAFKA_MESSAGE_KEY]).toBe('order-1');
  });
});

describe('Kafka dead letters land in the failed message\'s trace', () => {
  /** Headers as an instrumented producer writes them, and that send span's context. */
  async function produced(): Promise<{ headers: Record<string, unknown>; traceId: string }> {
    const f = fakeKafka();
    await instrumentKafka(f.kafka, options).producer().send({ topic: 't', messages: [{ value: 'x' }] });
    const headers = (f.sent[0]!['messages'] as Array<{ headers: Record<string, unknown> }>)[0]!.headers;
    return { headers, traceId: spans('send t').at(-1)!.spanContext().traceId };
  }

  it('eachBatch: context.with(kafkaMessageContext(m), send) after traceKafkaMessage failed is a child of that message\'s process span', async () => {
    const poison = await produced();
    const fine = await produced();
    const f = fakeKafka();
    const client = instrumentKafka(f.kafka, options);
    const dlqProducer = client.producer();
    await client.consumer({ groupId: 'g' }).run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          try {
            await traceKafkaMessage(m, () => {
              if (m.offset === '0') throw new SyntaxError('bad json');
            });
          } catch {
            await context.with(kafkaMessageContext(m), () => dlqProducer.send({ topic: 'orders.DLT', messages: [{ value: m.value }] }));
          }
        }
      },
    });
    const batch = { topic: 't', partition: 0, messages: [message('0', poison.headers), message('1', fine.headers)] };
    await f.handler('eachBatch')({ batch, resolveOffset: () => undefined });
    const failed = spans('process t').find((s) => s.status.code === SpanStatusCode.ERROR)!;
    expect(failed.spanContext().traceId).toBe(poison.traceId);
    const dlqSend = spans('send orders.DLT')[0]!;
    expect(dlqSend.parentSpanContext?.spanId).toBe(failed.spanContext().spanId);
    const dlqHeaders = (f.sent.at(-1)!['messages'] as Array<{ headers: Record<string, unknown> }>)[0]!.headers;
    expect(String(dlqHeaders['traceparent'])).toContain(poison.traceId);
  });

  it('eachMessage: a send in the handler\'s catch is already in the message\'s process span', async () => {
    const poison = await produced();
    const f = fakeKafka();
    const client = instrumentKafka(f.kafka, options);
    const dlqProducer = client.producer();
    await client.consumer({ groupId: 'g' }).run({
      eachMessage: async ({ message: m }) => {
        try {
          throw new SyntaxError(`bad json at ${m.offset}`);
        } catch {
          await dlqProducer.send({ topic: 'orders.DLT', messages: [{ value: m.value }] });
        }
      },
    });
    await f.handler('eachMessage')(eachMessagePayload(message('0', poison.headers)));
    const processSpan = spans('process t')[0]!;
    expect(processSpan.spanContext().traceId).toBe(poison.traceId);
    expect(spans('send orders.DLT')[0]!.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId);
  });

  it('kafkaMessageContext outside a batch is the active context', () => {
    const ctx: Context = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ a: { value: '1' } }));
    context.with(ctx, () => expect(kafkaMessageContext(message('0'))).toBe(ctx));
  });
});
