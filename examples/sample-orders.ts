import { randomUUID } from 'node:crypto';
import type { Order } from './types';

const SKUS = ['SKU-KEYBOARD', 'SKU-MOUSE', 'SKU-MONITOR', 'SKU-CABLE', 'SKU-DOCK'] as const;

/** A plausible order: 1-3 lines from a small catalogue; `n` makes it reproducible within a run. */
export function sampleOrder(n: number, overrides: Partial<Order> = {}): Order {
  const lines = Array.from({ length: 1 + (n % 3) }, (_, i) => ({
    sku: SKUS[(n + i) % SKUS.length] ?? 'SKU-CABLE',
    quantity: 1 + ((n + i) % 4),
    unitPrice: 1000 + 250 * ((n + i) % 7),
  }));
  return {
    orderId: `order-${randomUUID()}`,
    customerId: `customer-${n % 50}`,
    email: `customer-${n % 50}@example.com`,
    currency: 'EUR',
    lines,
    ...overrides,
  };
}
