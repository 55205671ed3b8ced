import { Invariant, defaultInvariants } from '../../../chaos/invariants';
import type { FaultWindow, AlertObservation, InvariantCheck, Observations, SpanRecord } from '../../../chaos/types';
import { T0, consumed, obs, sent } from './observations.fixtures';

/** A producer span and its consumer child, matching what `consumed(id)` carries by default. */
function tracedPair(id: string): SpanRecord[] {
  return [
    { name: 'orders publish', kind: 'producer', traceId: `t-${id}`, spanId: `p-${id}`, parentSpanId: undefined },
    { name: 'orders process', kind: 'consumer', traceId: `t-${id}`, spanId: `c-${id}`, parentSpanId: `p-${id}` },
  ];
}

function fault(startAt: number, endAt: number | undefined, opts: { name?: string; error?: string } = {}): FaultWindow {
  return { name: opts.name ?? 'broker-kill', description: 'a Kafka broker killed with SIGKILL, then started again', startMs: T0 + startAt, endMs: endAt === undefined ? undefined : T0 + endAt, error: opts.error };
}

const check = (inv: InvariantCheck, o: Observations) => inv.check(o);

describe('Invariant.recoveryWithin', () => {
  it('is named after its limit in seconds', () => {
    expect(Invariant.recoveryWithin(30_000).name).toBe('recovers within 30 s');
    expect(Invariant.recoveryWithin(1500).name).toBe('recovers within 1.5 s');
  });

  it('passes when no fault was injected', () => {
    const r = check(Invariant.recoveryWithin(1000), obs({ sent: [sent('m1', 0)], consumed: [consumed('m1', 5)] }));
    expect(r.passed).toBe(true);
    expect(r.summary).toBe('no fault was injected');
    expect(r.figures).toEqual({});
  });

  it('fails at once when a fault never healed', () => {
    const r = check(Invariant.recoveryWithin(60_000), obs({ faults: [fault(1000, 2000, { name: 'latency' }), fault(1000, undefined, { error: 'healing broker-kill: node did not start' })] }));
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('fault broker-kill never healed: healing broker-kill: node did not start');
  });

  it('says "unknown error" for an unhealed fault without an error text', () => {
    const r = check(Invariant.recoveryWithin(60_000), obs({ faults: [fault(1000, undefined)] }));
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('fault broker-kill never healed: unknown error');
  });

  // Fault 1000..3000 and a second one healed at 5000: recovery is measured from 5000.
  // b1 was sent before healing and consumed after it (a backlog): it must not count as recovery.
  const healed = obs({
    sent: [sent('w1', 500), sent('b1', 2500, { seq: 1 }), sent('b2', 4900, { seq: 2 }), sent('r1', 5100, { seq: 3 }), sent('r2', 6000, { seq: 4 })],
    consumed: [consumed('w1', 600), consumed('b1', 5050, { seq: 1 }), consumed('b2', 5200, { seq: 2 }), consumed('r1', 7500, { seq: 3 }), consumed('r2', 7600, { seq: 4 })],
    faults: [fault(1000, 3000, { name: 'latency' }), fault(1200, 5000)],
  });

  it('measures from the last heal to the first consumption of a message sent after healing', () => {
    const r = check(Invariant.recoveryWithin(2500), healed);
    expect(r.name).toBe('recovers within 2.5 s');
    expect(r.passed).toBe(true);
    // r1: consumed 7500, healed 5000. Longest pause since the first fault started (1000): 1000 → 5050.
    expect(r.figures).toEqual({ recoveryMs: 2500, limitMs: 2500, longestConsumptionGapMs: 4050 });
    expect(r.summary).toBe('flow restored 2500 ms after healing (limit 2500 ms); longest pause in consumption 4050 ms');
  });

  it('fails when recovery took longer than the limit', () => {
    const r = check(Invariant.recoveryWithin(2000), healed);
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ recoveryMs: 2500, limitMs: 2000, longestConsumptionGapMs: 4050 });
  });

  it('ignores poison messages sent after healing', () => {
    const o = obs({
      sent: [sent('p1', 3100, { poison: true, key: 'poison' }), sent('r1', 3200, { seq: 1 })],
      consumed: [consumed('p1', 3150, { key: 'poison', deadLettered: true }), consumed('r1', 3900, { seq: 1 })],
      faults: [fault(1000, 3000)],
    });
    const r = check(Invariant.recoveryWithin(10_000), o);
    expect(r.figures.recoveryMs).toBe(900);
  });

  it('fails when only backlog (sent before healing) was consumed after healing', () => {
    const o = obs({ sent: [sent('b1', 2000), sent('r1', 3500, { seq: 1, failed: true })], consumed: [consumed('b1', 4000)], faults: [fault(1000, 3000)] });
    const r = check(Invariant.recoveryWithin(60_000), o);
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('no message sent after healing was consumed (1 sent)');
    expect(r.figures).toEqual({ sentAfterHeal: 1 });
  });
});

