import { context, propagation, trace } from '@opentelemetry/api';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, EachMessagePayload, KafkaMessage, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { instrumentKafka, kafkaMessageContext, startTelemetry, traceKafkaMessage } from '../../../instrumentation/index';
import type { TelemetryHandle } from '../../../instrumentation/index';
import { uniqueName } from '../../support/names';
import { OTLP_STATUS_ERROR, receivedSpans, startOtlpReceiver } from './otlp-receiver';
import type { OtlpReceiver, ReceivedSpan } from './otlp-receiver';
import { OtlpJsonHttpExporter } from './otlp-json-exporter';

// What a caller sends reaches the broker, and the consumer, as the caller built it: class-instance
// messages, its own trace context and baggage (with no SDK registered, and with one). The first
// describe runs before any SDK exists in this file; the second starts one.

/** A creation context set by the app or a relay: must arrive as it was sent. */
const USER_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const USER_TRACESTATE = 'vendor=abc';
const USER_BAGGAGE = 'tenant=acme,plan=gold';

let env: StartedEnvironment;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  const brokers = env.getKafkaBrokers();
  kafka = instrumentKafka(new Kafka({ clientId: 'fidelity-it', brokers, logLevel: logLevel.NOTHING }), { registry: new Registry(), brokers, clientId: 'fidelity-it' });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

async function newTopic(prefix: string, numPartitions = 1): Promise<string> {
  const topic = uniqueName(prefix);
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
  return topic;
}

async function startConsumer(topic: string, config: Parameters<Consumer['run']>[0]): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: uniqueName(`${topic}-group`) });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run(config);
  return consumer;
}

/** Consumes `count` messages of `topic` (eachMessage) and returns them with their partitions. */
async function consume(topic: string, count: number): Promise<Array<{ partition: number; message: KafkaMessage }>> {
  const got: Array<{ partition: number; message: KafkaMessage }> = [];
  await startConsumer(topic, {
    eachMessage: async ({ partition, message }) => {
      got.push({ partition, message });
    },
  });
  await waitFor(() => got.length >= count, { description: `${count} messages from ${topic}`, timeoutMs: 60_000 });
  return got;
}

