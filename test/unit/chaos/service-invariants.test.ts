import { ServiceInvariant, invariantFromSpec, spansOfOtlpJson, type Observations, type SentMessage, type SpanRecord } from '../../../chaos/index';
import { T0 } from './observations.fixtures';

/** An input sent `at` ms after T0 with trace `t<id>` and send span `s<id>`, acknowledged 5 ms later. */
function input(id: string, at: number, opts: { key?: string; seq?: number } = {}): SentMessage {
  return { id, key: opts.key ?? 'k0', seq: opts.seq ?? 0, sentAtMs: T0 + at, ackedAtMs: T0 + at + 5, error: undefined, poison: false, traceId: `t${id}`, spanId: `s${id}` };
}
/** The service's process span for input `id`, ended `at` ms after T0. */
const processed = (id: string, at: number): SpanRecord => ({ name: 'orders process', kind: 'consumer', traceId: `t${id}`, spanId: `p${id}-${at}`, parentSpanId: `s${id}`, atMs: T0 + at });
const effect = (id: string) => ({ id, effect: 'reservation', atMs: T0 + 19_000 });

function obs(parts: Partial<Observations>): Observations {
  return { scenario: 's', system: 'kafka', startedMs: T0, endedMs: T0 + 20_000, sent: [], consumed: [], faults: [], spans: [], events: [], alerts: undefined, ...parts };
}
const KILL = { name: 'service-kill', description: 'killed', startMs: T0 + 5000, endMs: T0 + 8000, error: undefined };

describe('no acknowledged input lost', () => {
  it('counts an input processed by its process span or by its effect alone (a span lost to SIGKILL)', () => {
    const r = ServiceInvariant.inputsNotLost().check(obs({ sent: [input('a', 0), input('b', 10)], spans: [processed('a', 50)], effects: [effect('b')] }));
    expect(r).toMatchObject({ passed: true, summary: 'all 2 acknowledged inputs were processed', figures: { acked: 2, lost: 0, withProcessSpan: 1, withEffect: 1 } });
  });

  it('names an input with no effect, no output and no process span', () => {
    const r = ServiceInvariant.inputsNotLost().check(obs({ sent: [input('a', 0), input('b', 10, { key: 'k1', seq: 3 })], spans: [processed('a', 50)] }));
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('1 of 2 acknowledged inputs were never processed');
    expect(r.examples).toEqual(['b (key k1, seq 3, sent at +10 ms): no effect, no output, no process span']);
  });

  it('does not count a span in another trace, or a failed send', () => {
    const foreign: SpanRecord = { ...processed('a', 50), traceId: 'other' };
    const failed = { ...input('c', 20), ackedAtMs: undefined, error: 'timeout' };
    const r = ServiceInvariant.inputsNotLost().check(obs({ sent: [input('a', 0), failed], spans: [foreign] }));
    expect(r.figures).toMatchObject({ acked: 1, lost: 1 });
  });

  it('fails when nothing was acknowledged', () => {
    expect(ServiceInvariant.inputsNotLost().check(obs({})).summary).toBe('no input was acknowledged: the harness never got going');
  });
});

describe('effects applied once per input', () => {
  it('names the inputs applied twice or more', () => {
    const r = ServiceInvariant.effectsOnce('reservation').check(obs({ sent: [input('order-1', 0), input('order-2', 10), input('order-3', 20)], effects: [effect('order-1'), effect('order-2'), effect('order-2'), effect('order-3'), effect('order-3'), effect('order-3')] }));
    expect(r.name).toBe('each reservation applied once per input');
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('2 inputs had their reservation applied more than once: order-2 ×2, order-3 ×3');
    expect(r.examples).toEqual(['order-2: reservation applied 2 times', 'order-3: reservation applied 3 times']);
    expect(r.figures).toEqual({ inputsWithEffect: 3, appliedMoreThanOnce: 2, extraApplications: 3 });
  });

  it('passes when each is applied once, ignoring ids this run did not send', () => {
    const r = ServiceInvariant.effectsOnce('reservation').check(obs({ sent: [input('order-1', 0)], effects: [effect('order-1'), effect('earlier-run'), effect('earlier-run')] }));
    expect(r).toMatchObject({ passed: true, summary: '1 inputs, each reservation applied once' });
  });

  it('fails when no effect was recorded at all', () => {
    expect(ServiceInvariant.effectsOnce().check(obs({ sent: [input('a', 0)] })).summary).toMatch(/^no effect was reported/);
  });
});