describe('Invariant.tracesIntact', () => {
  it('passes when every delivery joined its producer trace, ignoring dead-lettered and repeated deliveries', () => {
    const r = check(
      Invariant.tracesIntact(),
      obs({
        consumed: [consumed('m1', 1), consumed('m2', 2), consumed('m1', 3, { traceId: null, spanId: null }), consumed('p1', 4, { deadLettered: true, traceId: null, spanId: null })],
        spans: [...tracedPair('m1'), ...tracedPair('m2')],
      }),
    );
    expect(r.name).toBe('traces intact');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ checked: 2, broken: 0 });
    expect(r.summary).toBe('all 2 consumed messages joined their producer\'s trace');
  });

  it('fails on a delivery without a traceparent header', () => {
    const r = check(Invariant.tracesIntact(), obs({ consumed: [consumed('m1', 1), consumed('m2', 2, { traceId: null, spanId: null })], spans: [...tracedPair('m1'), ...tracedPair('m2')] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ checked: 2, broken: 1 });
    expect(r.summary).toBe('1 of 2 consumed messages lost their trace');
    expect(r.examples).toEqual(['m2: no traceparent header']);
  });

  it('fails on a traceparent naming no recorded producer span', () => {
    const r = check(Invariant.tracesIntact(), obs({ consumed: [consumed('m1', 1, { spanId: 'p-unknown' })], spans: tracedPair('m1') }));
    expect(r.passed).toBe(false);
    expect(r.examples).toEqual(['m1: traceparent names no recorded producer span']);
  });

  it('fails when the producer span id is known but in another trace', () => {
    const r = check(Invariant.tracesIntact(), obs({ consumed: [consumed('m1', 1, { traceId: 't-other' })], spans: tracedPair('m1') }));
    expect(r.passed).toBe(false);
    expect(r.examples).toEqual(['m1: traceparent names no recorded producer span']);
  });

  it('fails when the producer span was recorded but no consumer span is its child', () => {
    const producerOnly = tracedPair('m1').filter((s) => s.kind === 'producer');
    const orphanConsumer: SpanRecord = { name: 'orders process', kind: 'consumer', traceId: 't-m1', spanId: 'c-m1', parentSpanId: undefined };
    const r = check(Invariant.tracesIntact(), obs({ consumed: [consumed('m1', 1)], spans: [...producerOnly, orphanConsumer] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ checked: 1, broken: 1 });
    expect(r.examples).toEqual(["m1: no consumer span in the producer's trace"]);
  });

  it('fails when nothing was consumed (dead-lettered deliveries do not count)', () => {
    const r = check(Invariant.tracesIntact(), obs({ consumed: [consumed('p1', 1, { deadLettered: true })], spans: tracedPair('p1') }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ checked: 0, broken: 0 });
    expect(r.summary).toBe('nothing consumed to check');
  });

  it('caps the examples at 5', () => {
    const c = Array.from({ length: 9 }, (_, i) => consumed(`m${i}`, i, { traceId: null, spanId: null }));
    const r = check(Invariant.tracesIntact(), obs({ consumed: c }));
    expect(r.figures).toEqual({ checked: 9, broken: 9 });
    expect(r.examples).toHaveLength(5);
  });
});

