import type { Options } from 'amqplib';
import type { MessageContext } from '../message-context';
import type { Order, SendEmailCommand } from '../types';

export const SEND_EMAIL = 'SendEmail';
export const SEND_EMAIL_VERSION = 1;
export const ORDER_CONFIRMATION_TEMPLATE = 'order-confirmation';

export interface AmqpOutgoing {
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/** The command asking the notification service to confirm an order by email. */
export function emailCommandMessage(order: Order, ctx: MessageContext): { readonly command: SendEmailCommand } & AmqpOutgoing {
  const command: SendEmailCommand = {
    eventId: ctx.eventId,
    eventType: SEND_EMAIL,
    occurredAt: ctx.occurredAt.toISOString(),
    version: SEND_EMAIL_VERSION,
    payload: {
      to: order.email,
      template: ORDER_CONFIRMATION_TEMPLATE,
      orderId: order.orderId,
      subject: `Your order ${order.orderId}`,
    },
    metadata: { correlationId: ctx.correlationId },
  };
  return {
    command,
    content: Buffer.from(JSON.stringify(command)),
    options: {
      contentType: 'application/json',
      // Persistent, so a broker restart does not lose a customer's email.
      persistent: true,
      messageId: ctx.eventId,
      correlationId: ctx.correlationId,
      type: SEND_EMAIL,
      headers: { 'x-message-type': SEND_EMAIL, 'x-message-version': SEND_EMAIL_VERSION },
    },
  };
}
