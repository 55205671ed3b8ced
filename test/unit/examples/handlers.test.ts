import { createCapturingChannel } from '../../../contracts/capturing-channel';
import { runKafkaHandler } from '../../../contracts/consumer/run-kafka-handler';
import { toConsumeMessage } from '../../../contracts/consumer/to-consume-message';
import { toEachMessagePayload } from '../../../contracts/consumer/to-each-message-payload';
import { messageContext } from '../../../examples/message-context';
import { createInventoryMessageHandler } from '../../../examples/inventory-service/inventory-message-handler';
import { createInventoryStore } from '../../../examples/inventory-service/inventory-store';
import { createFakeEmailSender } from '../../../examples/notification-service/email-sender';
import { ATTEMPT_HEADER, createNotificationMessageHandler } from '../../../examples/notification-service/notification-message-handler';
import { emailCommandMessage } from '../../../examples/order-service/email-command-message';
import { orderPlacedMessage } from '../../../examples/order-service/order-placed-message';
import { sampleOrder } from '../../../examples/sample-orders';

const order = sampleOrder(3, { orderId: 'order-3' });

function kafkaPayload(headers: Record<string, string> = { 'event-type': 'OrderPlaced' }, value?: unknown) {
  const { event } = orderPlacedMessage(order, messageContext());
  return toEachMessagePayload({ contents: { content: value ?? event }, metadata: { kafka_topic: 'orders.placed', kafka_key: 'order-3', ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [`kafka_header_${k}`, v])) } });
}

test('inventory: reserves once per eventId (a redelivered event is a duplicate), skips other event types', async () => {
  const store = createInventoryStore();
  const handle = createInventoryMessageHandler({ store });
  const payload = kafkaPayload();
  expect(await runKafkaHandler(payload, handle)).toBe('reserved');
  expect(await runKafkaHandler(payload, handle)).toBe('duplicate');
  expect(store.reservations()).toHaveLength(1);
  expect(await runKafkaHandler(kafkaPayload({ 'event-type': 'OrderCancelled' }), handle)).toBe('ignored');
  await expect(runKafkaHandler(kafkaPayload(undefined, { eventType: 'OrderPlaced' }), handle)).rejects.toThrow('$.eventId is missing');
});

function emailDelivery(command: unknown, attempt?: number, tag = 1) {
  const metadata: Record<string, string> = { amqp_exchange: 'notifications', amqp_routing_key: 'email.send', contentType: 'application/json', 'amqp_header_x-message-type': 'SendEmail' };
  if (attempt !== undefined) metadata[`amqp_header_${ATTEMPT_HEADER}`] = String(attempt);
  return toConsumeMessage({ contents: { content: command }, metadata }, { deliveryTag: tag });
}

test('notification: poison is dead-lettered at once; a failing send is retried with x-attempt+1, then dead-lettered at maxAttempts', async () => {
  const c = createCapturingChannel();
  const sender = createFakeEmailSender();
  const handle = createNotificationMessageHandler({ channel: c.channel, sender, queue: 'q', maxAttempts: 3 });

  expect(await handle(toConsumeMessage({ contents: { content: 'not json' }, metadata: { amqp_exchange: 'x', amqp_routing_key: 'y', contentType: 'text/plain' } }, { deliveryTag: 1 }))).toBe('dead-lettered');
  expect(c.settlementOf(1)).toEqual({ kind: 'nack', requeue: false });
  expect(c.published).toHaveLength(0);

  const bouncing = emailCommandMessage(sampleOrder(4, { email: 'x@bounce.invalid' }), messageContext()).command;
  expect(await handle(emailDelivery(bouncing, undefined, 2))).toBe('retried');
  expect(c.settlementOf(2)).toEqual({ kind: 'ack' });
  expect(c.published[0]).toMatchObject({ exchange: '', routingKey: 'q', properties: { headers: { [ATTEMPT_HEADER]: 2 }, persistent: true } });
  expect(await handle(emailDelivery(bouncing, 3, 3))).toBe('dead-lettered');
  expect(c.settlementOf(3)).toEqual({ kind: 'nack', requeue: false });

  // Not a SendEmail (or untyped): dead-lettered without a retry.
  const untyped = toConsumeMessage({ contents: { content: bouncing }, metadata: { amqp_exchange: 'notifications', amqp_routing_key: 'email.send', contentType: 'application/json' } }, { deliveryTag: 5 });
  expect(await handle(untyped)).toBe('dead-lettered');
  expect(c.published).toHaveLength(1);

  const fine = emailCommandMessage(order, messageContext()).command;
  expect(await handle(emailDelivery(fine, undefined, 4))).toBe('sent');
  expect(sender.sent().map((e) => e.to)).toEqual([order.email]);
});
