import { trace } from '@opentelemetry/api';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { instrumentKafka, startTelemetry, traceKafkaMessage } from '../../../instrumentation/index';
import type { TelemetryHandle } from '../../../instrumentation/index';
import { ATTR, METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { OTLP_KIND, OTLP_STATUS_ERROR, durationMs, receivedSpans, startOtlpReceiver } from './otlp-receiver';
import type { OtlpReceiver, ReceivedSpan } from './otlp-receiver';
import { sample } from '../../support/exposition';
import { scrape } from './scrape';
import { OtlpJsonHttpExporter } from './otlp-json-exporter';

class PoisonError extends Error {}

let env: StartedEnvironment;
let receiver: OtlpReceiver;
let telemetry: TelemetryHandle;
let registry: Registry<OpenMetricsContentType>;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];
/** Errors kafkajs itself logged as thrown by eachMessage: proves what reached kafkajs. */
const handlerErrorsSeenByKafkajs: unknown[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // OpenMetrics, so histograms carry trace exemplars on /metrics.
  registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  // OTLP/HTTP JSON to the in-test receiver (see OtlpJsonHttpExporter for why not the stock exporter in Jest).
  telemetry = await startTelemetry({ serviceName: 'kafka-it', metricsPort: 0, metricsHost: '127.0.0.1', registry, traceExporter: new OtlpJsonHttpExporter(receiver.url) });
  env = await new Environment().withKafka().withToxiproxy(false).start();
  const brokers = env.getKafkaBrokers();
  kafka = instrumentKafka(
    new Kafka({
      clientId: 'instrumentation-it',
      brokers,
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => {
        if (entry.log.message === 'Error when calling eachMessage') handlerErrorsSeenByKafkajs.push((entry.log as { error?: unknown }).error);
      },
    }),
    { registry, brokers, clientId: 'instrumentation-it' },
  );
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await telemetry?.shutdown();
  await env?.stop();
  await receiver?.close();
});

async function topicWithGroup(prefix: string): Promise<{ topic: string; groupId: string }> {
  const topic = uniqueName(prefix);
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  return { topic, groupId: uniqueName(`${prefix}-group`) };
}

async function startConsumer(groupId: string, topic: string, config: Parameters<Consumer['run']>[0]): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, retry: { initialRetryTime: 100, retries: 3 } });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run(config);
  return consumer;
}

/** Flushes the SDK and waits until the receiver holds spans matching `predicate`. */
function exported(description: string, predicate: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  return receivedSpans(receiver, description, predicate, { flush: () => telemetry.forceFlush() });
}

