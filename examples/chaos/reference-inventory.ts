import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { reservationsPerOrder } from './file-inventory-store';

/**
 * The reference system's inventory service as a service under test for `eda-harness chaos run
 * --service`: started as a process (so the harness can SIGKILL and restart it), fed OrderPlaced
 * events whose order id is the harness's input id, and probed afterwards for reservations per
 * order id from its file-backed store. `variant` picks a broken copy for the negative controls.
 */
export type InventoryVariant = 'reference' | 'no-idempotency' | 'commit-before-processing';

/** The built inventory-process.js: beside this file in dist, or in dist when run from the sources. */
function processScript(): string {
  const dir = __dirname.includes(`${sep}dist${sep}`) ? __dirname : join(__dirname, '..', 'dist', 'chaos');
  return join(dir, 'inventory-process.js');
}

export function referenceInventoryConfig(variant: InventoryVariant = 'reference', options: { instances?: number } = {}) {
  const instances = options.instances ?? 1;
  // One topic, group and store per loaded config: scenarios of one run share them, runs do not.
  const run = randomBytes(3).toString('hex');
  const topic = `chaos-orders-${run}`;
  const storeFile = join(tmpdir(), `eda-harness-inventory-${run}.jsonl`);
  return {
    name: `${variant === 'reference' ? 'reference-inventory' : `broken-inventory-${variant}`}${instances > 1 ? `-x${instances}` : ''}`,
    version: '0.2.0',
    start: {
      command: process.execPath,
      args: [processScript()],
      env: { INVENTORY_TOPIC: topic, INVENTORY_GROUP: `inventory-${run}`, INVENTORY_STORE_FILE: storeFile, INVENTORY_VARIANT: variant },
      instances,
    },
    inputs: [
      {
        topic,
        keys: 4,
        messagesPerSecond: 10,
        // The reference handler wants the order id as the Kafka key and an OrderPlaced envelope.
        message: (id: string, _key: string, seq: number) => ({
          key: id,
          headers: { 'event-type': 'OrderPlaced' },
          value: JSON.stringify({
            eventId: randomUUID(),
            eventType: 'OrderPlaced',
            occurredAt: new Date().toISOString(),
            version: 1,
            payload: { orderId: id, customerId: `customer-${seq % 50}`, lines: [{ sku: 'SKU-CABLE', quantity: 1 + (seq % 3), unitPrice: 1000 }], total: { amount: 1000 * (1 + (seq % 3)), currency: 'EUR' } },
            metadata: { correlationId: id },
          }),
        }),
      },
    ],
    effects: async () => reservationsPerOrder(storeFile),
    effectName: 'reservation',
  };
}
