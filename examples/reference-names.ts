import type { ReferenceNames } from './types';

/** The production names: what the contracts pin (a topic rename must fail verification). */
export const REFERENCE_NAMES: ReferenceNames = {
  ordersTopic: 'orders.placed',
  inventoryGroup: 'inventory-service',
  notificationsExchange: 'notifications',
  emailRoutingKey: 'email.send',
  emailQueue: 'notifications.email',
  deadLetterExchange: 'notifications.dlx',
  deadLetterQueue: 'notifications.email.dlq',
};

/**
 * The names with a prefix on every topic, group, exchange and queue (not the routing key), so
 * several runs can share one broker without seeing each other's messages.
 */
export function referenceNames(prefix?: string, overrides: Partial<ReferenceNames> = {}): ReferenceNames {
  const p = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const n = REFERENCE_NAMES;
  return {
    ordersTopic: p(n.ordersTopic),
    inventoryGroup: p(n.inventoryGroup),
    notificationsExchange: p(n.notificationsExchange),
    emailRoutingKey: n.emailRoutingKey,
    emailQueue: p(n.emailQueue),
    deadLetterExchange: p(n.deadLetterExchange),
    deadLetterQueue: p(n.deadLetterQueue),
    ...overrides,
  };
}
