import { ROOT_CONTEXT, SpanKind, TraceFlags, context, createTraceState, defaultTextMapGetter, propagation, trace } from '@opentelemetry/api';
import type { Context, SpanContext } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator, suppressTracing } from '@opentelemetry/core';
import fc from 'fast-check';
import type { Channel, ConfirmChannel } from 'amqplib';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { extractContext, instrumentAmqp, instrumentKafka, kafkaMessageContext, readHeader, traceKafkaMessage } from '../../../instrumentation/index';
import { extractParent, injectHeaders, isSpanContext, readProducedAt, unsampledProducer } from '../../../instrumentation/shared/header-codec';
import { messagingMetrics } from '../../../instrumentation/shared/metrics';
import { consumerGroupOf } from '../../../instrumentation/kafka/group-context';
import { METRIC } from '../../../semconv/index';
import { countingProvider, useOtel } from './otel-fixture';
import { metricValue } from './metric-values';

const otel = useOtel();

/** A W3C propagator under another class name: the instrumentation then takes the propagation API path. */
class RenamedTraceContext extends W3CTraceContextPropagator {}
const fastPropagator = () => new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
const apiPathPropagator = () => new CompositePropagator({ propagators: [new RenamedTraceContext(), new W3CBaggagePropagator()] });

function withPropagator<T>(make: () => CompositePropagator, fn: () => T): T {
  propagation.disable();
  propagation.setGlobalPropagator(make());
  try {
    return fn();
  } finally {
    propagation.disable();
    propagation.setGlobalPropagator(fastPropagator());
  }
}

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: n, maxLength: n });
/** Traceparents as they come: mostly valid, many almost valid (upper case, zeros, other versions, suffixes, spaces). */
const traceparentText = fc.oneof(
  fc.tuple(fc.constantFrom('00', '01', 'ff', 'cc'), hex(32), hex(16), hex(2), fc.constantFrom('', '-x', '-')).map(([v, t, s, f, rest]) => `${v}-${t}-${s}-${f}${rest}`),
  fc.tuple(hex(32), hex(16), fc.constantFrom('00', '01', 'ff', '1A')).map(([t, s, f]) => `00-${t}-${s}-${f}`),
  fc.constantFrom(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, ' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', ''),
  fc.string({ maxLength: 60 }),
);

function scOf(ctx: Context): Record<string, unknown> | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, isRemote: sc.isRemote, traceState: sc.traceState?.serialize() };
}