const text = (v: unknown) => (v === null || v === undefined ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
const header = (m: KafkaMessage, name: string) => text(m.headers?.[name]);

/** A message whose every field is a getter over private state. */
class OrderEvent {
  readonly #id: string;
  constructor(id: string) {
    this.#id = id;
  }
  get key() {
    return `order-${this.#id}`;
  }
  get value() {
    return JSON.stringify({ id: this.#id });
  }
  get partition() {
    return 2;
  }
  get headers() {
    return { tenant: 'acme' };
  }
}

/** Getters on the prototype, no private fields, no partition: kafkajs partitions by the key. */
class KeyedEvent {
  constructor(private readonly id: string) {}
  get key() {
    return `customer-${this.id}`;
  }
  get value() {
    return this.id;
  }
}

function userHeaders(): Record<string, string> {
  return { traceparent: USER_TRACEPARENT, tracestate: USER_TRACESTATE, baggage: USER_BAGGAGE };
}

describe('without an SDK registered', () => {
  it('no SDK is registered yet in this file', () => {
    expect(propagation.fields()).toEqual([]);
  });

  it('class-instance messages (getters, private fields) are produced and consumed with key, value, partition and headers', async () => {
    const topic = await newTopic('it-class-msg', 3);
    await producer.send({ topic, messages: [new OrderEvent('7') as never, new KeyedEvent('42') as never] });
    // The same key as a plain message: kafkajs must have partitioned the class instance by its key.
    await producer.send({ topic, messages: [{ key: 'customer-42', value: 'plain' }] });
    const got = await consume(topic, 3);
    const order = got.find((g) => text(g.message.key) === 'order-7')!;
    expect(order).toBeDefined();
    expect(order.partition).toBe(2);
    expect(text(order.message.value)).toBe('{"id":"7"}');
    expect(header(order.message, 'tenant')).toBe('acme');
    const keyed = got.find((g) => text(g.message.value) === '42')!;
    const plain = got.find((g) => text(g.message.value) === 'plain')!;
    expect(text(keyed.message.key)).toBe('customer-42');
    expect(keyed.partition).toBe(plain.partition);
  });

  it('consumer.run(new Worker()) with eachMessage as a class method processes messages', async () => {
    const topic = await newTopic('it-worker');
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
    const handled: string[] = [];
    class Worker {
      async eachMessage({ message }: EachMessagePayload): Promise<void> {
        handled.push(String(message.value));
      }
    }
    await startConsumer(topic, new Worker());
    await waitFor(() => handled.length === 2, { description: 'the Worker to process both messages', timeoutMs: 60_000 });
    expect(handled.sort()).toEqual(['a', 'b']);
  });

  it('a user traceparent, tracestate and baggage arrive intact', async () => {
    const topic = await newTopic('it-user-ctx-nosdk');
    await producer.send({ topic, messages: [{ value: 'x', headers: userHeaders() }] });
    const [got] = await consume(topic, 1);
    expect(header(got!.message, 'traceparent')).toBe(USER_TRACEPARENT);
    expect(header(got!.message, 'tracestate')).toBe(USER_TRACESTATE);
    expect(header(got!.message, 'baggage')).toBe(USER_BAGGAGE);
  });
});

describe('with an SDK registered', () => {
  let receiver: OtlpReceiver;
  let telemetry: TelemetryHandle;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    telemetry = await startTelemetry({ serviceName: 'fidelity-it', metricsPort: 0, metricsHost: '127.0.0.1', registry: new Registry(), traceExporter: new OtlpJsonHttpExporter(receiver.url) });
  });

  afterAll(async () => {
    await telemetry?.shutdown();
    await receiver?.close();
  });

  const exported = (description: string, predicate: (spans: ReceivedSpan[]) => boolean) => receivedSpans(receiver, description, predicate, { flush: () => telemetry.forceFlush() });

  it('a user traceparent, tracestate and baggage arrive intact, and the send span links to that context', async () => {
    const topic = await newTopic('it-user-ctx-sdk');
    // Sent inside an app span with baggage of its own: the message's own context still wins.
    const appBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ app: { value: '1' } }));
    await context.with(appBaggage, () => trace.getTracer('it').startActiveSpan('relay', async (span) => {
      await producer.send({ topic, messages: [{ value: 'x', headers: userHeaders() }] });
      span.end();
    }));
    const [got] = await consume(topic, 1);
    expect(header(got!.message, 'traceparent')).toBe(USER_TRACEPARENT);
    expect(header(got!.message, 'tracestate')).toBe(USER_TRACESTATE);
    expect(header(got!.message, 'baggage')).toBe(USER_BAGGAGE);
    const spans = await exported('the send span', (s) => s.some((x) => x.name === `send ${topic}`));
    const send = spans.find((s) => s.name === `send ${topic}`)!;
    expect(send.links).toEqual([{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }]);
  });

  it('the documented dead-letter way (eachBatch): the DLQ record is in the failed message\'s trace', async () => {
    const topic = await newTopic('it-dlq-src');
    const dlq = await newTopic('it-dlq');
    // Two sends, two traces: the dead letter must join the poison message's one.
    await producer.send({ topic, messages: [{ key: 'good', value: '{"ok":true}' }] });
    await producer.send({ topic, messages: [{ key: 'poison', value: 'not json' }] });
    let done = 0;
    await startConsumer(topic, {
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) {
          try {
            await traceKafkaMessage(m, () => JSON.parse(String(m.value)));
          } catch {
            // The README's way: the dead letter is sent in the failed message's own context.
            await context.with(kafkaMessageContext(m), () => producer.send({ topic: dlq, messages: [{ key: m.key, value: m.value }] }));
          }
          resolveOffset(m.offset);
          done++;
        }
      },
    });
    await waitFor(() => done === 2, { description: 'both messages handled', timeoutMs: 60_000 });
    const [dead] = await consume(dlq, 1);
    const [, traceId, parentId] = String(header(dead!.message, 'traceparent')).split('-');
    const spans = await exported('process and dead-letter spans', (s) => s.some((x) => x.name === `send ${dlq}`) && s.some((x) => x.name === `process ${topic}` && x.status.code === OTLP_STATUS_ERROR));
    const failed = spans.find((s) => s.name === `process ${topic}` && s.status.code === OTLP_STATUS_ERROR)!;
    const sends = spans.filter((s) => s.name === `send ${topic}`);
    const poisonSend = sends.find((s) => s.spanId === failed.parentSpanId)!;
    const goodSend = sends.find((s) => s !== poisonSend)!;
    const dlqSend = spans.find((s) => s.name === `send ${dlq}`)!;
    // The DLQ record carries the failed message's trace: its parent is the DLQ send, a child of the failed process span.
    expect(traceId).toBe(poisonSend.traceId);
    expect(traceId).not.toBe(goodSend.traceId);
    expect(traceId).toBe(failed.traceId);
    expect(parentId).toBe(dlqSend.spanId);
    expect(dlqSend.parentSpanId).toBe(failed.spanId);
  });
});
