import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import * as amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { instrumentAmqp, instrumentKafka, readHeader } from '../../../instrumentation/index';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { createTopicsWithLeaders } from '../../support/topics';
import { countingProvider, installOtel } from '../../unit/instrumentation/otel-fixture';
import type { OtelFixture } from '../../unit/instrumentation/otel-fixture';
import { metricValue } from '../../unit/instrumentation/metric-values';

// followParentSampling across real brokers: an app sends to Kafka under an unsampled parent, a
// consumer of that topic publishes to RabbitMQ (a confirm channel), a RabbitMQ consumer reads it.
// With the option, what travels and what is exported must be what the SDK's ParentBased sampler
// (the SDK default, used here) gives without it; only SDK spans are saved.

let env: StartedEnvironment;
let otel: OtelFixture;
let connection: amqp.ChannelModel;
const consumers: Consumer[] = [];

const TRACE_ID = '5bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '10f067aa0ba902b7';

function parentContext(flags: number): Context {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: flags, isRemote: true });
}

beforeAll(async () => {
  otel = installOtel();
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy(false).start();
  connection = await amqp.connect(env.getAmqpUrl());
  connection.on('error', () => undefined);
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await connection?.close().catch(() => undefined);
  await env?.stop();
  await otel?.close();
});


interface Hop {
  /** The traceparent of the Kafka message the app sent. */
  kafkaTraceparent: string | undefined;
  /** The traceparent of the RabbitMQ message the Kafka consumer published. */
  amqpTraceparent: string | undefined;
  /** The span context active in the RabbitMQ consumer's handler. */
  lastHandlerTraceId: string | undefined;
  /** Spans exported in the message's trace. */
  exportedInTrace: number;
  /** Spans the instrumentation asked the SDK for. */
  started: number;
  registry: Registry;
  topic: string;
  queue: string;
}

/** The app → Kafka → consumer → RabbitMQ → consumer chain, instrumented with `follow`, under a parent with `flags`. */
async function chain(follow: boolean, flags: number): Promise<Hop> {
  otel.reset();
  const registry = new Registry();
  const counting = countingProvider();
  const options = { registry, followParentSampling: follow, tracerProvider: counting.provider };
  const topic = uniqueName('fps');
  const queue = uniqueName('fps-q');
  const kafka = instrumentKafka(new Kafka({ clientId: 'fps-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING }), { ...options, brokers: env.getKafkaBrokers() });
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsWithLeaders(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();

  const channel = instrumentAmqp(await connection.createConfirmChannel(), options);
  await channel.assertQueue(queue, { durable: false });
  const hop: Hop = { kafkaTraceparent: undefined, amqpTraceparent: undefined, lastHandlerTraceId: undefined, exportedInTrace: 0, started: 0, registry, topic, queue };

  await channel.consume(queue, (msg) => {
    if (!msg) return;
    hop.amqpTraceparent = readHeader(msg.properties.headers, 'traceparent');
    hop.lastHandlerTraceId = trace.getSpanContext(context.active())?.traceId;
    channel.ack(msg);
  });

  const consumer = kafka.consumer({ groupId: uniqueName('fps-g') });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      hop.kafkaTraceparent = readHeader(message.headers, 'traceparent');
      await new Promise<void>((resolve, reject) => channel.publish('', queue, Buffer.from('relayed'), {}, (err) => (err ? reject(err as Error) : resolve())));
    },
  });

  const producer = kafka.producer();
  await producer.connect();
  await context.with(parentContext(flags), () => producer.send({ topic, messages: [{ key: 'k', value: 'v' }] }));
  await waitFor(() => hop.amqpTraceparent !== undefined && hop.lastHandlerTraceId !== undefined, { description: 'the relayed message to reach the RabbitMQ consumer', timeoutMs: 30_000 });
  await waitFor(async () => (await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: queue })) === 1, { description: 'the RabbitMQ delivery to be counted as processed', timeoutMs: 10_000 });
  await producer.disconnect();
  await consumer.disconnect();
  await channel.close();
  await otel.provider.forceFlush();
  hop.exportedInTrace = otel.spans().filter((s) => s.spanContext().traceId === TRACE_ID).length;
  hop.started = counting.started();
  return hop;
}

function parts(traceparent: string | undefined): { traceId: string; spanId: string; flags: string } {
  const [, traceId, spanId, flags] = (traceparent ?? '').split('-');
  return { traceId: traceId ?? '', spanId: spanId ?? '', flags: flags ?? '' };
}

describe('followParentSampling across Kafka and RabbitMQ (real brokers, the SDK default ParentBased sampler)', () => {
  it('unsampled parent: with and without the option the same trace travels unsampled through both hops, nothing is exported, and every message is counted', async () => {
    const without = await chain(false, TraceFlags.NONE);
    const withOption = await chain(true, TraceFlags.NONE);
    for (const hop of [without, withOption]) {
      const k = parts(hop.kafkaTraceparent);
      const a = parts(hop.amqpTraceparent);
      expect([k.traceId, k.flags]).toEqual([TRACE_ID, '00']);
      expect([a.traceId, a.flags]).toEqual([TRACE_ID, '00']);
      // Each send made a span of its own (non-recording): a new id per hop, never the parent's.
      expect(k.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(a.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(new Set([PARENT_SPAN_ID, k.spanId, a.spanId]).size).toBe(3);
      expect(hop.lastHandlerTraceId).toBe(TRACE_ID);
      expect(hop.exportedInTrace).toBe(0);
      expect(await metricValue(hop.registry, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: hop.topic })).toBe(1);
      expect(await metricValue(hop.registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: hop.topic })).toBe(1);
      expect(await metricValue(hop.registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: hop.queue })).toBe(1);
    }
    // Without the option the SDK is asked for all four spans (and drops them); with it, for none.
    expect(without.started).toBe(4);
    expect(withOption.started).toBe(0);
  }, 120_000);

  it('sampled parent: the option changes nothing, every hop records its span in the parent\'s trace', async () => {
    const without = await chain(false, TraceFlags.SAMPLED);
    const withOption = await chain(true, TraceFlags.SAMPLED);
    for (const hop of [without, withOption]) {
      expect(parts(hop.kafkaTraceparent)).toMatchObject({ traceId: TRACE_ID, flags: '01' });
      expect(parts(hop.amqpTraceparent)).toMatchObject({ traceId: TRACE_ID, flags: '01' });
    }
    // Kafka send + process, RabbitMQ publish + process: the same spans either way.
    expect(withOption.exportedInTrace).toBe(without.exportedInTrace);
    expect(withOption.exportedInTrace).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