describe('Invariant.poisonDeadLettered', () => {
  const good = [sent('m1', 0), sent('m2', 10, { seq: 1 })];
  const poison = [sent('p0', 20, { key: 'poison', seq: 0, poison: true }), sent('p1', 30, { key: 'poison', seq: 1, poison: true })];

  it('passes when every acknowledged poison message, and nothing else, was dead-lettered', () => {
    const r = check(
      Invariant.poisonDeadLettered(),
      obs({ sent: [...good, ...poison], consumed: [consumed('m1', 5), consumed('m2', 15, { seq: 1 }), consumed('p0', 40, { key: 'poison', deadLettered: true }), consumed('p1', 50, { key: 'poison', seq: 1, deadLettered: true })] }),
    );
    expect(r.name).toBe('poison messages dead-lettered');
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ poison: 2, deadLettered: 2, missing: 0, wronglyDeadLettered: 0 });
    expect(r.summary).toBe('all 2 poison messages dead-lettered, no good message was');
  });

  it('fails when a poison message was not dead-lettered', () => {
    const r = check(Invariant.poisonDeadLettered(), obs({ sent: [...good, ...poison], consumed: [consumed('m1', 5), consumed('p0', 40, { key: 'poison', deadLettered: true })] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ poison: 2, deadLettered: 1, missing: 1, wronglyDeadLettered: 0 });
    expect(r.summary).toBe('1 poison messages not dead-lettered, 0 good messages dead-lettered');
    expect(r.examples).toEqual(['p1 not dead-lettered']);
  });

  it('fails when a good message was dead-lettered', () => {
    const r = check(
      Invariant.poisonDeadLettered(),
      obs({ sent: [...good, ...poison], consumed: [consumed('m1', 5, { deadLettered: true }), consumed('p0', 40, { key: 'poison', deadLettered: true }), consumed('p1', 50, { key: 'poison', seq: 1, deadLettered: true })] }),
    );
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ poison: 2, deadLettered: 3, missing: 0, wronglyDeadLettered: 1 });
    expect(r.summary).toBe('0 poison messages not dead-lettered, 1 good messages dead-lettered');
    expect(r.examples).toEqual(['m1 dead-lettered']);
  });

  it('does not call a dead-lettered poison message "good" when its send failed (it may still have been written)', () => {
    const r = check(
      Invariant.poisonDeadLettered(),
      obs({
        sent: [sent('p0', 20, { key: 'poison', poison: true }), sent('p1', 30, { key: 'poison', seq: 1, poison: true, failed: true })],
        consumed: [consumed('p0', 40, { key: 'poison', deadLettered: true }), consumed('p1', 50, { key: 'poison', seq: 1, deadLettered: true })],
      }),
    );
    expect(r.passed).toBe(true);
    expect(r.figures['wronglyDeadLettered']).toBe(0);
  });

  it('fails when no poison message was acknowledged', () => {
    const unacked = [sent('p0', 20, { key: 'poison', poison: true, failed: true })];
    const r = check(Invariant.poisonDeadLettered(), obs({ sent: [...good, ...unacked], consumed: [consumed('m1', 5)] }));
    expect(r.passed).toBe(false);
    expect(r.figures).toEqual({ poison: 0, deadLettered: 0, missing: 0, wronglyDeadLettered: 0 });
    expect(r.summary).toBe('no poison message was acknowledged');
  });

  it('caps the examples at 5, missing ones first', () => {
    const manyPoison = Array.from({ length: 4 }, (_, i) => sent(`p${i}`, 100 + i, { key: 'poison', seq: i, poison: true }));
    const wrong = Array.from({ length: 3 }, (_, i) => consumed(`m${i}`, 200 + i, { deadLettered: true }));
    const r = check(Invariant.poisonDeadLettered(), obs({ sent: manyPoison, consumed: wrong }));
    expect(r.figures).toEqual({ poison: 4, deadLettered: 3, missing: 4, wronglyDeadLettered: 3 });
    expect(r.examples).toEqual(['p0 not dead-lettered', 'p1 not dead-lettered', 'p2 not dead-lettered', 'p3 not dead-lettered', 'm0 dead-lettered']);
  });
});

