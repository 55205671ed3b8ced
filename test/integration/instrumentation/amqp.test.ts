import { trace } from '@opentelemetry/api';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { instrumentAmqp, startTelemetry } from '../../../instrumentation/index';
import type { TelemetryHandle } from '../../../instrumentation/index';
import { ATTR, METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { OtlpJsonHttpExporter } from './otlp-json-exporter';
import { OTLP_KIND, OTLP_STATUS_ERROR, durationMs, receivedSpans, startOtlpReceiver } from './otlp-receiver';
import type { OtlpReceiver, ReceivedSpan } from './otlp-receiver';
import { sample } from '../../support/exposition';
import { scrape } from './scrape';

class PoisonError extends Error {}

let env: StartedEnvironment;
let receiver: OtlpReceiver;
let telemetry: TelemetryHandle;
let registry: Registry;
let model: ChannelModel;
/** A second, uninstrumented connection: "another team's client". */
let plain: ChannelModel;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  registry = new Registry();
  telemetry = await startTelemetry({ serviceName: 'amqp-it', metricsPort: 0, metricsHost: '127.0.0.1', registry, traceExporter: new OtlpJsonHttpExporter(receiver.url) });
  env = await new Environment().withRabbitMq().withToxiproxy(false).start();
  model = instrumentAmqp(await connect(env.getAmqpUrl()), { registry });
  plain = await connect(env.getAmqpUrl());
}, 180_000);

afterAll(async () => {
  await model?.close().catch(() => undefined);
  await plain?.close().catch(() => undefined);
  await telemetry?.shutdown();
  await env?.stop();
  await receiver?.close();
});

/** Flushes the SDK and waits until the receiver holds spans matching `predicate`. */
function exported(description: string, predicate: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  return receivedSpans(receiver, description, predicate, { flush: () => telemetry.forceFlush() });
}

async function metrics(): Promise<string> {
  return scrape(telemetry.metricsUrl!);
}

