import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafka, kafkaHandle, kafkaMessageContext, traceKafkaMessage, uninstrumentKafka } from '../../../instrumentation/index';
import { ATTR, HEADER, METRIC } from '../../../semconv/index';
import { useOtel } from './otel-fixture';
import { metricValue } from './metric-values';

/** A kafkajs-shaped client: records what reaches "the broker" and lets tests drive run()'s handlers. */
function fakeKafka(options: { sendError?: Error } = {}) {
  const sent: Array<{ topic: string; messages: Array<{ headers?: Record<string, unknown> }> }> = [];
  const runConfigs: Array<Record<string, (payload: unknown) => Promise<void>>> = [];
  const listeners = new Map<string, Array<(e: unknown) => void>>();
  const events = { GROUP_JOIN: 'consumer.group_join', COMMIT_OFFSETS: 'consumer.commit_offsets', CRASH: 'consumer.crash', REBALANCING: 'consumer.rebalancing', STOP: 'consumer.stop' };
  const send = async (record: { topic: string; messages: Array<{ headers?: Record<string, unknown> }> }) => {
    if (options.sendError) throw options.sendError;
    sent.push(record);
    return [{ topicName: record.topic, partition: 0, errorCode: 0 }];
  };
  const sendBatch = async (batch: { topicMessages: Array<{ topic: string; messages: Array<{ headers?: Record<string, unknown> }> }> }) => {
    for (const tm of batch.topicMessages) sent.push(tm);
    return [];
  };
  const producerFactory = () => ({
    send,
    sendBatch,
    transaction: async () => ({ send, sendBatch, commit: async () => undefined, abort: async () => undefined }),
  });
  const consumerFactory = (_config: { groupId: string }) => ({
    events,
    run: async (config: Record<string, (payload: unknown) => Promise<void>>) => {
      runConfigs.push(config);
    },
    on: (name: string, listener: (e: unknown) => void) => {
      listeners.set(name, [...(listeners.get(name) ?? []), listener]);
      return () => listeners.set(name, (listeners.get(name) ?? []).filter((l) => l !== listener));
    },
  });
  const kafka = { producer: producerFactory, consumer: consumerFactory } as unknown as Kafka;
  return {
    kafka,
    sent,
    runConfigs,
    producerFactory,
    consumerFactory,
    send,
    emit: (name: string, payload: unknown) => (listeners.get(name) ?? []).forEach((l) => l({ payload })),
    listenerCount: (name: string) => (listeners.get(name) ?? []).length,
  };
}

function message(headers: Record<string, unknown>, offset: string, key: string | Buffer | null = 'order-1'): KafkaMessage {
  return { key: key as Buffer | null, value: Buffer.from('{}'), timestamp: String(Date.now()), attributes: 0, offset, headers, size: 0 } as unknown as KafkaMessage;
}

const otel = useOtel();
let registry: Registry;
beforeEach(() => {
  registry = new Registry();
});

