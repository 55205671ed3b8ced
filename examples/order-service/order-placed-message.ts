import type { Message } from 'kafkajs';
import type { MessageContext } from '../message-context';
import type { Order, OrderPlacedEvent } from '../types';

export const ORDER_PLACED = 'OrderPlaced';
export const ORDER_PLACED_VERSION = 1;

/** The Kafka record announcing an order: keyed by order id so one order's events stay in one partition, in order. */
export function orderPlacedMessage(order: Order, ctx: MessageContext): { readonly event: OrderPlacedEvent; readonly message: Message } {
  const amount = order.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  const event: OrderPlacedEvent = {
    eventId: ctx.eventId,
    eventType: ORDER_PLACED,
    occurredAt: ctx.occurredAt.toISOString(),
    version: ORDER_PLACED_VERSION,
    payload: {
      orderId: order.orderId,
      customerId: order.customerId,
      lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
      total: { amount, currency: order.currency },
    },
    metadata: { correlationId: ctx.correlationId },
  };
  return {
    event,
    message: {
      key: order.orderId,
      value: JSON.stringify(event),
      // Type and version as headers too: consumers of a shared topic route without parsing the body.
      headers: {
        'content-type': 'application/json',
        'event-type': ORDER_PLACED,
        'event-version': String(ORDER_PLACED_VERSION),
        'correlation-id': ctx.correlationId,
      },
    },
  };
}
