import { join } from 'node:path';
import type { EachMessagePayload } from 'kafkajs';
import { pactMessage } from '../../../chaos/index';
import { createInventoryMessageHandler } from '../../../examples/inventory-service/inventory-message-handler';
import { createInventoryStore } from '../../../examples/inventory-service/inventory-store';

const PACT = join(__dirname, '..', '..', '..', 'pacts', 'inventory-service-order-service.json');
const ORDER_PLACED = { idPath: '$.payload.orderId', uuidPaths: ['$.eventId'], nowPaths: ['$.occurredAt'] };

describe('input messages from a pact example', () => {
  it('sends the contract’s OrderPlaced with the input id as order id and key, a fresh event id, and its headers; the inventory handler reserves it', async () => {
    const message = pactMessage(PACT, 'an OrderPlaced event', ORDER_PLACED);
    const a = message('order-chaos-1', 'k0', 0);
    const b = message('order-chaos-2', 'k0', 1);
    const body = JSON.parse(a.value) as { eventId: string; payload: { orderId: string; lines: unknown[] } };
    expect(body.payload.orderId).toBe('order-chaos-1');
    expect(body.payload.lines).toEqual([{ quantity: 2, sku: 'SKU-KEYBOARD' }]);
    expect(body.eventId).not.toBe(JSON.parse(b.value).eventId);
    expect(a.key).toBe('order-chaos-1');
    expect(a.headers).toEqual({ 'event-type': 'OrderPlaced' });

    const store = createInventoryStore();
    const handle = createInventoryMessageHandler({ store });
    const payload = { topic: 'orders', partition: 0, message: { key: Buffer.from(a.key!), value: Buffer.from(a.value), headers: a.headers, offset: '0' } } as unknown as EachMessagePayload;
    await expect(handle(payload)).resolves.toBe('reserved');
    expect(store.reservations().map((r) => r.orderId)).toEqual(['order-chaos-1']);
  });

  it('says what is wrong: no such interaction, a path not in the example, not a pact', () => {
    expect(() => pactMessage(PACT, 'an OrderShipped event', ORDER_PLACED)).toThrow(`pact ${PACT} has no interaction "an OrderShipped event"`);
    expect(() => pactMessage(PACT, 'an OrderPlaced event', { idPath: '$.payload.order' })).toThrow('$.payload.order does not exist in the example message');
    expect(() => pactMessage(PACT, 'an OrderPlaced event', { idPath: 'payload.orderId' })).toThrow('path "payload.orderId" is not of the form $.field.field');
    expect(() => pactMessage({ consumer: {} }, 'x', ORDER_PLACED)).toThrow('the pact has no interactions: it is not a pact file');
    expect(() => pactMessage('/no/such/pact.json', 'x', ORDER_PLACED)).toThrow('pact /no/such/pact.json could not be read');
  });
});
