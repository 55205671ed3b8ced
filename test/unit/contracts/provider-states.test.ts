import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matchers } from '@pact-foundation/pact';
import { eventEnvelope } from '../../../contracts/consumer/envelope-matchers';
import { messagePact } from '../../../contracts/consumer/message-pact';
import { createMessageCapture } from '../../../contracts/provider/message-capture';
import { verifyProvider } from '../../../contracts/provider/verify-provider';
import type { MessageProviderDefinition } from '../../../contracts/types';
import { ORDER_PLACED_DESCRIPTION } from '../../../examples/contracts/inventory-contract';
import { orderServiceProvider } from '../../../examples/contracts/order-service-provider';
import { createInventoryMessageHandler } from '../../../examples/inventory-service/inventory-message-handler';
import { createInventoryStore } from '../../../examples/inventory-service/inventory-store';

// Provider states: a consumer asks for "an order with N lines" (params), the provider's setup
// function receives the params before its real code runs; missing or failing setups fail loudly.

let pacts: string;
const STATE = 'a customer places an order with two lines';

beforeAll(async () => {
  pacts = mkdtempSync(join(tmpdir(), 'eda-states-'));
  await messagePact({ consumer: 'bulk-inventory', provider: 'order-service', dir: pacts })
    .expectKafkaMessage({
      description: ORDER_PLACED_DESCRIPTION,
      states: [{ name: STATE, params: { lines: 3 } }],
      topic: 'orders.placed',
      key: Matchers.string('order-1'),
      headers: { 'event-type': 'OrderPlaced' },
      // At least three lines: only a provider that received the params can satisfy this.
      value: eventEnvelope({ eventType: 'OrderPlaced', version: 1, payload: { orderId: Matchers.string('order-1'), lines: Matchers.eachLike({ sku: Matchers.string('SKU-1'), quantity: Matchers.integer(1) }, 3) } }),
    })
    .handledBy(createInventoryMessageHandler({ store: createInventoryStore() }));
});

const only = (d: MessageProviderDefinition) => verifyProvider(d, { pacts: [pacts], broker: false });

test('state params reach the provider\u2019s setup function (3 lines requested, 3 lines sent)', async () => {
  const report = await only(orderServiceProvider());
  expect(report.interactions).toEqual([expect.objectContaining({ consumer: 'bulk-inventory', states: [STATE], passed: true })]);
});

test('a provider without a setup for the state, or without a factory for the message, fails that interaction and says so', async () => {
  const real = orderServiceProvider();
  const noState = await only({ ...real, states: {} });
  expect(noState.passed).toBe(false);
  expect(noState.interactions[0]?.mismatches).toContainEqual(expect.objectContaining({ kind: 'error', message: `provider "order-service" has no setup for provider state "${STATE}"` }));

  const noFactory = await only({ ...real, messages: {} });
  expect(noFactory.interactions[0]?.mismatches).toContainEqual(
    expect.objectContaining({ kind: 'error', message: `provider "order-service" has no message factory for "${ORDER_PLACED_DESCRIPTION}"` }),
  );
});

test('a setup function that throws fails the interaction with its error (Pact itself would carry on)', async () => {
  const report = await only({
    provider: 'order-service',
    states: {
      [STATE]: () => {
        throw new Error('database unavailable');
      },
    },
    messages: { [ORDER_PLACED_DESCRIPTION]: () => createMessageCapture().kafka() },
  });
  expect(report.passed).toBe(false);
  expect(report.interactions[0]?.mismatches).toContainEqual(expect.objectContaining({ kind: 'error', message: `provider state "${STATE}" setup failed: database unavailable` }));
});

test('the same provider with a setup that ignores the params fails: the contract really needs three lines', async () => {
  const real = orderServiceProvider();
  const report = await only({ ...real, states: { [STATE]: () => undefined } });
  expect(report.passed).toBe(false);
  expect(report.interactions[0]?.mismatches).toContainEqual(expect.objectContaining({ where: '$.payload.lines', message: expect.stringContaining('minimum size of 3') }));
});