describe('Kafka producer', () => {
  it('emits one PRODUCER span per send call and puts its context into copies of every message', async () => {
    const f = fakeKafka();
    const kafka = instrumentKafka(f.kafka, { registry, clientId: 'svc', brokers: ['broker-a:9092'] });
    const producer = kafka.producer();
    const messages = Object.freeze([
      Object.freeze({ key: 'a', value: '1', headers: Object.freeze({ keep: Buffer.from('x') }) }),
      Object.freeze({ key: 'b', value: '2' }),
      Object.freeze({ key: 'c', value: '3' }),
    ]);
    const record = Object.freeze({ topic: 'orders', messages });
    await producer.send(record as never);

    const spans = otel.spans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('send orders');
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.attributes).toMatchObject({
      [ATTR.MESSAGING_SYSTEM]: 'kafka',
      [ATTR.MESSAGING_OPERATION_NAME]: 'send',
      [ATTR.MESSAGING_OPERATION_TYPE]: 'send',
      [ATTR.MESSAGING_DESTINATION_NAME]: 'orders',
      [ATTR.MESSAGING_BATCH_MESSAGE_COUNT]: 3,
      [ATTR.MESSAGING_CLIENT_ID]: 'svc',
      [ATTR.SERVER_ADDRESS]: 'broker-a',
      [ATTR.SERVER_PORT]: 9092,
    });
    const out = f.sent[0]!;
    expect(out).not.toBe(record);
    for (const m of out.messages) {
      expect(String(m.headers?.['traceparent'])).toContain(span.spanContext().spanId);
      expect(Number(m.headers?.[HEADER.PRODUCED_AT])).toBeGreaterThan(0);
    }
    expect(out.messages[0]!.headers?.['keep']).toBe((messages[0] as { headers: { keep: Buffer } }).headers.keep);
    expect(messages[1]).toEqual({ key: 'b', value: '2' }); // caller's objects untouched
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_destination_name: 'orders' })).toBe(3);
    expect(await metricValue(registry, METRIC.OPERATION_DURATION.name, { messaging_operation_name: 'send' }, `${METRIC.OPERATION_DURATION.name}_count`)).toBe(1);
  });

  it('traces sendBatch as one span across topics, and per-message create spans when asked', async () => {
    const f = fakeKafka();
    const producer = instrumentKafka(f.kafka, { registry, perMessageCreateSpans: true }).producer();
    await producer.sendBatch({ topicMessages: [{ topic: 'a', messages: [{ value: '1' }] }, { topic: 'b', messages: [{ value: '2' }] }] });
    const send = otel.spans('send')[0]!;
    const creates = otel.spans().filter((s) => s.name.startsWith('create '));
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.attributes[ATTR.MESSAGING_DESTINATION_NAME]).toBeUndefined();
    expect(creates.map((s) => s.name).sort()).toEqual(['create a', 'create b']);
    expect(send.links.map((l) => l.context.spanId).sort()).toEqual(creates.map((s) => s.spanContext().spanId).sort());
    // Each message carries its own creation context.
    expect(String(f.sent[0]!.messages[0]!.headers?.['traceparent'])).toContain(creates.find((s) => s.name === 'create a')!.spanContext().spanId);
  });

  it('hands kafkajs errors back unchanged and records them on the span and the counter', async () => {
    class KafkaJSNumberOfRetriesExceeded extends Error {}
    const boom = new KafkaJSNumberOfRetriesExceeded('no leader');
    const producer = instrumentKafka(fakeKafka({ sendError: boom }).kafka, { registry }).producer();
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toBe(boom);
    const span = otel.spans('send t')[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes[ATTR.ERROR_TYPE]).toBe('KafkaJSNumberOfRetriesExceeded');
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { error_type: 'KafkaJSNumberOfRetriesExceeded' })).toBe(1);
  });

  it('traces sends inside a transaction as children of a transaction span', async () => {
    const producer = instrumentKafka(fakeKafka().kafka, { registry }).producer();
    const tx = await producer.transaction();
    await tx.send({ topic: 't', messages: [{ value: 'x' }] });
    await tx.commit();
    const txSpan = otel.spans('transaction')[0]!;
    const send = otel.spans('send t')[0]!;
    expect(send.parentSpanContext?.spanId).toBe(txSpan.spanContext().spanId);
    expect(txSpan.events.map((e) => e.name)).toContain('commit');
  });

  it('is idempotent and reversible, also for producers created in between', async () => {
    const f = fakeKafka();
    const originalProducer = f.kafka.producer;
    instrumentKafka(f.kafka, { registry });
    instrumentKafka(f.kafka, { registry });
    const producer = f.kafka.producer();
    await producer.send({ topic: 't', messages: [{ value: 'x' }] });
    expect(otel.spans()).toHaveLength(1);
    uninstrumentKafka(f.kafka);
    expect(f.kafka.producer).toBe(originalProducer);
    expect(producer.send).toBe(f.send);
    await producer.send({ topic: 't', messages: [{ value: 'x' }] });
    expect(otel.spans()).toHaveLength(1);
  });

  it('logs and counts a failing hook without failing the send', async () => {
    const warnings: string[] = [];
    const producer = instrumentKafka(fakeKafka().kafka, {
      registry,
      logger: { warn: (m) => warnings.push(m) },
      producerHook: () => {
        throw new Error('hook bug');
      },
    }).producer();
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).resolves.toBeDefined();
    expect(warnings.join()).toContain('kafka.producerHook');
    expect(await metricValue(registry, METRIC.INSTRUMENTATION_ERRORS.name, { hook: 'kafka.producerHook' })).toBe(1);
  });
});

