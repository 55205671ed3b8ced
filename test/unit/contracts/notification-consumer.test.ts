import { messagePact } from '../../../contracts/consumer/message-pact';
import { NOTIFICATION_CONSUMER, sendEmailExpectation } from '../../../examples/contracts/notification-contract';
import { ORDER_SERVICE_PROVIDER } from '../../../examples/contracts/order-service-contract';
import { createFakeEmailSender } from '../../../examples/notification-service/email-sender';
import { createNotificationMessageHandler } from '../../../examples/notification-service/notification-message-handler';

// The notification team's contract with the order service: writes pacts/notification-service-order-service.json.
const pact = messagePact({ consumer: NOTIFICATION_CONSUMER, provider: ORDER_SERVICE_PROVIDER });

test('notification emails the recipient of a SendEmail command and acks it (the real consume callback, instrumented)', async () => {
  const sender = createFakeEmailSender();
  const outcome = await pact
    .expectAmqpMessage(sendEmailExpectation)
    .handledBy((channel) => createNotificationMessageHandler({ channel, sender, queue: 'notifications.email' }), { queue: 'notifications.email' });

  expect(outcome.result).toBe('sent');
  expect(outcome.settlement).toEqual({ kind: 'ack' });
  expect(outcome.message.fields.exchange).toBe('notifications');
  expect(outcome.message.fields.routingKey).toBe('email.send');
  expect(sender.sent()).toEqual([expect.objectContaining({ to: 'ada@example.com', template: 'order-confirmation', orderId: 'order-7f3a' })]);
});
