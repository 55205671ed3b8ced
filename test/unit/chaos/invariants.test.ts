import { Invariant } from '../../../chaos/invariants';
import type { InvariantCheck, Observations } from '../../../chaos/types';
import { consumed, obs, sent } from './observations.fixtures';

const check = (inv: InvariantCheck, o: Observations) => inv.check(o);

describe('Invariant.noAckedLoss', () => {
  it('passes when every acknowledged message was consumed', () => {
    const r = check(Invariant.noAckedLoss(), obs({ sent: [sent('m1', 0), sent('m2', 100, { seq: 1 })], consumed: [consumed('m1', 10), consumed('m2', 110, { seq: 1 })] }));
    expect(r.name).toBe('no acknowledged message lost');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ acked: 2, lost: 0 });
    expect(r.summary).toBe('all 2 acknowledged messages were consumed');
    expect(r.examples).toEqual([]);
  });

  it('fails with the lost message described relative to the scenario start', () => {
    const r = check(Invariant.noAckedLoss(), obs({ sent: [sent('m1', 0), sent('m2', 4200, { key: 'k3', seq: 7 })], consumed: [consumed('m1', 10)] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ acked: 2, lost: 1 });
    expect(r.summary).toBe('1 of 2 acknowledged messages were never consumed');
    expect(r.examples).toEqual(['m2 (key k3, seq 7, sent at +4200 ms)']);
  });

  it('does not count failed (un-acknowledged) sends that were never consumed', () => {
    const r = check(Invariant.noAckedLoss(), obs({ sent: [sent('m1', 0), sent('m2', 100, { seq: 1, failed: true })], consumed: [consumed('m1', 10)] }));
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ acked: 1, lost: 0 });
  });

  it('counts an acknowledged message seen only by the dead-letter reader as consumed', () => {
    const r = check(Invariant.noAckedLoss(), obs({ sent: [sent('m1', 0), sent('p1', 50, { poison: true, key: 'poison' })], consumed: [consumed('m1', 10), consumed('p1', 80, { key: 'poison', deadLettered: true })] }));
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ acked: 2, lost: 0 });
  });

  it('fails when nothing was acknowledged at all: the workload never got going', () => {
    const r = check(Invariant.noAckedLoss(), obs({ sent: [sent('m1', 0, { failed: true }), sent('m2', 100, { failed: true, seq: 1 })] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ acked: 0, lost: 0 });
    expect(r.summary).toBe('nothing was acknowledged: the workload never got going');
  });

  it('fails on an empty history too', () => {
    const r = check(Invariant.noAckedLoss(), obs({}));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ acked: 0, lost: 0 });
  });

  it('caps the examples at 5 but reports the full count', () => {
    const many = Array.from({ length: 8 }, (_, i) => sent(`m${i}`, i * 10, { seq: i }));
    const r = check(Invariant.noAckedLoss(), obs({ sent: many }));
    expect(r.figures).toEqual({ acked: 8, lost: 8 });
    expect(r.examples).toHaveLength(5);
    expect(r.examples[0]).toBe('m0 (key k0, seq 0, sent at +0 ms)');
    expect(r.examples[4]).toBe('m4 (key k0, seq 4, sent at +40 ms)');
  });
});

