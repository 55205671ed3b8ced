import { SpanKind, context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { orderPlacedMessage } from '../../../examples/order-service/order-placed-message';
import { startReferenceSystem } from '../../../examples/reference-system';
import type { ReferenceSystem } from '../../../examples/reference-system';
import { sampleOrder } from '../../../examples/sample-orders';
import { poisonEmailCommand, startTraffic } from '../../../examples/traffic';
import { sample } from '../../support/exposition';
import { uniqueName } from '../../support/names';
import { until } from '../../support/until';

let env: StartedEnvironment;
let system: ReferenceSystem | undefined;
let traced: ReferenceSystem | undefined;
let observer: ChannelModel | undefined;

beforeAll(async () => {
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  await system?.stop();
  await traced?.stop();
  await observer?.close();
  await env?.stop();
});

/** Sum of a counter's samples whose labels include `labels`. */
const counterValue = async (registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> => sample(await registry.metrics(), name, labels);

test('orders reach inventory once each, emails are sent, and poison and undeliverable commands end in the DLQ', async () => {
  const registry = new Registry();
  system = await startReferenceSystem({
    kafkaBrokers: env.getKafkaBrokers(),
    amqpUrl: env.getAmqpUrl(),
    prefix: uniqueName('ref'),
    maxAttempts: 3,
    instrumentation: { registry },
  });
  const { names } = system;

  // 12 orders, the 7th for a recipient whose email always fails, and a poison command after every 4th.
  const traffic = startTraffic(system, { ordersPerSecond: 20, maxOrders: 12, poisonEvery: 4, bouncingEvery: 6 });
  const stats = await traffic.done;
  expect(stats).toEqual({ orders: 11, poison: 3, bouncing: 1, errors: 0 });

  // Every order (bouncing ones too) reserved stock exactly once, in the inventory consumer group.
  const inventory = system.inventory.store;
  await until('12 reservations', () => inventory.reservations().length === 12, { timeoutMs: 60_000 });

  // Redelivery of an event already applied (at-least-once Kafka) changes nothing: idempotent by eventId.
  const placed = await system.placeOrder(sampleOrder(99));
  await until('the 13th order to be reserved', () => inventory.hasProcessed(placed.event.eventId), { timeoutMs: 30_000 });
  const before = inventory.reservedQuantity(placed.event.payload.lines[0]!.sku);
  const { message } = orderPlacedMessage(sampleOrder(99, { orderId: placed.event.payload.orderId }), {
    eventId: placed.event.eventId,
    occurredAt: new Date(placed.event.occurredAt),
    correlationId: placed.event.metadata.correlationId,
  });
  await system.orderService.producer.send({ topic: names.ordersTopic, messages: [message] });
  // A later, distinct order on the same partition key proves the duplicate was consumed (and skipped) before it.
  const marker = await system.placeOrder(sampleOrder(100, { orderId: placed.event.payload.orderId }));
  await until('the marker order after the duplicate', () => inventory.hasProcessed(marker.event.eventId), { timeoutMs: 30_000 });
  expect(inventory.reservations()).toHaveLength(13);
  expect(inventory.reservedQuantity(placed.event.payload.lines[0]!.sku)).toBe(before + (marker.event.payload.lines.find((l) => l.sku === placed.event.payload.lines[0]!.sku)?.quantity ?? 0));
  expect(inventory.rejected).toBe(0);

  // Emails: one per deliverable order (11 from the traffic + 2 placed above); the bouncing one tried 3 times.
  const sender = system.notification.sender;
  await until('13 emails sent', () => sender.sent().length === 13, { timeoutMs: 30_000 });

  // The DLQ holds exactly the 3 poison commands and the one command whose retries ran out.
  observer = await connect(env.getAmqpUrl());
  const ch = await observer.createChannel();
  await until('4 messages in the DLQ', async () => (await ch.checkQueue(names.deadLetterQueue)).messageCount === 4, { timeoutMs: 30_000 });
  expect(sender.attempts).toBe(13 + 3);
  const dead: string[] = [];
  for (let i = 0; i < 4; i++) {
    const m = await ch.get(names.deadLetterQueue, { noAck: true });
    if (m) dead.push(String(m.properties.headers?.['x-first-death-reason']) + ':' + String(m.properties.headers?.['x-attempt'] ?? 1));
  }
  // Poison is dead-lettered on its first delivery; an undeliverable email after its third.
  expect(dead.sort()).toEqual(['rejected:1', 'rejected:1', 'rejected:1', 'rejected:3']);
  expect(poisonEmailCommand(0).toString()).not.toContain('"to"');

  // The instrumentation (as every service uses it) counted exactly those dead letters.
  await until('eda_dlq_messages_total = 4', async () => (await counterValue(registry, 'eda_dlq_messages_total')) === 4, { timeoutMs: 10_000 });
  expect(await counterValue(registry, 'messaging_client_consumed_messages_total', { messaging_destination_name: names.ordersTopic })).toBeGreaterThanOrEqual(15);
});

test('one order is one trace across the three services, each with its own tracer provider (service.name)', async () => {
  // What an application's OTel setup provides: async context and the W3C propagator.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporter = new InMemorySpanExporter();
  const providers = new Map<string, BasicTracerProvider>();
  try {
    traced = await startReferenceSystem({
      kafkaBrokers: env.getKafkaBrokers(),
      amqpUrl: env.getAmqpUrl(),
      prefix: uniqueName('trace'),
      instrumentation: (service) => {
        const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
        providers.set(service, provider);
        return { registry: new Registry(), tracerProvider: provider };
      },
    });
    await traced.placeOrder();
    const spans = await until(
      'the order\u2019s trace to reach both consumers',
      () => {
        const all = exporter.getFinishedSpans();
        const root = all.find((s) => s.name === 'place order');
        if (!root) return undefined;
        const inTrace = all.filter((s) => s.spanContext().traceId === root.spanContext().traceId);
        const consumers = inTrace.filter((s) => s.kind === SpanKind.CONSUMER);
        return consumers.length >= 2 ? inTrace : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const byService = (s: (typeof spans)[number]) => `${String(s.resource.attributes['service.name'])} ${SpanKind[s.kind]} ${String(s.attributes['messaging.system'] ?? '')}`.trim();
    expect(spans.map(byService).sort()).toEqual(
      ['inventory-service CONSUMER kafka', 'notification-service CONSUMER rabbitmq', 'order-service PRODUCER kafka', 'order-service PRODUCER rabbitmq', 'order-service SERVER'].sort(),
    );
  } finally {
    await traced?.stop();
    traced = undefined;
    for (const p of providers.values()) await p.shutdown();
    propagation.disable();
    context.disable();
    contextManager.disable();
  }
});
