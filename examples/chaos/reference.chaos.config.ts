import { referenceInventoryConfig } from './reference-inventory';
import { referenceNotificationConfig } from './reference-notification';

/**
 * The reference suite: `eda-harness chaos run --service examples/dist/chaos/reference.chaos.config.js`
 * runs every scenario of both services, reference-inventory-* (Kafka) and reference-notification-*
 * (RabbitMQ); `'reference-notification-*'` selects one service's.
 */
export default [referenceInventoryConfig('reference'), referenceNotificationConfig('reference')];
