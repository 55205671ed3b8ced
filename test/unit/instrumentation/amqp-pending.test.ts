import fc from 'fast-check';
import { PendingDeliveries } from '../../../instrumentation/amqp/pending';
import type { Pending } from '../../../instrumentation/amqp/runtime';

const delivery = (deliveryTag: number, id: unknown = deliveryTag): Pending => ({ deliveryTag, id }) as unknown as Pending;
const ids = (d: PendingDeliveries): unknown[] => [...d.values()].map((p) => (p as unknown as { id: unknown }).id);

describe('PendingDeliveries', () => {
  it('holds one delivery without the map and moves it there, first, when a second arrives', () => {
    const d = new PendingDeliveries();
    d.set(1, delivery(1));
    expect(d.size).toBe(1);
    expect(d.get(1)?.deliveryTag).toBe(1);
    expect(d.get(2)).toBeUndefined();
    d.set(2, delivery(2));
    d.set(3, delivery(3));
    expect(ids(d)).toEqual([1, 2, 3]);
    expect(d.delete(2)).toBe(true);
    expect(d.delete(2)).toBe(false);
    expect(ids(d)).toEqual([1, 3]);
    expect(d.values().next().value?.deliveryTag).toBe(1);
  });

  it('replaces a delivery set again under the same tag in place, as a Map does', () => {
    const d = new PendingDeliveries();
    d.set(5, delivery(5, 'a'));
    d.set(5, delivery(5, 'b'));
    expect(d.size).toBe(1);
    expect(ids(d)).toEqual(['b']);
    d.set(6, delivery(6));
    d.set(5, delivery(5, 'c'));
    expect(ids(d)).toEqual(['c', 6]);
  });

  it('answers exactly as a Map would for any sequence of sets and deletes', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), tag: fc.integer({ min: 1, max: 6 }), id: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), tag: fc.integer({ min: 1, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const d = new PendingDeliveries();
        const m = new Map<number, Pending>();
        for (const o of ops) {
          if (o.kind === 'set') {
            d.set(o.tag, delivery(o.tag, o.id));
            m.set(o.tag, delivery(o.tag, o.id));
          } else {
            expect(d.delete(o.tag)).toBe(m.delete(o.tag));
          }
          expect(d.size).toBe(m.size);
          expect(ids(d)).toEqual([...m.values()].map((p) => (p as unknown as { id: unknown }).id));
          for (let t = 1; t <= 6; t++) expect((d.get(t) as unknown as { id: unknown } | undefined)?.id).toBe((m.get(t) as unknown as { id: unknown } | undefined)?.id);
        }
      }),
    );
  });
});