describe('kafkajs instrumentation against a real broker, spans over OTLP/HTTP', () => {
  it('eachMessage: the consumer span is in the producer\'s trace with the semconv attributes, and e2e latency is plausible', async () => {
    const { topic, groupId } = await topicWithGroup('it-each');
    const tracer = trace.getTracer('it');
    const appSpan = tracer.startSpan('place order');
    const sentAt = Date.now();
    await trace.getTracer('it').startActiveSpan('place order scope', async (scope) => {
      await producer.send({ topic, messages: [{ key: 'order-42', value: JSON.stringify({ id: 42 }) }] });
      scope.end();
    });
    appSpan.end();
    const received: string[] = [];
    await startConsumer(groupId, topic, {
      eachMessage: async ({ message }) => {
        received.push(String(message.value));
      },
    });
    await waitFor(() => received.length === 1, { description: 'the message to be consumed', timeoutMs: 60_000 });
    const spans = await exported('send and process spans', (s) => s.some((x) => x.name === `process ${topic}`) && s.some((x) => x.name === `send ${topic}`));
    const send = spans.find((s) => s.name === `send ${topic}`)!;
    const processSpan = spans.find((s) => s.name === `process ${topic}`)!;
    expect(receiver.contentTypes.has('application/json')).toBe(true);
    expect(send.serviceName).toBe('kafka-it');
    expect(send.kind).toBe(OTLP_KIND.PRODUCER);
    expect(processSpan.kind).toBe(OTLP_KIND.CONSUMER);
    expect(processSpan.traceId).toBe(send.traceId);
    expect(processSpan.parentSpanId).toBe(send.spanId);
    expect(processSpan.links).toEqual([{ traceId: send.traceId, spanId: send.spanId }]);
    expect(processSpan.attributes).toMatchObject({
      [ATTR.MESSAGING_SYSTEM]: 'kafka',
      [ATTR.MESSAGING_OPERATION_NAME]: 'process',
      [ATTR.MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR.MESSAGING_DESTINATION_NAME]: topic,
      [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: '0',
      [ATTR.MESSAGING_CONSUMER_GROUP_NAME]: groupId,
      [ATTR.MESSAGING_KAFKA_OFFSET]: 0,
      [ATTR.MESSAGING_KAFKA_MESSAGE_KEY]: 'order-42',
      [ATTR.MESSAGING_CLIENT_ID]: 'instrumentation-it',
    });
    expect(typeof processSpan.attributes[ATTR.SERVER_PORT]).toBe('number');
    expect(send.attributes).toMatchObject({ [ATTR.MESSAGING_OPERATION_TYPE]: 'send', [ATTR.MESSAGING_DESTINATION_NAME]: topic });

    const text = await scrape(telemetry.metricsUrl!);
    const labels = { messaging_destination_name: topic, messaging_consumer_group_name: groupId, stage: 'received' };
    expect(sample(text, `${METRIC.E2E_LATENCY.name}_count`, labels)).toBe(1);
    const latency = sample(text, `${METRIC.E2E_LATENCY.name}_sum`, labels);
    // Produced before the consumer even joined the group: positive, and bounded by the test's own duration.
    expect(latency).toBeGreaterThan(0);
    expect(latency).toBeLessThanOrEqual((Date.now() - sentAt) / 1000);
    // A latency sample leads to its trace: the bucket's exemplar names the process span.
    const exemplarLine = text.split('\n').find((l) => l.startsWith(`${METRIC.E2E_LATENCY.name}_bucket{`) && l.includes(`messaging_destination_name="${topic}"`) && l.includes(' # {'));
    expect(exemplarLine).toContain(`trace_id="${processSpan.traceId}"`);
    expect(exemplarLine).toContain(`span_id="${processSpan.spanId}"`);
    expect(sample(text, METRIC.SENT_MESSAGES.name, { messaging_destination_name: topic })).toBe(1);
    expect(sample(text, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: topic, messaging_consumer_group_name: groupId })).toBe(1);
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: topic, messaging_consumer_group_name: groupId, messaging_operation_name: 'process' })).toBe(1);
    expect(sample(text, `${METRIC.PROCESS_DURATION.name}_count`, { messaging_destination_name: topic })).toBe(1);
    expect(sample(text, METRIC.KAFKA_CONSUMER_EVENTS.name, { messaging_consumer_group_name: groupId, event: 'group_join' })).toBeGreaterThanOrEqual(1);
    await waitFor(async () => sample(await scrape(telemetry.metricsUrl!), METRIC.KAFKA_CONSUMER_EVENTS.name, { messaging_consumer_group_name: groupId, event: 'commit_offsets' }) >= 1, {
      description: 'an offset commit to be counted from kafkajs events',
      timeoutMs: 30_000,
    });
  });

  it('eachBatch: every producer trace is reachable from the batch span, and per-message spans carry their own timing', async () => {
    const { topic, groupId } = await topicWithGroup('it-batch');
    const sends = 5;
    for (let i = 0; i < sends; i++) await producer.send({ topic, messages: [{ key: `k${i}`, value: String(i) }] });
    const done: string[] = [];
    await startConsumer(groupId, topic, {
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          await traceKafkaMessage(m, async () => {
            await new Promise((r) => setTimeout(r, 60)); // the message's own work
          });
          done.push(m.offset);
        }
      },
    });
    await waitFor(() => done.length === sends, { description: 'all messages to be processed', timeoutMs: 60_000 });
    const spans = await exported('batch and per-message spans', (s) => s.filter((x) => x.name === `process ${topic}` && x.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] === undefined).length === sends);
    const sendSpans = spans.filter((s) => s.name === `send ${topic}`);
    const processSpans = spans.filter((s) => s.name === `process ${topic}`);
    const batchSpans = processSpans.filter((s) => s.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] !== undefined);
    const perMessage = processSpans.filter((s) => !batchSpans.includes(s));
    expect(sendSpans).toHaveLength(sends);
    expect(batchSpans.length).toBeGreaterThanOrEqual(1);
    const linkedTraces = new Set(batchSpans.flatMap((b) => b.links.map((l) => l.traceId)));
    for (const send of sendSpans) {
      expect(linkedTraces.has(send.traceId)).toBe(true); // reachable from the batch processing
      const own = perMessage.filter((p) => p.traceId === send.traceId);
      expect(own).toHaveLength(1);
      expect(own[0]!.parentSpanId).toBe(send.spanId);
      const batch = batchSpans.find((b) => own[0]!.links.some((l) => l.spanId === b.spanId))!;
      expect(batch).toBeDefined();
      // Its own ~60 ms, not the batch's duration.
      expect(durationMs(own[0]!)).toBeGreaterThanOrEqual(55);
      if (batch.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] !== 1) expect(durationMs(own[0]!)).toBeLessThan(durationMs(batch));
    }
    for (const batch of batchSpans) {
      const inside = perMessage.filter((p) => p.links.some((l) => l.spanId === batch.spanId));
      expect(inside.length).toBe(batch.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT]);
      expect(inside.reduce((n, p) => n + durationMs(p), 0)).toBeLessThanOrEqual(durationMs(batch) + 1);
    }
    const text = await scrape(telemetry.metricsUrl!);
    expect(sample(text, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: topic })).toBe(sends);
    // Each traced on its own and successful: processed once each, not again by the batch.
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: topic })).toBe(sends);
    expect(sample(text, `${METRIC.E2E_LATENCY.name}_count`, { messaging_destination_name: topic, stage: 'processed' })).toBe(sends);
  });

  it('a handler that throws: kafkajs gets the very same error, the span records it, the counters count it', async () => {
    const { topic, groupId } = await topicWithGroup('it-throw');
    await producer.send({ topic, messages: [{ value: 'poison' }] });
    const boom = new PoisonError('cannot parse order');
    let attempts = 0;
    await startConsumer(groupId, topic, {
      eachMessage: async () => {
        attempts++;
        if (attempts === 1) throw boom; // kafkajs retries; the second attempt succeeds
      },
    });
    await waitFor(() => attempts >= 2, { description: 'the retry after the failure', timeoutMs: 60_000 });
    expect(handlerErrorsSeenByKafkajs).toContain(boom);
    const spans = await exported('the failed and the retried process spans', (s) => s.filter((x) => x.name === `process ${topic}`).length >= 2);
    const processSpans = spans.filter((s) => s.name === `process ${topic}`);
    const failed = processSpans.filter((s) => s.status.code === OTLP_STATUS_ERROR);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attributes[ATTR.ERROR_TYPE]).toBe('PoisonError');
    expect(failed[0]!.events.map((e) => e.name)).toContain('exception');
    const text = await scrape(telemetry.metricsUrl!);
    // Consumed at each delivery (twice); processed once failed, once not.
    expect(sample(text, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: topic })).toBe(2);
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: topic, error_type: 'PoisonError' })).toBe(1);
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: topic })).toBe(2);
    expect(sample(text, `${METRIC.PROCESS_DURATION.name}_count`, { messaging_destination_name: topic, error_type: 'PoisonError' })).toBe(1);
    // The retry re-consumed offset 0: one redelivery.
    expect(sample(text, METRIC.REDELIVERIES.name, { messaging_destination_name: topic })).toBe(1);
  });

  it('traces sends inside a transaction', async () => {
    const { topic } = await topicWithGroup('it-tx');
    const txProducer = kafka.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    try {
      const tx = await txProducer.transaction();
      await tx.send({ topic, messages: [{ value: 'in-tx' }] });
      await tx.commit();
    } finally {
      await txProducer.disconnect();
    }
    const spans = await exported('transaction spans', (s) => s.some((x) => x.name === `send ${topic}`));
    const send = spans.find((s) => s.name === `send ${topic}`)!;
    const tx = spans.find((s) => s.spanId === send.parentSpanId)!;
    expect(tx.name).toBe('transaction');
    expect(tx.events.map((e) => e.name)).toContain('commit');
  });
});
