import { messagePact } from '../../../contracts/consumer/message-pact';
import { INVENTORY_CONSUMER, orderPlacedExpectation } from '../../../examples/contracts/inventory-contract';
import { ORDER_SERVICE_PROVIDER } from '../../../examples/contracts/order-service-contract';
import { createInventoryMessageHandler } from '../../../examples/inventory-service/inventory-message-handler';
import { createInventoryStore } from '../../../examples/inventory-service/inventory-store';

// The inventory team's contract with the order service: writes pacts/inventory-service-order-service.json.
const pact = messagePact({ consumer: INVENTORY_CONSUMER, provider: ORDER_SERVICE_PROVIDER });

test('inventory reserves stock for an OrderPlaced event (the real eachMessage handler, instrumented)', async () => {
  const store = createInventoryStore();
  const { result, payload } = await pact.expectKafkaMessage(orderPlacedExpectation).handledBy(createInventoryMessageHandler({ store }), { groupId: 'inventory-service' });

  expect(result).toBe('reserved');
  // The handler saw the message as kafkajs would deliver it: topic, key and headers as Buffers.
  expect(payload.topic).toBe('orders.placed');
  expect(payload.message.key?.toString()).toBe('order-7f3a');
  expect(payload.message.headers?.['event-type']).toEqual(Buffer.from('OrderPlaced'));
  expect(store.reservedQuantity('SKU-KEYBOARD')).toBe(2);
});
