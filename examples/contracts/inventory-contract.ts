import { Matchers } from '@pact-foundation/pact';
import { eventEnvelope } from '@eda-harness/contracts';
import type { KafkaMessageExpectation } from '@eda-harness/contracts';
import { REFERENCE_NAMES } from '../reference-names';
import { STATE_ORDER_WITH_TWO_LINES } from './order-service-contract';

export const INVENTORY_CONSUMER = 'inventory-service';
export const ORDER_PLACED_DESCRIPTION = 'an OrderPlaced event';

/**
 * What the inventory service needs from an OrderPlaced record, and nothing more: the topic it
 * subscribes to, the order id as key, the event-type header it routes on, the envelope, and per
 * line sku and quantity. Fields it does not read (customerId, unitPrice, total) are left out, so
 * the producer may change them freely.
 */
export const orderPlacedExpectation: KafkaMessageExpectation = {
  description: ORDER_PLACED_DESCRIPTION,
  states: [STATE_ORDER_WITH_TWO_LINES],
  topic: REFERENCE_NAMES.ordersTopic,
  // Any string; the handler checks it equals payload.orderId.
  key: Matchers.string('order-7f3a'),
  headers: { 'event-type': 'OrderPlaced' },
  value: eventEnvelope({
    eventType: 'OrderPlaced',
    version: 1,
    payload: {
      orderId: Matchers.string('order-7f3a'),
      // At least one line; each with a string sku and an integer quantity.
      lines: Matchers.eachLike({ sku: Matchers.string('SKU-KEYBOARD'), quantity: Matchers.integer(2) }),
    },
  }),
};