describe('Invariant.noPhantoms', () => {
  it('passes when every delivery matches a sent message (failed sends included)', () => {
    const r = check(Invariant.noPhantoms(), obs({ sent: [sent('m1', 0), sent('m2', 10, { failed: true })], consumed: [consumed('m1', 5), consumed('m2', 20), consumed('m1', 30)] }));
    expect(r.name).toBe('nothing consumed that was not sent');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ phantoms: 0 });
    expect(r.summary).toBe('every delivery matches a sent message');
  });

  it('fails on deliveries of ids that were never sent', () => {
    const r = check(Invariant.noPhantoms(), obs({ sent: [sent('m1', 0)], consumed: [consumed('m1', 5), consumed('ghost-1', 6), consumed('ghost-2', 7)] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ phantoms: 2 });
    expect(r.summary).toBe('2 deliveries match no sent message');
    expect(r.examples).toEqual(['ghost-1', 'ghost-2']);
  });

  it('caps the examples at 5', () => {
    const ghosts = Array.from({ length: 7 }, (_, i) => consumed(`ghost-${i}`, i));
    const r = check(Invariant.noPhantoms(), obs({ consumed: ghosts }));
    expect(r.figures).toEqual({ phantoms: 7 });
    expect(r.examples).toEqual(['ghost-0', 'ghost-1', 'ghost-2', 'ghost-3', 'ghost-4']);
  });
});

describe('Invariant.duplicates', () => {
  const history = obs({
    sent: [sent('m1', 0), sent('m2', 10, { seq: 1 }), sent('m3', 20, { seq: 2 })],
    consumed: [consumed('m1', 5), consumed('m2', 15, { seq: 1 }), consumed('m1', 25, { redelivered: true }), consumed('m3', 30, { seq: 2 }), consumed('m1', 35, { redelivered: true }), consumed('m2', 40, { seq: 1 })],
  });

  it('without a bound passes even with duplicates, and reports them', () => {
    const r = check(Invariant.duplicates(), history);
    expect(r.name).toBe('duplicates counted');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ duplicates: 3, duplicatedMessages: 2, flaggedRedelivered: 2 });
    expect(r.summary).toBe('3 duplicate deliveries of 3 messages (not bounded in this scenario)');
    expect(r.examples).toEqual(['m1 delivered 3 times', 'm2 delivered 2 times']);
  });

  it('reports zero duplicates as a figure when there are none', () => {
    const r = check(Invariant.duplicates({ max: 0 }), obs({ sent: [sent('m1', 0)], consumed: [consumed('m1', 5)] }));
    expect(r.name).toBe('at most 0 duplicates');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ duplicates: 0, duplicatedMessages: 0, flaggedRedelivered: 0 });
    expect(r.summary).toBe('0 duplicate deliveries of 1 messages (bound 0)');
  });

  it('with max 0 fails on a single duplicate', () => {
    const r = check(Invariant.duplicates({ max: 0 }), obs({ sent: [sent('m1', 0)], consumed: [consumed('m1', 5), consumed('m1', 9)] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ duplicates: 1, duplicatedMessages: 1, flaggedRedelivered: 0 });
    expect(r.summary).toBe('1 duplicate deliveries of 1 messages (bound 0)');
    expect(r.examples).toEqual(['m1 delivered 2 times']);
  });

  it('passes at the bound and fails one above it', () => {
    expect(check(Invariant.duplicates({ max: 3 }), history).passed).toBe(true);
    const r = check(Invariant.duplicates({ max: 2 }), history);
    expect(r.name).toBe('at most 2 duplicates');
    expect(r.passed).toBe(false);
  });

  it('counts deliveries the broker flagged as redelivered, even first ones', () => {
    const r = check(Invariant.duplicates(), obs({ sent: [sent('m1', 0)], consumed: [consumed('m1', 5, { redelivered: true })] }));
    expect(r.figures).toEqual({ duplicates: 0, duplicatedMessages: 0, flaggedRedelivered: 1 });
  });

  it('caps the examples at 5', () => {
    const c = Array.from({ length: 6 }, (_, i) => [consumed(`m${i}`, i), consumed(`m${i}`, 100 + i)]).flat();
    const r = check(Invariant.duplicates(), obs({ consumed: c }));
    expect(r.figures.duplicates).toBe(6);
    expect(r.figures.duplicatedMessages).toBe(6);
    expect(r.examples).toHaveLength(5);
  });
});

