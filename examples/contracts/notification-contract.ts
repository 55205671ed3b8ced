import { Matchers } from '@pact-foundation/pact';
import { eventEnvelope } from '@eda-harness/contracts';
import type { AmqpMessageExpectation } from '@eda-harness/contracts';
import { REFERENCE_NAMES } from '../reference-names';
import { STATE_ORDER_WITH_TWO_LINES } from './order-service-contract';

export const NOTIFICATION_CONSUMER = 'notification-service';
export const SEND_EMAIL_DESCRIPTION = 'a SendEmail command for an order confirmation';

/**
 * What the notification service needs from an email command: published to the notifications
 * exchange with the routing key its queue is bound with, JSON, typed by the x-message-type
 * header, and a recipient, subject, template and order id.
 */
export const sendEmailExpectation: AmqpMessageExpectation = {
  description: SEND_EMAIL_DESCRIPTION,
  states: [STATE_ORDER_WITH_TWO_LINES],
  exchange: REFERENCE_NAMES.notificationsExchange,
  routingKey: REFERENCE_NAMES.emailRoutingKey,
  contentType: 'application/json',
  // The header the service routes commands on.
  headers: { 'x-message-type': 'SendEmail' },
  content: eventEnvelope({
    eventType: 'SendEmail',
    version: 1,
    payload: {
      // Any address with an @: the handler refuses anything else.
      to: Matchers.regex('^[^@\\s]+@[^@\\s]+$', 'ada@example.com'),
      subject: Matchers.string('Your order order-7f3a'),
      template: Matchers.string('order-confirmation'),
      orderId: Matchers.string('order-7f3a'),
    },
  }),
};