describe('per-key processing order', () => {
  it('reports a key whose later input was first processed before an earlier one', () => {
    const sent = [input('a0', 0, { seq: 0 }), input('a1', 100, { seq: 1 }), input('b0', 50, { key: 'k1' })];
    const r = ServiceInvariant.processedInOrder().check(obs({ sent, spans: [processed('a1', 200), processed('b0', 210), processed('a0', 300), processed('a0', 400)] }));
    expect(r.passed).toBe(false);
    expect(r.examples).toEqual(['key k0: seq 0 first processed after seq 1']);
  });
});

describe('service recovery and traces', () => {
  it('measures from healing to the first processing of an input sent after it', () => {
    const r = ServiceInvariant.serviceRecoversWithin(5000).check(obs({ sent: [input('old', 4000), input('new', 8100)], faults: [KILL], spans: [processed('old', 8500), processed('new', 9300)] }));
    expect(r).toMatchObject({ passed: true, figures: { recoveryMs: 1300, limitMs: 5000 } });
    const slow = ServiceInvariant.serviceRecoversWithin(1000).check(obs({ sent: [input('new', 8100)], faults: [KILL], spans: [processed('new', 9300)] }));
    expect(slow.passed).toBe(false);
  });

  it('fails a process span that continues no input (the traceparent was lost) and an output in another trace', () => {
    const orphan: SpanRecord = { name: 'orders process', kind: 'consumer', traceId: 'fresh', spanId: 'x', parentSpanId: undefined };
    const output = { id: 'a', key: 'k0', seq: 0, atMs: T0 + 60, partition: 0, redelivered: false, producerTraceId: 'elsewhere', producerSpanId: 'q', deadLettered: false };
    const r = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0)], spans: [processed('a', 50), orphan], consumed: [output] }));
    expect(r.passed).toBe(false);
    expect(r.examples).toEqual(["process span orders process (trace fresh) continues no input's trace: the traceparent was lost on the way", 'a: output in trace elsewhere, its input in ta']);
  });

  it('counts, without failing, processed inputs whose spans were lost', () => {
    const r = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0), input('b', 10)], spans: [processed('a', 50)], effects: [effect('a'), effect('b')] }));
    expect(r.passed).toBe(true);
    expect(r.figures['processedWithoutSpan']).toBe(1);
  });

  it('is rebuilt from the spec saved in a history', () => {
    for (const inv of [ServiceInvariant.inputsNotLost(), ServiceInvariant.effectsOnce('reservation'), ServiceInvariant.processedInOrder(), ServiceInvariant.serviceRecoversWithin(30_000), ServiceInvariant.serviceTraces()]) {
      const rebuilt = invariantFromSpec(inv.spec!);
      expect(typeof rebuilt === 'string' ? rebuilt : rebuilt.name).toBe(inv.name);
    }
    expect(invariantFromSpec({ factory: 'serviceRecoversWithin', args: ['soon'] })).toBe('serviceRecoversWithin takes a limit in milliseconds');
  });
});

describe('OTLP/JSON spans', () => {
  it('reads kind, ids (hex or base64), parent and end time', () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'inventory' } }] },
          scopeSpans: [
            {
              spans: [
                { name: 'orders process', kind: 5, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7', endTimeUnixNano: '1700000000123000000' },
                { name: 'internal', kind: 1, traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex').toString('base64'), spanId: Buffer.from('b7ad6b7169203332', 'hex').toString('base64'), endTimeUnixNano: '1700000000200000000' },
              ],
            },
          ],
        },
      ],
    };
    expect(spansOfOtlpJson(body)).toEqual([
      { serviceName: 'inventory', name: 'orders process', kind: 'consumer', traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7', endMs: 1_700_000_000_123 },
      { serviceName: 'inventory', name: 'internal', kind: 'other', traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203332', parentSpanId: undefined, endMs: 1_700_000_000_200 },
    ]);
    expect(spansOfOtlpJson({})).toEqual([]);
  });
});