describe('Invariant.perKeyOrder', () => {
  it('passes when each key is delivered in send order, keys interleaved', () => {
    const r = check(
      Invariant.perKeyOrder(),
      obs({
        consumed: [
          consumed('a0', 1, { key: 'a', seq: 0 }),
          consumed('b0', 2, { key: 'b', seq: 0 }),
          consumed('b1', 3, { key: 'b', seq: 1 }),
          consumed('a1', 4, { key: 'a', seq: 1 }),
          consumed('b2', 5, { key: 'b', seq: 2 }),
          consumed('a2', 6, { key: 'a', seq: 2 }),
        ],
      }),
    );
    expect(r.name).toBe('per-key order kept');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ checked: 6, outOfOrder: 0 });
    expect(r.summary).toBe('6 first deliveries over 2 keys in order');
  });

  it('does not count a redelivery of an older seq after newer ones', () => {
    const r = check(
      Invariant.perKeyOrder(),
      obs({ consumed: [consumed('a0', 1, { key: 'a', seq: 0 }), consumed('a1', 2, { key: 'a', seq: 1 }), consumed('a2', 3, { key: 'a', seq: 2 }), consumed('a0', 4, { key: 'a', seq: 0, redelivered: true }), consumed('a3', 5, { key: 'a', seq: 3 })] }),
    );
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ checked: 4, outOfOrder: 0 });
  });

  it('tolerates gaps (a failed send) within a key', () => {
    const r = check(Invariant.perKeyOrder(), obs({ consumed: [consumed('a0', 1, { key: 'a', seq: 0 }), consumed('a2', 2, { key: 'a', seq: 2 })] }));
    expect(r.passed).toBe(true);
  });

  it('fails on a first delivery of seq 3 after seq 5 for the same key', () => {
    const r = check(
      Invariant.perKeyOrder(),
      obs({ consumed: [consumed('a4', 1, { key: 'a', seq: 4 }), consumed('b0', 2, { key: 'b', seq: 0 }), consumed('a5', 3, { key: 'a', seq: 5 }), consumed('a3', 4, { key: 'a', seq: 3 }), consumed('a6', 5, { key: 'a', seq: 6 })] }),
    );
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ checked: 5, outOfOrder: 1 });
    expect(r.summary).toBe('1 messages delivered out of order');
    expect(r.examples).toEqual(['key a: seq 3 first delivered after seq 5']);
  });

  it('compares against the highest seq seen so far, not the last one', () => {
    // 5, then 3 (violation), then 4: still behind 5, so a second violation.
    const r = check(Invariant.perKeyOrder(), obs({ consumed: [consumed('a5', 1, { key: 'a', seq: 5 }), consumed('a3', 2, { key: 'a', seq: 3 }), consumed('a4', 3, { key: 'a', seq: 4 })] }));
    expect(r.figures).toEqual({ checked: 3, outOfOrder: 2 });
    expect(r.examples).toEqual(['key a: seq 3 first delivered after seq 5', 'key a: seq 4 first delivered after seq 5']);
  });

  it('skips dead-lettered deliveries', () => {
    const r = check(
      Invariant.perKeyOrder(),
      obs({ consumed: [consumed('p1', 1, { key: 'poison', seq: 1, deadLettered: true }), consumed('p0', 2, { key: 'poison', seq: 0, deadLettered: true }), consumed('a0', 3, { key: 'a', seq: 0 })] }),
    );
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ checked: 1, outOfOrder: 0 });
    expect(r.summary).toBe('1 first deliveries over 1 keys in order');
  });

  it('caps the examples at 5', () => {
    const c = [consumed('a9', 0, { key: 'a', seq: 9 }), ...Array.from({ length: 7 }, (_, i) => consumed(`a${i}`, i + 1, { key: 'a', seq: i }))];
    const r = check(Invariant.perKeyOrder(), obs({ consumed: c }));
    expect(r.figures).toEqual({ checked: 8, outOfOrder: 7 });
    expect(r.examples).toHaveLength(5);
  });
});
