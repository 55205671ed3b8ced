import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messagePact } from '../../../contracts/consumer/message-pact';
import { INVENTORY_CONSUMER, orderPlacedExpectation } from '../../../examples/contracts/inventory-contract';
import { NOTIFICATION_CONSUMER, sendEmailExpectation } from '../../../examples/contracts/notification-contract';
import { ORDER_SERVICE_PROVIDER } from '../../../examples/contracts/order-service-contract';
import { createInventoryMessageHandler } from '../../../examples/inventory-service/inventory-message-handler';
import { createInventoryStore } from '../../../examples/inventory-service/inventory-store';
import { createFakeEmailSender } from '../../../examples/notification-service/email-sender';
import { createNotificationMessageHandler } from '../../../examples/notification-service/notification-message-handler';

/**
 * Writes the reference consumers' pacts (the same expectations and handlers as the consumer tests)
 * into a fresh temporary directory, so a test verifies its own copy and never races the consumer
 * tests rewriting pacts/.
 */
export async function writeReferencePacts(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'eda-pacts-'));
  await messagePact({ consumer: INVENTORY_CONSUMER, provider: ORDER_SERVICE_PROVIDER, dir })
    .expectKafkaMessage(orderPlacedExpectation)
    .handledBy(createInventoryMessageHandler({ store: createInventoryStore() }));
  await messagePact({ consumer: NOTIFICATION_CONSUMER, provider: ORDER_SERVICE_PROVIDER, dir })
    .expectAmqpMessage(sendEmailExpectation)
    .handledBy((channel) => createNotificationMessageHandler({ channel, sender: createFakeEmailSender(), queue: 'notifications.email' }));
  return dir;
}