describe('amqplib instrumentation against a real RabbitMQ, spans over OTLP/HTTP', () => {
  it('publish on a confirm channel and consume: one trace, semconv attributes, span ends at ack', async () => {
    const exchange = uniqueName('it-ex');
    const queue = uniqueName('it-q');
    const ch: ConfirmChannel = await model.createConfirmChannel();
    await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    await ch.assertQueue(queue, { durable: false, autoDelete: true });
    await ch.bindQueue(queue, exchange, 'order.created');
    const consumed: ConsumeMessage[] = [];
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      consumed.push(msg);
      // Settle later than the handler returns: the span must end at the ack, not at return.
      setTimeout(() => ch.ack(msg), 150);
    });
    const sentAt = Date.now();
    const confirmed = new Promise<unknown>((resolve) =>
      trace.getTracer('it').startActiveSpan('checkout', (span) => {
        ch.publish(exchange, 'order.created', Buffer.from('{"id":1}'), { messageId: 'm-1', correlationId: 'c-1' }, (err) => resolve(err));
        span.end();
      }),
    );
    expect(await confirmed).toBeNull();
    await waitFor(() => consumed.length === 1, { description: 'the delivery', timeoutMs: 30_000 });
    const spans = await exported('publish and process spans', (s) => s.some((x) => x.name === `process ${queue}`));
    const publish = spans.find((s) => s.name === `publish ${exchange}`)!;
    const processSpan = spans.find((s) => s.name === `process ${queue}`)!;
    expect(publish.kind).toBe(OTLP_KIND.PRODUCER);
    expect(publish.attributes).toMatchObject({
      [ATTR.MESSAGING_SYSTEM]: 'rabbitmq',
      [ATTR.MESSAGING_OPERATION_NAME]: 'publish',
      [ATTR.MESSAGING_OPERATION_TYPE]: 'send',
      [ATTR.MESSAGING_DESTINATION_NAME]: `${exchange}:order.created`,
      [ATTR.MESSAGING_RABBITMQ_ROUTING_KEY]: 'order.created',
      [ATTR.MESSAGING_MESSAGE_ID]: 'm-1',
      [ATTR.MESSAGING_MESSAGE_CONVERSATION_ID]: 'c-1',
    });
    expect(typeof publish.attributes[ATTR.SERVER_PORT]).toBe('number');
    expect(processSpan.kind).toBe(OTLP_KIND.CONSUMER);
    expect(processSpan.traceId).toBe(publish.traceId);
    expect(processSpan.parentSpanId).toBe(publish.spanId);
    expect(processSpan.attributes).toMatchObject({
      [ATTR.MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR.MESSAGING_DESTINATION_NAME]: `${exchange}:order.created:${queue}`,
      [ATTR.MESSAGING_RABBITMQ_ROUTING_KEY]: 'order.created',
      [ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG]: consumed[0]!.fields.deliveryTag,
      [ATTR.MESSAGING_MESSAGE_ID]: 'm-1',
      [ATTR.EDA_SETTLEMENT]: 'ack',
    });
    expect(durationMs(processSpan)).toBeGreaterThanOrEqual(140);
    const text = await metrics();
    const labels = { messaging_system: 'rabbitmq', messaging_destination_name: queue };
    expect(sample(text, `${METRIC.E2E_LATENCY.name}_count`, { ...labels, stage: 'processed' })).toBe(1);
    const e2e = sample(text, `${METRIC.E2E_LATENCY.name}_sum`, { ...labels, stage: 'processed' });
    expect(e2e).toBeGreaterThanOrEqual(0.14); // includes the 150 ms before the ack
    expect(e2e).toBeLessThanOrEqual((Date.now() - sentAt) / 1000);
    expect(sample(text, METRIC.SENT_MESSAGES.name, { messaging_destination_name: exchange })).toBe(1);
    expect(sample(text, METRIC.IN_FLIGHT.name, labels)).toBe(0);
    await ch.close();
  });

  it('a broker nack on a confirm channel ends the publish span with an error', async () => {
    const queue = uniqueName('it-full');
    const ch = await model.createConfirmChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const results: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      results.push(await new Promise((resolve) => ch.sendToQueue(queue, Buffer.from(String(i)), {}, (err) => resolve(err))));
    }
    expect(results[0]).toBeNull();
    expect(results[1]).toBeInstanceOf(Error);
    const spans = await exported('two publish spans', (s) => s.filter((x) => x.name === `publish ${queue}`).length === 2);
    const publishes = spans.filter((x) => x.name === `publish ${queue}`);
    const failed = publishes.filter((p) => p.status.code === OTLP_STATUS_ERROR);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attributes[ATTR.ERROR_TYPE]).toBe('nacked');
    expect(sample(await metrics(), METRIC.SENT_MESSAGES.name, { messaging_destination_name: queue, error_type: 'nacked' })).toBe(1);
    await ch.deleteQueue(queue);
    await ch.close();
  });

  it('extracts a traceparent that arrives as an AMQP byte array (Buffer) from another client', async () => {
    const queue = uniqueName('it-bytes');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    const sender: Channel = await plain.createChannel(); // not instrumented
    await sender.assertQueue(queue, { durable: false, autoDelete: true });
    sender.sendToQueue(queue, Buffer.from('x'), { headers: { traceparent: Buffer.from(`00-${traceId}-${spanId}-01`) } });
    const ch = await model.createChannel();
    const seen: unknown[] = [];
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      seen.push(msg.properties.headers?.['traceparent']);
      ch.ack(msg);
    });
    await waitFor(() => seen.length === 1, { description: 'the byte-array delivery', timeoutMs: 30_000 });
    expect(Buffer.isBuffer(seen[0])).toBe(true); // it really arrived as bytes
    const spans = await exported('the process span', (s) => s.some((x) => x.name === `process ${queue}`));
    const processSpan = spans.find((s) => s.name === `process ${queue}`)!;
    expect(processSpan.traceId).toBe(traceId);
    expect(processSpan.parentSpanId).toBe(spanId);
    await ch.close();
    await sender.close();
  });

  it('a handler that throws: amqplib gets the very same error, the span records it, the counters count it', async () => {
    const queue = uniqueName('it-throw');
    const ch = await model.createChannel();
    const reachedAmqplib: unknown[] = [];
    ch.on('handler-error', (err: unknown) => reachedAmqplib.push(err));
    await ch.assertQueue(queue, { durable: false, autoDelete: true });
    const boom = new PoisonError('bad order');
    await ch.consume(queue, () => {
      throw boom;
    }, { noAck: true });
    ch.sendToQueue(queue, Buffer.from('x'));
    await waitFor(() => reachedAmqplib.length === 1, { description: 'amqplib to report the handler error', timeoutMs: 30_000 });
    expect(reachedAmqplib[0]).toBe(boom);
    const spans = await exported('the failed process span', (s) => s.some((x) => x.name === `process ${queue}`));
    const processSpan = spans.find((s) => s.name === `process ${queue}`)!;
    expect(processSpan.status.code).toBe(OTLP_STATUS_ERROR);
    expect(processSpan.attributes[ATTR.ERROR_TYPE]).toBe('PoisonError');
    expect(processSpan.events.map((e) => e.name)).toContain('exception');
    // Consumed at delivery whatever happens next; the handler's failure is the processing outcome.
    const text = await metrics();
    expect(sample(text, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: queue, messaging_operation_name: 'process' })).toBe(1);
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: queue, error_type: 'PoisonError' })).toBe(1);
    expect(sample(text, METRIC.IN_FLIGHT.name, { messaging_destination_name: queue })).toBe(0);
    await ch.close();
  });

  it('poison messages nacked with requeue=false reach the DLQ and are counted exactly; requeues are not, redeliveries are', async () => {
    const dlx = uniqueName('it-dlx');
    const dlq = uniqueName('it-dlq');
    const queue = uniqueName('it-work');
    const ch = await model.createChannel();
    await ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: false });
    await ch.assertQueue(dlq, { durable: false, autoDelete: false });
    await ch.bindQueue(dlq, dlx, '');
    // The DLX is learned from these arguments: nothing else tells the instrumentation.
    await ch.assertQueue(queue, { durable: false, autoDelete: false, deadLetterExchange: dlx });
    const total = 12;
    const poison = new Set([2, 5, 9]);
    for (let i = 0; i < total; i++) ch.sendToQueue(queue, Buffer.from(JSON.stringify({ i, poison: poison.has(i) })));
    const settled = new Set<number>();
    let requeuedOnce = false;
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      const body = JSON.parse(msg.content.toString()) as { i: number; poison: boolean };
      if (body.poison) {
        ch.nack(msg, false, false);
        settled.add(body.i);
      } else if (body.i === 0 && !requeuedOnce) {
        requeuedOnce = true;
        ch.nack(msg, false, true); // transient failure: back to the queue, redelivered
      } else {
        ch.ack(msg);
        settled.add(body.i);
      }
    });
    await waitFor(() => settled.size === total, { description: 'all messages settled', timeoutMs: 30_000 });
    const depth = await waitFor(async () => {
      const q = await ch.checkQueue(dlq);
      return q.messageCount === poison.size ? q.messageCount : undefined;
    }, { description: 'the DLQ to hold the poison messages', timeoutMs: 30_000 });
    expect(depth).toBe(poison.size);
    const text = await metrics();
    expect(sample(text, METRIC.DLQ_MESSAGES.name, { source: queue })).toBe(poison.size);
    expect(sample(text, METRIC.DLQ_MESSAGES.name, { source: queue, dlq: dlx, reason: 'rejected' })).toBe(poison.size);
    expect(sample(text, METRIC.REDELIVERIES.name, { messaging_destination_name: queue })).toBe(1);
    expect(sample(text, METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: queue })).toBe(total + 1);
    // One definition of processed for Kafka and AMQP: every delivery's outcome, failures included.
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: queue, error_type: 'nacked' })).toBe(poison.size + 1);
    expect(sample(text, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: queue })).toBe(total + 1);
    const spans = await exported('process spans of the work queue', (s) => s.filter((x) => x.name === `process ${queue}`).length === total + 1);
    const dead = spans.filter((s) => s.name === `process ${queue}` && s.attributes[ATTR.EDA_DEAD_LETTER_EXCHANGE] === dlx);
    expect(dead).toHaveLength(poison.size);
    for (const d of dead) expect(d.attributes).toMatchObject({ [ATTR.EDA_SETTLEMENT]: 'nack', [ATTR.EDA_REQUEUE]: false });
    await ch.deleteQueue(queue);
    await ch.deleteQueue(dlq);
    await ch.deleteExchange(dlx);
    await ch.close();
  });

  it('channel.get is traced as a receive span linked to the producer', async () => {
    const queue = uniqueName('it-get');
    const ch = await model.createChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: true });
    ch.sendToQueue(queue, Buffer.from('pull me'));
    const msg = await waitFor(async () => ch.get(queue), { description: 'a message to get', timeoutMs: 30_000 });
    ch.ack(msg);
    const spans = await exported('publish and receive spans', (s) => s.some((x) => x.name === `receive ${queue}` && x.attributes[ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG] !== undefined));
    const publish = spans.find((s) => s.name === `publish ${queue}`)!;
    const receive = spans.find((s) => s.name === `receive ${queue}` && s.attributes[ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG] !== undefined)!;
    expect(receive.kind).toBe(OTLP_KIND.CLIENT);
    expect(receive.links).toEqual([{ traceId: publish.traceId, spanId: publish.spanId }]);
    expect(receive.attributes[ATTR.MESSAGING_OPERATION_TYPE]).toBe('receive');
    await ch.close();
  });
});