describe('defaultInvariants', () => {
  it('checks loss, phantoms, duplicates (unbounded), order, recovery with the given limit and traces', () => {
    expect(defaultInvariants(45_000).map((i) => i.name)).toEqual([
      'no acknowledged message lost',
      'nothing consumed that was not sent',
      'duplicates counted',
      'per-key order kept',
      'recovers within 45 s',
      'traces intact',
    ]);
  });

  it('all pass on a healthy history through a healed fault', () => {
    const o = obs({
      sent: [sent('m1', 0), sent('m2', 2000, { seq: 1 }), sent('m3', 4000, { seq: 2 })],
      consumed: [consumed('m1', 10, { seq: 0 }), consumed('m2', 3100, { seq: 1 }), consumed('m3', 4010, { seq: 2 })],
      faults: [fault(1000, 3000)],
      spans: ['m1', 'm2', 'm3'].flatMap(tracedPair),
    });
    const results = defaultInvariants(5000).map((i) => i.check(o));
    expect(results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.summary}`)).toEqual([]);
  });
});

describe('Invariant.alertFires', () => {
  const alert = (at: number, state: AlertObservation['state'], labels: Record<string, string> = { target: 'kafka', severity: 'warning' }): AlertObservation => ({ atMs: T0 + at, alertname: 'EdaExporterStale', labels, state });
  const window = [fault(3000, 15_000)];

  it('fails when no Prometheus watched the scenario', () => {
    const r = check(Invariant.alertFires('EdaExporterStale'), obs({ faults: window }));
    expect(r.passed).toBe(false);
    expect(r.summary).toContain('withAlertPack()');
  });

  it('passes when the alert fires after the fault starts and resolves after healing, with both delays', () => {
    const r = check(Invariant.alertFires('EdaExporterStale', { labels: { target: 'kafka' } }), obs({ faults: window, alerts: [alert(6000, 'pending'), alert(9000, 'firing'), alert(18_000, 'inactive')] }));
    expect(r.passed).toBe(true);
    expect(r.figures).toEqual({ firedAfterFaultStartMs: 6000, resolvedAfterHealMs: 3000 });
  });

  it('fails a false alarm: firing before the fault started', () => {
    const r = check(Invariant.alertFires('EdaExporterStale'), obs({ faults: window, alerts: [alert(1000, 'firing'), alert(2000, 'inactive'), alert(9000, 'firing'), alert(18_000, 'inactive')] }));
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('fired 2000 ms before the fault: a false alarm');
  });

  it('fails when the alert only went pending', () => {
    const r = check(Invariant.alertFires('EdaExporterStale'), obs({ faults: window, alerts: [alert(9000, 'pending'), alert(16_000, 'inactive')] }));
    expect(r.passed).toBe(false);
    expect(r.summary).toMatch(/pending but never fired/);
  });

  it('fails when it is still firing at the end, unless resolves is false', () => {
    const history = obs({ faults: window, alerts: [alert(9000, 'firing')] });
    expect(check(Invariant.alertFires('EdaExporterStale'), history).passed).toBe(false);
    const lenient = check(Invariant.alertFires('EdaExporterStale', { resolves: false }), history);
    expect(lenient.passed).toBe(true);
    expect(lenient.figures).toEqual({ firedAfterFaultStartMs: 6000 });
  });

  it('matches labels as a subset and ignores other alerts and other label values', () => {
    const other = { atMs: T0 + 9000, alertname: 'KafkaConsumerLagSecondsHigh', labels: { target: 'kafka' }, state: 'firing' as const };
    const r = check(Invariant.alertFires('EdaExporterStale', { labels: { target: 'kafka' } }), obs({ faults: window, alerts: [other, alert(9000, 'firing', { target: 'rabbitmq' })] }));
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('never fired');
  });
});