describe('W3C fast paths agree with the propagators', () => {
  it('an unsampled producer told from the traceparent bytes alone is one extractParent gives as absent or unsampled', () => {
    let decided = 0;
    fc.assert(
      fc.property(traceparentText, fc.boolean(), fc.option(fc.constantFrom('a=1'), { nil: undefined }), fc.option(fc.constantFrom('k=v'), { nil: undefined }), (tp, asBytes, state, baggage) => {
        const text: Record<string, string> = { traceparent: tp };
        if (state !== undefined) text['tracestate'] = state;
        if (baggage !== undefined) text['baggage'] = baggage;
        const headers: Record<string, unknown> = asBytes ? Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.from(v)])) : { ...text };
        if (!unsampledProducer(headers)) return;
        decided++;
        const parent = extractParent(headers);
        const sc = parent === null ? undefined : isSpanContext(parent) ? parent : trace.getSpanContext(parent);
        if (sc !== undefined && trace.isSpanContextValid(sc)) expect(sc.traceFlags & TraceFlags.SAMPLED).toBe(0);
      }),
      { numRuns: 500 },
    );
    // The property was exercised, not skipped on every run.
    expect(decided).toBeGreaterThan(5);
    const bytes = (s: string) => Buffer.from(s);
    expect(unsampledProducer({ traceparent: bytes('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') })).toBe(false);
    expect(unsampledProducer({ traceparent: bytes('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00') })).toBe(true);
    // tracestate and baggage do not change the flags; invalid ids or flags give no context at all.
    expect(unsampledProducer({ traceparent: bytes('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'), tracestate: bytes('a=1'), baggage: bytes('k=v') })).toBe(true);
    expect(unsampledProducer({ traceparent: bytes(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`) })).toBe(false);
    expect(unsampledProducer({ traceparent: bytes(`00-${'0'.repeat(32)}-00f067aa0ba902b7-00`) })).toBe(true);
    expect(unsampledProducer({ traceparent: bytes('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0X') })).toBe(true);
    // Text, a case variant, another layout or another propagator: only extractParent can tell.
    expect(unsampledProducer({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' })).toBe(false);
    expect(unsampledProducer({ TraceParent: bytes('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00') })).toBe(false);
    expect(unsampledProducer({ traceparent: bytes('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00') })).toBe(false);
    expect(withPropagator(apiPathPropagator, () => unsampledProducer({ traceparent: bytes('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00') }))).toBe(false);
  });

  it('extraction: the same span context as the W3C propagator, for text and byte headers, with or without tracestate and baggage', () => {
    const reference = new W3CTraceContextPropagator();
    fc.assert(
      fc.property(traceparentText, fc.boolean(), fc.option(fc.constantFrom('a=1', 'b=2,c=3'), { nil: undefined }), fc.option(fc.constantFrom('k=v'), { nil: undefined }), (tp, asBytes, state, baggage) => {
        const text: Record<string, string> = { traceparent: tp };
        if (state !== undefined) text['tracestate'] = state;
        if (baggage !== undefined) text['baggage'] = baggage;
        const headers: Record<string, unknown> = asBytes ? Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.from(v)])) : { ...text };
        const expected = scOf(reference.extract(ROOT_CONTEXT, text, defaultTextMapGetter));
        expect(scOf(extractContext(headers))).toEqual(expected);
        // And the same as the instrumentation's own propagation-API path.
        expect(withPropagator(apiPathPropagator, () => scOf(extractContext(headers)))).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('extraction from bytes: a traceparent with any one byte changed gives what the propagator gives for its UTF-8 text', () => {
    const reference = new W3CTraceContextPropagator();
    const valid = fc.tuple(hex(32), hex(16), fc.constantFrom('00', '01', '03', 'ff')).map(([t, sp, f]) => `00-${t}-${sp}-${f}`);
    fc.assert(
      fc.property(valid, fc.nat(54), fc.integer({ min: 0, max: 255 }), fc.boolean(), (tp, at, byte, change) => {
        const bytes = Buffer.from(tp);
        if (change) bytes[at] = byte;
        const expected = scOf(reference.extract(ROOT_CONTEXT, { traceparent: bytes.toString('utf8') }, defaultTextMapGetter));
        expect(scOf(extractContext({ traceparent: bytes }))).toEqual(expected);
      }),
      { numRuns: 600 },
    );
  });

  it('injection: the same headers, keys in the same order, as the propagation-API path', () => {
    const contexts: Context[] = [
      ROOT_CONTEXT,
      trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED }),
      trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE, traceState: createTraceState('v=1') }),
      // Unsampled without tracestate, and flags beyond the sampled bit (the fast path's literal and its flags text).
      trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE }),
      trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 3 }),
      propagation.setBaggage(trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }), propagation.createBaggage({ k: { value: 'v' } })),
    ];
    const appHeaders = fc.option(
      fc.dictionary(fc.constantFrom('x-app', 'id', 'traceparent', 'TraceParent', 'tracestate', 'baggage', 'eda-produced-at', 'other'), fc.oneof(fc.string({ maxLength: 8 }), fc.constant(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)), { maxKeys: 4 }),
      { nil: undefined },
    );
    fc.assert(
      fc.property(appHeaders, fc.constantFrom(...contexts), fc.option(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), { nil: undefined }), (headers, ctx, at) => {
        const fast = injectHeaders(headers === undefined ? undefined : { ...headers }, ctx, at);
        const slow = withPropagator(apiPathPropagator, () => injectHeaders(headers === undefined ? undefined : { ...headers }, ctx, at));
        expect(Object.entries(fast as object)).toEqual(Object.entries(slow as object));
      }),
      { numRuns: 300 },
    );
  });

  it('produced-at: digits read from bytes or text give what the general rule gives', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), minLength: 1, maxLength: 20 }), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }).map(String), fc.string({ maxLength: 20 })), fc.boolean(), (text, asBytes) => {
        const n = Number(text.trim());
        const expected = text.length <= 20 && Number.isSafeInteger(n) && n > 978_307_200_000 ? n : undefined;
        expect(readProducedAt({ 'eda-produced-at': asBytes ? Buffer.from(text) : text })).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });
});


const UNSAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
const SAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function fakeKafka() {
  const sent: Array<{ topic: string; messages: Array<{ headers?: Record<string, unknown> }> }> = [];
  const runConfigs: Array<Record<string, (payload: unknown) => Promise<void>>> = [];
  const kafka = {
    producer: () => ({
      send: async (record: { topic: string; messages: Array<{ headers?: Record<string, unknown> }> }) => {
        sent.push(record);
        return [];
      },
      sendBatch: async () => [],
      transaction: async () => ({}),
    }),
    consumer: () => ({
      run: async (config: Record<string, (payload: unknown) => Promise<void>>) => {
        runConfigs.push(config);
      },
    }),
  } as unknown as Kafka;
  return { kafka, sent, runConfigs };
}

function kafkaMessage(traceparent: string, offset: string): KafkaMessage {
  return { key: Buffer.from('k'), value: Buffer.from('{}'), timestamp: String(Date.now()), attributes: 0, offset, size: 0, headers: { traceparent: Buffer.from(traceparent), 'eda-produced-at': Buffer.from(String(Date.now() - 3)) } } as unknown as KafkaMessage;
}

describe('followParentSampling and linkProducerParent', () => {
  it.each([false, true])('Kafka eachMessage, unsampled parent, followParentSampling=%s: the same trace goes downstream unsampled, metrics as always; with the option no span is started', async (follow) => {
    const registry = new Registry();
    const { provider, started } = countingProvider();
    const f = fakeKafka();
    const kafka = instrumentKafka(f.kafka, { registry, tracerProvider: provider, followParentSampling: follow });
    const producer = kafka.producer();
    let active: SpanContext | undefined;
    await kafka.consumer({ groupId: 'g' }).run({
      eachMessage: async () => {
        active = trace.getActiveSpan()?.spanContext();
        await producer.send({ topic: 'downstream', messages: [{ value: 'x' }] });
      },
    });
    const before = started();
    await f.runConfigs[0]!['eachMessage']!({ topic: 't', partition: 0, message: kafkaMessage(UNSAMPLED_PARENT, '7'), heartbeat: async () => undefined, pause: () => () => undefined });
    // With the option no SDK span at all: no process span, and the downstream send's span is made
    // as a ParentBased sampler would (non-recording, a new span id) without the SDK.
    expect(started() - before).toBe(follow ? 0 : 2);
    expect(active?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(active?.traceFlags).toBe(TraceFlags.NONE);
    const downstream = readHeader(f.sent[0]!.messages[0]!.headers, 'traceparent');
    expect(downstream).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    expect(downstream).not.toContain('00f067aa0ba902b7');
    expect(otel.spans()).toHaveLength(0);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 't' })).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 't' })).toBe(1);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name, { messaging_destination_name: 't' })).toBe(0);
    expect(await metricValue(registry, METRIC.E2E_LATENCY.name, { messaging_destination_name: 't', stage: 'processed' }, `${METRIC.E2E_LATENCY.name}_count`)).toBe(1);
  });

  it.each([false, true])('Kafka eachBatch, followParentSampling=%s: the batch span links every producer, or with the option only the sampled ones; counting as always', async (follow) => {
    const registry = new Registry();
    const f = fakeKafka();
    const kafka = instrumentKafka(f.kafka, { registry, followParentSampling: follow });
    await kafka.consumer({ groupId: 'g' }).run({ eachBatch: async () => undefined });
    const unsampled = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`;
    const messages = [kafkaMessage(SAMPLED_PARENT, '1'), kafkaMessage(unsampled, '2'), kafkaMessage(SAMPLED_PARENT.replace('00f067aa0ba902b7', '3'.repeat(16)), '3')];
    await f.runConfigs[0]!['eachBatch']!({ batch: { topic: 't', partition: 0, messages }, resolveOffset: () => undefined, heartbeat: async () => undefined });
    const [span] = otel.spans('process t');
    expect(span?.links.map((l) => l.context.spanId)).toEqual(follow ? ['00f067aa0ba902b7', '3'.repeat(16)] : ['00f067aa0ba902b7', '2'.repeat(16), '3'.repeat(16)]);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 't' })).toBe(3);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 't' })).toBe(3);
  });

  it('Kafka eachMessage with an unsampled parent and the opt-in: the handler sees what the W3C propagator extracts, and its group, for any header the producer wrote', async () => {
    const reference = new W3CTraceContextPropagator();
    const f = fakeKafka();
    const kafka = instrumentKafka(f.kafka, { registry: new Registry(), followParentSampling: true });
    type Seen = { sc: Record<string, unknown> | undefined; group: string | undefined };
    const handler: { seen?: Seen } = {};
    await kafka.consumer({ groupId: 'g-prop' }).run({
      eachMessage: async () => {
        handler.seen = { sc: scOf(context.active()), group: consumerGroupOf(context.active()) };
      },
    });
    const unsampled = fc.tuple(hex(32), hex(16)).map(([t, s]) => `00-${t}-${s}-00`);
    await fc.assert(
      fc.asyncProperty(fc.oneof(unsampled, traceparentText), fc.boolean(), fc.option(fc.constantFrom('a=1', 'b=2,c=3'), { nil: undefined }), fc.constantFrom('traceparent', 'TraceParent'), async (tp, asBytes, state, key) => {
        const text: Record<string, string> = { [key]: tp };
        if (state !== undefined) text['tracestate'] = state;
        const headers = asBytes ? Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.from(v)])) : { ...text };
        const expected = scOf(reference.extract(ROOT_CONTEXT, { ...text, traceparent: tp }, defaultTextMapGetter));
        delete handler.seen;
        const message = { ...kafkaMessage(SAMPLED_PARENT, '5'), headers };
        await f.runConfigs[0]!['eachMessage']!({ topic: 't', partition: 0, message, heartbeat: async () => undefined, pause: () => () => undefined });
        const seen = handler.seen as Seen | undefined;
        expect(seen?.group).toBe('g-prop');
        // Unsampled: the handler runs in the producer's context itself; otherwise in a process span under it.
        if (expected !== undefined && expected['traceFlags'] === TraceFlags.NONE) expect(seen?.sc).toEqual(expected);
        else if (expected !== undefined) expect(seen?.sc).toMatchObject({ traceId: expected['traceId'] });
        else expect(seen?.sc?.['traceId']).not.toBe(undefined);
      }),
      { numRuns: 300 },
    );
  });

  it('Kafka eachBatch with the opt-in: a producer the batch span does not link is still read when the handler asks for its context or traces it; traceKafkaMessage starts no span for it and counts it', async () => {
    const f = fakeKafka();
    const registry = new Registry();
    const { provider, started } = countingProvider();
    const kafka = instrumentKafka(f.kafka, { registry, tracerProvider: provider, followParentSampling: true });
    const unsampled = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`;
    const seen: (SpanContext | undefined)[] = [];
    await kafka.consumer({ groupId: 'g' }).run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push(trace.getSpanContext(kafkaMessageContext(m)));
        await traceKafkaMessage(batch.messages[1]!, () => seen.push(trace.getActiveSpan()?.spanContext()));
      },
    });
    const messages = [kafkaMessage(SAMPLED_PARENT, '1'), kafkaMessage(unsampled, '2')];
    await f.runConfigs[0]!['eachBatch']!({ batch: { topic: 't', partition: 0, messages }, resolveOffset: () => undefined, heartbeat: async () => undefined });
    // traceKafkaMessage too runs fn in the unsampled producer's own context, without a span of its own.
    expect(seen.map((sc) => sc?.spanId)).toEqual(['00f067aa0ba902b7', '2'.repeat(16), '2'.repeat(16)]);
    expect(seen.map((sc) => sc?.traceFlags)).toEqual([TraceFlags.SAMPLED, TraceFlags.NONE, TraceFlags.NONE]);
    expect(seen[2]?.traceId).toBe('1'.repeat(32));
    // One span: the batch's. Both messages processed (one by traceKafkaMessage, one by the batch's end).
    expect(started()).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 't' })).toBe(2);
  });

  it('Kafka eachMessage, sampled parent: followParentSampling changes nothing; linkProducerParent=false drops only the link', async () => {
    for (const linkProducerParent of [true, false]) {
      otel.reset();
      const f = fakeKafka();
      const kafka = instrumentKafka(f.kafka, { registry: new Registry(), followParentSampling: true, linkProducerParent });
      await kafka.consumer({ groupId: 'g' }).run({ eachMessage: async () => undefined });
      await f.runConfigs[0]!['eachMessage']!({ topic: 't', partition: 3, message: kafkaMessage(SAMPLED_PARENT, '9'), heartbeat: async () => undefined, pause: () => () => undefined });
      const [span] = otel.spans();
      expect(span?.kind).toBe(SpanKind.CONSUMER);
      expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
      expect(span?.links.map((l) => l.context.spanId)).toEqual(linkProducerParent ? ['00f067aa0ba902b7'] : []);
      // Set after the sampling decision, on the recording span: the offset, the key, the group.
      expect(span?.attributes).toMatchObject({ 'messaging.kafka.offset': 9, 'messaging.kafka.message.key': 'k', 'messaging.consumer.group.name': 'g', 'messaging.destination.partition.id': '3' });
    }
  });

  it('AMQP consume, unsampled parent, followParentSampling: no span, the producer context in the handler, the delivery counted and settled', async () => {
    const registry = new Registry();
    const { provider, started } = countingProvider();
    let onMessage: ((msg: unknown) => void) | undefined;
    const channel = {
      publish: () => true,
      consume: (_q: string, cb: (msg: unknown) => void) => {
        onMessage = cb;
        return Promise.resolve({ consumerTag: 'c' });
      },
      ack: () => undefined,
      nack: () => undefined,
      reject: () => undefined,
      ackAll: () => undefined,
      nackAll: () => undefined,
      get: () => Promise.resolve(false),
      assertQueue: (queue: string) => Promise.resolve({ queue }),
      on: () => undefined,
      removeListener: () => undefined,
    } as unknown as Channel;
    instrumentAmqp(channel, { registry, tracerProvider: provider, followParentSampling: true });
    let active: SpanContext | undefined;
    await channel.consume('orders', (msg) => {
      active = trace.getSpanContext(context.active());
      channel.ack(msg!);
    });
    onMessage!({ content: Buffer.from('{}'), fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'orders', consumerTag: 'c' }, properties: { headers: { traceparent: UNSAMPLED_PARENT, 'eda-produced-at': String(Date.now() - 2) } } });
    expect(started()).toBe(0);
    expect(active?.spanId).toBe('00f067aa0ba902b7');
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 'orders' })).toBe(1);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name, { messaging_destination_name: 'orders' })).toBe(0);
  });
});

describe('followParentSampling on the send paths', () => {
  interface Sent {
    headers: Array<{ traceparent: string | undefined; tracestate: string | undefined }>;
    started: number;
    exported: number;
  }

  /** Publishes, sends to a queue, confirm-publishes and Kafka-sends (one topic, and two in a sendBatch) under `parent`. */
  async function sendAll(parent: Context, follow: boolean): Promise<Sent> {
    otel.reset();
    const { provider, started } = countingProvider();
    const published: Array<Record<string, unknown> | undefined> = [];
    const plain = {
      publish: (_e: string, _k: string, _c: Buffer, o?: { headers?: Record<string, unknown> }) => published.push(o?.headers) > 0,
      sendToQueue(this: { publish: (...a: unknown[]) => boolean }, q: string, c: Buffer, o?: unknown) {
        return this.publish('', q, c, o);
      },
      consume: () => Promise.resolve({ consumerTag: 'c' }),
      ack: () => undefined,
      nack: () => undefined,
      reject: () => undefined,
      on: () => undefined,
      removeListener: () => undefined,
    };
    const confirm = { ...plain, publish: (_e: string, _k: string, _c: Buffer, o: { headers?: Record<string, unknown> } | undefined, cb: (err: unknown) => void) => (published.push(o?.headers), cb(null), true), waitForConfirms: async () => undefined };
    const options = { registry: new Registry(), tracerProvider: provider, followParentSampling: follow };
    const ch = instrumentAmqp(plain as unknown as Channel, options);
    const cch = instrumentAmqp(confirm as unknown as ConfirmChannel, options);
    const f = fakeKafka();
    const sentBatches: Array<{ topicMessages: Array<{ messages: Array<{ headers?: Record<string, unknown> }> }> }> = [];
    const producer = instrumentKafka(f.kafka, options).producer();
    await context.with(parent, async () => {
      ch.publish('orders-x', 'eu', Buffer.from('{}'), { headers: { 'x-app': 'kept' } });
      ch.sendToQueue('orders', Buffer.from('{}'));
      cch.publish('orders-x', 'eu', Buffer.from('{}'), {}, () => undefined);
      await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b', headers: { 'x-app': 'kept' } }] });
    });
    const f2 = fakeKafka();
    const k2 = instrumentKafka({ ...f2.kafka, producer: () => ({ ...f2.kafka.producer(), sendBatch: async (b: (typeof sentBatches)[number]) => (sentBatches.push(b), []) }) } as unknown as Kafka, { ...options, perMessageCreateSpans: true });
    await context.with(parent, () => k2.producer().sendBatch({ topicMessages: [{ topic: 'a', messages: [{ value: 'x' }] }, { topic: 'b', messages: [{ value: 'y' }] }] }));
    const kafkaHeaders = [...f.sent.flatMap((r) => r.messages), ...sentBatches.flatMap((b) => b.topicMessages.flatMap((t) => t.messages))].map((m) => m.headers);
    const all = [...published, ...kafkaHeaders].map((h) => ({ traceparent: h && readHeader(h, 'traceparent'), tracestate: h && readHeader(h, 'tracestate') }));
    return { headers: all, started: started(), exported: otel.spans().length };
  }

  const parentArb = fc.record({
    traceId: fc.oneof(hex(32), fc.constant('0'.repeat(32))),
    spanId: fc.oneof(hex(16), fc.constant('0'.repeat(16))),
    traceFlags: fc.constantFrom(0, 1, 2, 3),
    state: fc.option(fc.constantFrom('a=1', 'vendor=x,b=2'), { nil: undefined }),
    remote: fc.boolean(),
    suppressed: fc.boolean(),
  });

  it('inject what the SDK non-recording span would (same trace, unsampled, tracestate; a new span id), export the same spans, and start none for a valid unsampled parent', async () => {
    await fc.assert(
      fc.asyncProperty(parentArb, async (p) => {
        let parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: p.traceId, spanId: p.spanId, traceFlags: p.traceFlags, isRemote: p.remote, ...(p.state ? { traceState: createTraceState(p.state) } : {}) });
        if (p.suppressed) parent = suppressTracing(parent);
        const parentValid = trace.isSpanContextValid({ traceId: p.traceId, spanId: p.spanId, traceFlags: 0 });
        const sdk = await sendAll(parent, false);
        const fast = await sendAll(parent, true);
        expect(fast.exported).toBe(sdk.exported);
        expect(fast.headers).toHaveLength(sdk.headers.length);
        fast.headers.forEach((h, i) => {
          const ref = sdk.headers[i]!;
          expect(h.tracestate).toBe(ref.tracestate);
          expect(h.traceparent === undefined).toBe(ref.traceparent === undefined);
          if (h.traceparent === undefined || ref.traceparent === undefined) return;
          const [v, t, s, fl] = h.traceparent.split('-');
          const [rv, rt, , rfl] = ref.traceparent.split('-');
          expect([v, fl]).toEqual([rv, rfl]);
          // An invalid parent: both start a new trace (ids of their own); a valid one: its trace.
          if (parentValid) expect(t).toBe(rt);
          else expect([t, rt]).not.toContain(p.traceId);
          expect(s).toMatch(/^[0-9a-f]{16}$/);
          expect(s).not.toBe('0'.repeat(16));
          expect(s).not.toBe(p.spanId);
        });
        const validUnsampled = !p.suppressed && (p.traceFlags & 1) === 0 && parentValid;
        if (validUnsampled) {
          expect(fast.started).toBe(0);
          expect(sdk.exported).toBe(0);
          expect(fast.headers.every((h) => h.traceparent?.startsWith(`00-${p.traceId}-`) && h.traceparent.endsWith('-00'))).toBe(true);
        } else {
          expect(fast.started).toBe(sdk.started);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a new span id per send, never the parent\'s', async () => {
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE });
    const ids = (await sendAll(parent, true)).headers.map((h) => h.traceparent?.split('-')[2]);
    // One span per AMQP publish (3), one for the Kafka send of two messages, one create span per
    // message of the sendBatch (2), each with an id of its own.
    expect(ids).toHaveLength(7);
    expect(ids[3]).toBe(ids[4]);
    expect(new Set(ids).size).toBe(6);
    expect(ids).not.toContain(undefined);
    expect(ids).not.toContain('00f067aa0ba902b7');
  });
});

describe('metric cells', () => {
  it('keep counting into the exposed series after a registry reset and across collections', async () => {
    const registry = new Registry();
    const m = messagingMetrics({ registry });
    const labels = Object.freeze({ messaging_system: 'kafka', messaging_operation_name: 'process', messaging_destination_name: 'cells' });
    const counter = m.cell('CONSUMED_MESSAGES', labels);
    const histogram = m.cell('PROCESS_DURATION', labels);
    counter.add(2);
    histogram.observe(0.01, undefined);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 'cells' })).toBe(2);
    counter.add(3);
    counter.add(-1); // a counter never goes down
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 'cells' })).toBe(5);
    registry.resetMetrics();
    histogram.observe(0.02, undefined);
    counter.add(1);
    expect(await metricValue(registry, `${METRIC.PROCESS_DURATION.name}`, { messaging_destination_name: 'cells' }, `${METRIC.PROCESS_DURATION.name}_count`)).toBe(1);
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: 'cells' })).toBe(1);
  });
});
