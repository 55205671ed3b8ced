import type { EachMessagePayload, IHeaders } from 'kafkajs';
import { InvalidMessageError } from '../invalid-message-error';
import { array, integer, object, string } from '../field-readers';
import { parseEnvelope } from '../parse-envelope';
import type { InventoryStore } from './inventory-store';

/** What the handler did with one message (returned for tests; kafkajs ignores it). */
export type InventoryOutcome = 'reserved' | 'duplicate' | 'ignored';

export const ORDER_PLACED_TYPE = 'OrderPlaced';
export const ORDER_PLACED_SUPPORTED_VERSION = 1;

interface ReservedLine {
  readonly sku: string;
  readonly quantity: number;
}

interface OrderPlacedForInventory {
  readonly orderId: string;
  readonly lines: readonly ReservedLine[];
}

export interface InventoryHandlerOptions {
  readonly store: InventoryStore;
}

/**
 * The inventory service's kafkajs `eachMessage` handler: routes on the `event-type` header, reads
 * the envelope and the fields it needs, and reserves stock once per event id. Invalid messages
 * throw {@link InvalidMessageError}, so a contract test fails loudly; the service wiring decides
 * what to do with them at run time.
 */
export function createInventoryMessageHandler(options: InventoryHandlerOptions): (payload: EachMessagePayload) => Promise<InventoryOutcome> {
  const { store } = options;
  return async ({ message }) => {
    // The topic may carry other order events: the header lets us skip them without parsing.
    if (headerText(message.headers, 'event-type') !== ORDER_PLACED_TYPE) return 'ignored';
    const event = parseEnvelope(message.value, ORDER_PLACED_TYPE, ORDER_PLACED_SUPPORTED_VERSION, readOrderPlaced);
    const key = message.key?.toString('utf8');
    if (key !== event.payload.orderId) throw new InvalidMessageError('key', `is ${JSON.stringify(key)}, expected the order id ${event.payload.orderId}`);
    if (store.hasProcessed(event.eventId)) return 'duplicate';
    store.reserve({ orderId: event.payload.orderId, eventId: event.eventId, lines: event.payload.lines });
    return 'reserved';
  };
}

/** Only the fields inventory uses: orderId and, per line, sku and quantity. */
function readOrderPlaced(payload: unknown): OrderPlacedForInventory {
  const p = object(payload, '$.payload');
  const orderId = string(p['orderId'], '$.payload.orderId');
  const lines = array(p['lines'], '$.payload.lines').map((raw, i) => {
    const line = object(raw, `$.payload.lines[${i}]`);
    const quantity = integer(line['quantity'], `$.payload.lines[${i}].quantity`);
    if (quantity <= 0) throw new InvalidMessageError(`$.payload.lines[${i}].quantity`, 'is not positive');
    return { sku: string(line['sku'], `$.payload.lines[${i}].sku`), quantity };
  });
  return { orderId, lines };
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}