describe('poison inputs dead-lettered, never applied', () => {
  const poison = (id: string, at: number): SentMessage => ({ ...input(id, at, { key: 'poison' }), poison: true });
  const dead = (id: string, at: number) => ({ id, key: 'poison', seq: 0, atMs: T0 + at, partition: undefined, redelivered: false, producerTraceId: undefined, producerSpanId: undefined, deadLettered: true });
  const check = (parts: Partial<Observations>) => ServiceInvariant.poisonInputsDeadLettered('email').check(obs(parts));

  it('passes when every poison input reached the dead letters and none was applied', () => {
    const r = check({ sent: [input('a', 0), poison('p0', 10), poison('p1', 20)], consumed: [dead('p0', 100), dead('p1', 120)], effects: [effect('a')] });
    expect(r).toMatchObject({ passed: true, summary: 'all 2 poison inputs dead-lettered, none applied; no good input dead-lettered', figures: { poison: 2, deadLettered: 2, applied: 0, goodDeadLettered: 0 } });
  });

  it('names a poison input never dead-lettered, one applied, and a good input dead-lettered', () => {
    const r = check({ sent: [input('a', 0), poison('p0', 10), poison('p1', 20)], consumed: [dead('p1', 120), { ...dead('a', 130), key: 'k0' }], effects: [{ ...effect('p1'), effect: 'email' }] });
    expect(r.passed).toBe(false);
    expect(r.summary).toBe('of 2 poison inputs: 1 never dead-lettered, 1 applied, 1 good inputs dead-lettered');
    expect(r.examples).toEqual(['p0: poison, never dead-lettered', 'p1: poison, email applied 1 times', 'a (key k0, seq 0): a good input dead-lettered']);
  });

  it('fails when no poison input was acknowledged, and is rebuilt from its spec', () => {
    expect(check({ sent: [input('a', 0)] }).summary).toBe('no poison input was acknowledged: nothing to check');
    const spec = ServiceInvariant.poisonInputsDeadLettered('email').spec!;
    expect(invariantFromSpec(spec)).toMatchObject({ name: 'poison inputs dead-lettered, never applied' });
  });
});

describe('poison inputs rejected, never applied (a service with no dead letters to read)', () => {
  const poison = (id: string, at: number): SentMessage => ({ ...input(id, at, { key: 'poison' }), poison: true });
  const check = (parts: Partial<Observations>) => ServiceInvariant.poisonInputsRejected('reservation').check(obs(parts));

  it('passes when the service saw every poison input (a process span) and applied none', () => {
    expect(check({ sent: [input('a', 0), poison('p0', 10)], spans: [processed('a', 50), processed('p0', 60)], effects: [effect('a')] })).toMatchObject({ passed: true, figures: { poison: 1, seen: 1, applied: 0 } });
  });

  it('names a poison input the service never saw, and one it applied', () => {
    const r = check({ sent: [poison('p0', 10), poison('p1', 20)], spans: [processed('p1', 60)], effects: [effect('p1')] });
    expect(r.passed).toBe(false);
    expect(r.examples).toEqual(['p0: poison, no process span', 'p1: poison, reservation applied 1 times']);
  });
});

describe('traces continue input → process → output: messages from before the run', () => {
  it('counts a process span in a foreign trace with its parent intact (a message left on the queue), but fails a root span and one in an input\'s trace not parented on its send', () => {
    const leftover: SpanRecord = { name: 'orders process', kind: 'consumer', traceId: 'earlier', spanId: 'x1', parentSpanId: 'earlier-send', atMs: T0 + 40 };
    const ok = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0)], spans: [processed('a', 50), leftover] }));
    expect(ok).toMatchObject({ passed: true, figures: { broken: 0, fromBeforeRun: 1 } });
    expect(ok.summary).toContain('1 process spans of messages from before this run');
    const root: SpanRecord = { ...leftover, spanId: 'x2', parentSpanId: undefined };
    const misparented: SpanRecord = { ...leftover, spanId: 'x3', traceId: 'ta', parentSpanId: 'pa-50' };
    const bad = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0)], spans: [processed('a', 50), root, misparented] }));
    expect(bad.passed).toBe(false);
    expect(bad.figures['broken']).toBe(2);
  });
});

describe('traces continue input → process → output: spans read back from a trace backend', () => {
  const source = { backend: 'Jaeger', url: 'http://127.0.0.1:16686', traces: 2, tracesFound: 2, spans: 2, exported: 2 };
  it('names the backend in the verdict and passes when it holds every exported span', () => {
    const r = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0)], spans: [processed('a', 50)], spanSource: source }));
    expect(r.passed).toBe(true);
    expect(r.summary).toContain('(spans read from Jaeger at http://127.0.0.1:16686: 2 of 2 traces found, 2 spans of 2 exported)');
    expect(r.figures).toMatchObject({ spansRead: 2, spansExported: 2 });
  });
  it('fails when the backend holds fewer spans than were exported, although every input left a span', () => {
    const r = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0)], spans: [processed('a', 50)], spanSource: { ...source, spans: 1, exported: 3 } }));
    expect(r.passed).toBe(false);
    expect(r.summary).toMatch(/^2 of 3 exported spans are missing from Jaeger;/);
    expect(r.examples[0]).toBe('2 of 3 exported spans are missing from Jaeger');
  });
  it('fails saying why when the spans could not be read', () => {
    const r = ServiceInvariant.serviceTraces().check(obs({ sent: [input('a', 0)], spans: [processed('a', 50)], spanSource: { ...source, error: 'connect ECONNREFUSED 127.0.0.1:16686' } }));
    expect(r.passed).toBe(false);
    expect(r.summary).toContain('the spans could not be read from Jaeger: connect ECONNREFUSED 127.0.0.1:16686');
  });
});
