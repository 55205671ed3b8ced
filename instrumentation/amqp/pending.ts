import type { Pending } from './runtime';

/**
 * The unsettled deliveries of one channel by delivery tag, in the order they arrived: the part of
 * a Map the settle rules use (size, get, set, delete, values).
 *
 * The usual consumer acks in its handler, so a channel holds one delivery at a time: set, then
 * delete, per message. A Map that goes from one entry to none gives its table up and builds a new
 * one on the next set, an allocation per message on the hot path. That single delivery is held in
 * a field instead; the Map is used (in arrival order, the field's delivery first) as soon as a
 * second one arrives.
 */
export class PendingDeliveries {
  private readonly map = new Map<number, Pending>();
  /** The only delivery, while the map is empty. */
  private solo: Pending | undefined;

  get size(): number {
    return this.solo !== undefined ? 1 : this.map.size;
  }

  get(tag: number): Pending | undefined {
    const solo = this.solo;
    if (solo !== undefined) return solo.deliveryTag === tag ? solo : undefined;
    return this.map.get(tag);
  }

  set(tag: number, p: Pending): void {
    const solo = this.solo;
    if (solo !== undefined) {
      if (solo.deliveryTag === tag) {
        this.solo = p;
        return;
      }
      this.map.set(solo.deliveryTag, solo);
      this.solo = undefined;
      this.map.set(tag, p);
      return;
    }
    if (this.map.size === 0 && p.deliveryTag === tag) this.solo = p;
    else this.map.set(tag, p);
  }

  delete(tag: number): boolean {
    const solo = this.solo;
    if (solo !== undefined) {
      if (solo.deliveryTag !== tag) return false;
      this.solo = undefined;
      return true;
    }
    return this.map.delete(tag);
  }

  /** In arrival order (oldest first). */
  values(): IterableIterator<Pending> {
    return this.solo !== undefined ? [this.solo].values() : this.map.values();
  }
}
