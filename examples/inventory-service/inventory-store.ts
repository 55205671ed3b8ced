/** One order's stock reservation. */
export interface Reservation {
  readonly orderId: string;
  readonly eventId: string;
  readonly lines: readonly { readonly sku: string; readonly quantity: number }[];
}

/**
 * The inventory's state, in memory: reservations by order and the event ids already applied.
 * Remembering event ids is what makes the consumer idempotent: Kafka delivers at least once.
 */
export interface InventoryStore {
  hasProcessed(eventId: string): boolean;
  reserve(reservation: Reservation): void;
  reservations(): readonly Reservation[];
  /** Per sku, the quantity reserved so far. */
  reservedQuantity(sku: string): number;
  /** Messages skipped as invalid (counted, never retried: retrying cannot fix them). */
  readonly rejected: number;
  recordRejected(): void;
}

export function createInventoryStore(): InventoryStore {
  const processed = new Set<string>();
  const byOrder = new Map<string, Reservation>();
  const reserved = new Map<string, number>();
  let rejected = 0;
  return {
    hasProcessed: (eventId) => processed.has(eventId),
    reserve(reservation) {
      processed.add(reservation.eventId);
      byOrder.set(reservation.orderId, reservation);
      for (const l of reservation.lines) reserved.set(l.sku, (reserved.get(l.sku) ?? 0) + l.quantity);
    },
    reservations: () => [...byOrder.values()],
    reservedQuantity: (sku) => reserved.get(sku) ?? 0,
    get rejected() {
      return rejected;
    },
    recordRejected() {
      rejected += 1;
    },
  };
}
