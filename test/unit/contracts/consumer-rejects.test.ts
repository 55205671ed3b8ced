import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matchers } from '@pact-foundation/pact';
import { Registry } from 'prom-client';
import { ContractError } from '../../../core/errors';
import { messagePact } from '../../../contracts/consumer/message-pact';
import { orderPlacedExpectation } from '../../../examples/contracts/inventory-contract';
import { sendEmailExpectation } from '../../../examples/contracts/notification-contract';
import { createInventoryMessageHandler } from '../../../examples/inventory-service/inventory-message-handler';
import { createInventoryStore } from '../../../examples/inventory-service/inventory-store';

// A consumer test must fail when the consumer cannot handle the message it claims to accept,
// and then no pact is written: a contract nobody can honour never reaches the provider.

const freshDir = () => mkdtempSync(join(tmpdir(), 'eda-consumer-'));

test('an AMQP handler that nacks a valid message fails the consumer test and writes no pact', async () => {
  const dir = freshDir();
  const pact = messagePact({ consumer: 'picky-notifier', provider: 'order-service', dir });
  const run = pact.expectAmqpMessage(sendEmailExpectation).handledBy((channel) => async (msg) => {
    if (msg) channel.nack(msg, false, false);
  });
  await expect(run).rejects.toThrow(ContractError);
  await expect(run).rejects.toThrow('the consumer handler did not accept a valid "a SendEmail command for an order confirmation" message: it nacked it (requeue=false)');
  expect(existsSync(pact.file)).toBe(false);
});

test('an AMQP handler that never settles the message fails the consumer test', async () => {
  const pact = messagePact({ consumer: 'forgetful-notifier', provider: 'order-service', dir: freshDir() });
  await expect(pact.expectAmqpMessage(sendEmailExpectation).handledBy(() => async () => 'forgot to ack', { settleTimeoutMs: 50 })).rejects.toThrow('it never settled it');
});

test('a Kafka handler that throws on a valid message fails the consumer test, with its own error', async () => {
  const pact = messagePact({ consumer: 'picky-inventory', provider: 'order-service', dir: freshDir() });
  await expect(
    pact.expectKafkaMessage(orderPlacedExpectation).handledBy(async () => {
      throw new Error('cannot handle OrderPlaced');
    }),
  ).rejects.toThrow('cannot handle OrderPlaced');
  expect(existsSync(pact.file)).toBe(false);
});

test('the real inventory handler refuses a contract its code cannot honour (quantity as text)', async () => {
  const pact = messagePact({ consumer: 'inventory-wrong-contract', provider: 'order-service', dir: freshDir() });
  const wrong = {
    ...orderPlacedExpectation,
    value: { ...(orderPlacedExpectation.value as Record<string, unknown>), payload: { orderId: Matchers.string('order-7f3a'), lines: [{ sku: 'SKU-1', quantity: '2' }] } },
  };
  await expect(pact.expectKafkaMessage(wrong).handledBy(createInventoryMessageHandler({ store: createInventoryStore() }))).rejects.toThrow('$.payload.lines[0].quantity is not an integer');
});

test('the handler runs inside the eda-harness instrumentation, and a message without trace headers is handled', async () => {
  const registry = new Registry();
  const pact = messagePact({ consumer: 'instrumented-inventory', provider: 'order-service', dir: freshDir() });
  const { result, payload } = await pact
    .expectKafkaMessage(orderPlacedExpectation)
    .handledBy(createInventoryMessageHandler({ store: createInventoryStore() }), { groupId: 'inventory-service', instrumentation: { registry } });
  expect(result).toBe('reserved');
  expect(payload.message.headers?.['traceparent']).toBeUndefined();
  const consumed = await registry.getSingleMetric('messaging_client_consumed_messages_total')?.get();
  expect(consumed?.values).toEqual([expect.objectContaining({ value: 1, labels: expect.objectContaining({ messaging_destination_name: 'orders.placed', messaging_consumer_group_name: 'inventory-service' }) })]);
  expect(existsSync(pact.file)).toBe(true);
});