describe('Kafka consumer', () => {
  async function producedHeaders(): Promise<{ headers: Record<string, unknown>; spanId: string; traceId: string }> {
    const f = fakeKafka();
    await instrumentKafka(f.kafka, { registry }).producer().send({ topic: 't', messages: [{ value: 'x' }] });
    const span = otel.spans('send t').at(-1)!;
    return { headers: f.sent[0]!.messages[0]!.headers!, spanId: span.spanContext().spanId, traceId: span.spanContext().traceId };
  }

  it('eachMessage: a CONSUMER process span in the producer\'s trace, linked, with integer offset, key, partition and group', async () => {
    const produced = await producedHeaders();
    const f = fakeKafka();
    const consumer = instrumentKafka(f.kafka, { registry }).consumer({ groupId: 'inventory' });
    let activeInHandler: string | undefined;
    await consumer.run({
      eachMessage: async () => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      },
    });
    await f.runConfigs[0]!['eachMessage']!({ topic: 't', partition: 2, message: message(produced.headers, '41'), heartbeat: async () => undefined, pause: () => () => undefined });
    const span = otel.spans('process t')[0]!;
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe(produced.traceId);
    expect(span.parentSpanContext?.spanId).toBe(produced.spanId);
    expect(span.links.map((l) => l.context.spanId)).toEqual([produced.spanId]);
    expect(activeInHandler).toBe(span.spanContext().spanId);
    expect(span.attributes).toMatchObject({
      [ATTR.MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: '2',
      [ATTR.MESSAGING_KAFKA_OFFSET]: 41,
      [ATTR.MESSAGING_KAFKA_MESSAGE_KEY]: 'order-1',
      [ATTR.MESSAGING_CONSUMER_GROUP_NAME]: 'inventory',
    });
    const e2eCount = await metricValue(registry, METRIC.E2E_LATENCY.name, { stage: 'received', messaging_consumer_group_name: 'inventory' }, `${METRIC.E2E_LATENCY.name}_count`);
    expect(e2eCount).toBe(1);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
  });

  it('eachMessage in link mode starts a new trace that links to the producer', async () => {
    const produced = await producedHeaders();
    const f = fakeKafka();
    await instrumentKafka(f.kafka, { registry, processContext: 'link' }).consumer({ groupId: 'g' }).run({ eachMessage: async () => undefined });
    await f.runConfigs[0]!['eachMessage']!({ topic: 't', partition: 0, message: message(produced.headers, '1'), heartbeat: async () => undefined, pause: () => () => undefined });
    const span = otel.spans('process t')[0]!;
    expect(span.spanContext().traceId).not.toBe(produced.traceId);
    expect(span.links[0]?.context.spanId).toBe(produced.spanId);
  });

  it('a handler error reaches kafkajs unchanged and is recorded and counted', async () => {
    const f = fakeKafka();
    const boom = new TypeError('bad payload');
    await instrumentKafka(f.kafka, { registry }).consumer({ groupId: 'g' }).run({
      eachMessage: async () => {
        throw boom;
      },
    });
    await expect(f.runConfigs[0]!['eachMessage']!({ topic: 't', partition: 0, message: message({}, '7'), heartbeat: async () => undefined, pause: () => () => undefined })).rejects.toBe(boom);
    const span = otel.spans('process t')[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes[ATTR.ERROR_TYPE]).toBe('TypeError');
    expect(span.events.some((e) => e.name === 'exception')).toBe(true);
    // Consumed at delivery, whatever the handler did; the outcome is in processed.
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name)).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { error_type: 'TypeError' })).toBe(1);
  });

  it('eachBatch: one span linking every message; per-message spans time only their own work', async () => {
    const produced: Array<Awaited<ReturnType<typeof producedHeaders>>> = [];
    for (let i = 0; i < 4; i++) produced.push(await producedHeaders());
    otel.reset();
    const f = fakeKafka();
    await instrumentKafka(f.kafka, { registry }).consumer({ groupId: 'g' }).run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          await traceKafkaMessage(m, async () => {
            // The message's own trace is the active one here.
            expect(trace.getActiveSpan()?.spanContext().traceId).toBe(trace.getSpanContext(kafkaMessageContext(m))?.traceId);
            await new Promise((r) => setTimeout(r, 40));
          });
        }
      },
    });
    const messages = produced.map((p, i) => message(p.headers, String(100 + i)));
    await f.runConfigs[0]!['eachBatch']!({ batch: { topic: 't', partition: 1, messages }, resolveOffset: () => undefined, heartbeat: async () => undefined });
    const spans = otel.spans('process t');
    const batchSpan = spans.find((s) => s.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] === 4)!;
    const perMessage = spans.filter((s) => s !== batchSpan);
    expect(batchSpan.links.map((l) => l.context.traceId).sort()).toEqual(produced.map((p) => p.traceId).sort());
    expect(perMessage.map((s) => s.spanContext().traceId).sort()).toEqual(produced.map((p) => p.traceId).sort());
    const ms = (s: (typeof spans)[number]) => s.duration[0] * 1000 + s.duration[1] / 1e6;
    const total = perMessage.reduce((n, s) => n + ms(s), 0);
    for (const s of perMessage) {
      expect(s.links.some((l) => l.context.spanId === batchSpan.spanContext().spanId)).toBe(true);
      expect(ms(s)).toBeLessThan(ms(batchSpan) * 0.75);
      expect(s.attributes[ATTR.MESSAGING_KAFKA_OFFSET]).toBeGreaterThanOrEqual(100);
    }
    expect(total).toBeLessThanOrEqual(ms(batchSpan) + 1);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name)).toBe(4);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name)).toBe(4);
    expect(await metricValue(registry, METRIC.PROCESS_DURATION.name, {}, `${METRIC.PROCESS_DURATION.name}_count`)).toBe(1);
  });

  it('counts kafkajs instrumentation events, learns the group from GROUP_JOIN, and unsubscribes on uninstrument', async () => {
    const f = fakeKafka();
    const handle = kafkaHandle(f.kafka, { registry });
    f.kafka.consumer({ groupId: 'ignored-by-fake' });
    f.emit('consumer.group_join', { groupId: 'joined' });
    f.emit('consumer.commit_offsets', { groupId: 'joined' });
    f.emit('consumer.crash', { error: new Error('x'), groupId: 'joined', restart: true });
    expect(await metricValue(registry, METRIC.KAFKA_CONSUMER_EVENTS.name, { event: 'commit_offsets' })).toBe(1);
    expect(await metricValue(registry, METRIC.KAFKA_CONSUMER_EVENTS.name, { event: 'crash' })).toBe(1);
    expect(f.listenerCount('consumer.crash')).toBe(1);
    handle.uninstrument();
    expect(f.listenerCount('consumer.crash')).toBe(0);
    expect(context.active()).toBeDefined();
  });
});
