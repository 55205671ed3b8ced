import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { InventoryStore, Reservation } from '../inventory-service/inventory-store';

/**
 * The inventory's store kept in a file, one reservation a line, so what the service did survives
 * a SIGKILL: the chaos harness counts reservations per order from it afterwards (the effects
 * probe), and a restarted service reloads the event ids it already applied (idempotency across
 * restarts). Several processes may share the file, as members of one consumer group share a
 * database: before each check the store reads what the others appended since it last looked.
 * `idempotent: false` is the broken variant: it forgets which events it applied.
 */
export function createFileInventoryStore(path: string, options: { idempotent?: boolean } = {}): InventoryStore {
  const idempotent = options.idempotent ?? true;
  const processed = new Set<string>();
  const byOrder = new Map<string, Reservation>();
  const reserved = new Map<string, number>();
  const apply = (r: Reservation): void => {
    processed.add(r.eventId);
    byOrder.set(r.orderId, r);
    for (const l of r.lines) reserved.set(l.sku, (reserved.get(l.sku) ?? 0) + l.quantity);
  };
  // Bytes of the file already applied: only whole lines count (a line being written is read next time).
  let readUpTo = 0;
  const catchUp = (): void => {
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    if (size <= readUpTo) return;
    const buf = Buffer.alloc(size - readUpTo);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, readUpTo);
    } finally {
      closeSync(fd);
    }
    const text = buf.toString('utf8');
    const complete = text.lastIndexOf('\n') + 1;
    readUpTo += Buffer.byteLength(text.slice(0, complete));
    for (const line of text.slice(0, complete).split('\n')) {
      if (line.trim() === '') continue;
      try {
        apply(JSON.parse(line) as Reservation);
      } catch {
        // a line cut short by SIGKILL, then continued by another writer: not a completed reservation
      }
    }
  };
  catchUp();
  let rejected = 0;
  return {
    hasProcessed: (eventId) => {
      if (!idempotent) return false;
      catchUp();
      return processed.has(eventId);
    },
    reserve(reservation) {
      // Written before it counts as done: a crash after this line has reserved, as a database commit would.
      appendFileSync(path, `${JSON.stringify(reservation)}\n`);
      catchUp();
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

/** Every reservation in the file, in the order written (a torn last line, from a kill mid-write, is skipped). */
export function readReservations(path: string): Reservation[] {
  if (!existsSync(path)) return [];
  const out: Reservation[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as Reservation);
    } catch {
      // a line cut short by SIGKILL: that reservation was not completed
    }
  }
  return out;
}

/** Reservations per order id: the effects probe of the reference system's chaos config. */
export function reservationsPerOrder(path: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of readReservations(path)) counts[r.orderId] = (counts[r.orderId] ?? 0) + 1;
  return counts;
}
