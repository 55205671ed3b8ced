import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, context, trace } from '@opentelemetry/api';
import type { StartedEnvironment } from '@eda-harness/environment';
import { checkHistoryFile, observationsOf, parseHistory } from '../../../chaos/history';
import { Invariant } from '../../../chaos/invariants';
import { ChaosScenario } from '../../../chaos/scenario';
import type { TraceBackend } from '../../../chaos/trace-backend';
import { jaegerTraces } from '../../../chaos/trace-backend-jaeger';
import { batches, exportedPerTrace, incompleteTraces, normalTraceId, spanRecordsOf, traceIdsToFetch, type BackendSpan } from '../../../chaos/trace-backend-spans';
import type { ChaosWorkload, ConsumedMessage, SentMessage, SpanRecord, SpanSource } from '../../../chaos/types';
import { consumed, obs } from './observations.fixtures';

/**
 * Reading the traces invariant's spans back from a trace backend: the pure parts (which traces,
 * the records made of a backend's spans, which traces to ask again), the invariant's verdict over
 * spans from a backend (named, and failing on a span the backend never got), and a scenario run
 * with a backend strategy whose history `chaos check` judges the same way.
 */

const T = (n: number): string => n.toString(16).padStart(32, '0').replace(/^0/, 'a');
const S = (n: number): string => n.toString(16).padStart(16, '0').replace(/^0/, 'b');

describe('trace ids to fetch', () => {
  it('takes every delivery\'s and every producer span\'s trace once, lower-cased, skipping ids that are not trace ids', () => {
    const deliveries = [{ producerTraceId: T(1).toUpperCase() }, { producerTraceId: T(1) }, { producerTraceId: undefined }, { producerTraceId: 'not-a-trace' }, { producerTraceId: '0'.repeat(32) }, { producerTraceId: T(2) }];
    const exported = [
      { kind: 'producer' as const, traceId: T(3) },
      { kind: 'consumer' as const, traceId: T(4) },
      { kind: 'producer' as const, traceId: T(2) },
    ];
    expect(traceIdsToFetch(deliveries, exported)).toEqual([T(1), T(2), T(3)]);
    expect(normalTraceId(undefined)).toBeUndefined();
  });
});

describe('span records of a backend\'s spans', () => {
  it('keeps producer and consumer kinds, maps the rest to other, ends at start + duration, and drops repeats', () => {
    const spans: BackendSpan[] = [
      { traceId: T(1).toUpperCase(), spanId: S(1), name: 'q publish', kind: 'producer', startTimeUnixMs: 1000, durationMs: 2.4 },
      { traceId: T(1), spanId: S(2), parentSpanId: S(1).toUpperCase(), name: 'q process', kind: 'consumer' },
      { traceId: T(1), spanId: S(3), parentSpanId: '', name: 'connect', kind: 'client' },
      { traceId: T(1), spanId: S(1), name: 'q publish', kind: 'producer', startTimeUnixMs: 1000, durationMs: 2.4 },
    ];
    expect(spanRecordsOf(spans)).toEqual<SpanRecord[]>([
      { name: 'q publish', kind: 'producer', traceId: T(1), spanId: S(1), parentSpanId: undefined, atMs: 1002 },
      { name: 'q process', kind: 'consumer', traceId: T(1), spanId: S(2), parentSpanId: S(1) },
      { name: 'connect', kind: 'other', traceId: T(1), spanId: S(3), parentSpanId: undefined },
    ]);
  });

  it('asks again only for traces holding fewer spans than were exported', () => {
    const exported = exportedPerTrace([{ traceId: T(1) }, { traceId: T(1) }, { traceId: T(2).toUpperCase() }]);
    expect(exported).toEqual(new Map([[T(1), 2], [T(2), 1]]));
    const read = new Map([[T(1), 1], [T(2), 1]]);
    expect(incompleteTraces([T(1), T(2), T(3)], read, exported)).toEqual([T(1)]);
  });

  it('batches', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 3)).toEqual([]);
    expect(() => batches([1], 0)).toThrow('batch size must be a positive integer, got 0');
  });
});

describe('Invariant.tracesIntact over spans read from a backend', () => {
  const source: SpanSource = { backend: 'Jaeger', url: 'http://127.0.0.1:16686', traces: 2, tracesFound: 2, spans: 4, exported: 4 };
  const pair = (id: string): SpanRecord[] => [
    { name: 'q publish', kind: 'producer', traceId: `t-${id}`, spanId: `p-${id}`, parentSpanId: undefined },
    { name: 'q process', kind: 'consumer', traceId: `t-${id}`, spanId: `c-${id}`, parentSpanId: `p-${id}` },
  ];
  const withSource = (spans: SpanRecord[], src: SpanSource = source) => ({ ...obs({ consumed: [consumed('m1', 1), consumed('m2', 2)], spans }), spanSource: src });

  it('passes naming where the spans were read, with the source\'s figures', () => {
    const r = Invariant.tracesIntact().check(withSource([...pair('m1'), ...pair('m2')]));
    expect(r.passed).toBe(true);
    expect(r.summary).toBe("all 2 consumed messages joined their producer's trace (spans read from Jaeger at http://127.0.0.1:16686: 2 of 2 traces found, 4 spans of 4 exported)");
    expect(r.figures).toEqual({ checked: 2, broken: 0, tracesAsked: 2, tracesFound: 2, spansRead: 4, spansExported: 4 });
  });

  it('fails on a message whose spans the backend never got, naming it and the trace', () => {
    const r = Invariant.tracesIntact().check(withSource([...pair('m1'), pair('m2')[0]!], { ...source, tracesFound: 2, spans: 3 }));
    expect(r.passed).toBe(false);
    expect(r.examples).toEqual(["m2: no consumer span in the producer's trace in Jaeger (trace t-m2)"]);
    const none = Invariant.tracesIntact().check(withSource(pair('m1'), { ...source, tracesFound: 1, spans: 2 }));
    expect(none.examples).toEqual(['m2: traceparent names no producer span in Jaeger (trace t-m2)']);
  });

  it('fails when the backend could not be read, saying why', () => {
    const r = Invariant.tracesIntact().check(withSource([], { ...source, tracesFound: 0, spans: 0, error: 'reading traces from http://127.0.0.1:16686: fetch failed' }));
    expect(r).toMatchObject({ passed: false, summary: 'the spans could not be read from Jaeger: reading traces from http://127.0.0.1:16686: fetch failed' });
  });
});

describe('jaegerTraces', () => {
  const env = {} as StartedEnvironment;
  it('refuses an environment without Jaeger, saying how to add one', () => {
    expect(() => jaegerTraces().open(env, () => undefined)).toThrow('the traces invariant was told to read its spans from Jaeger, but the environment has no Jaeger');
    expect(jaegerTraces().needs).toEqual({ jaeger: true });
    expect(jaegerTraces({ otlpHttpUrl: 'http://x', queryUrl: 'http://y' }).needs).toEqual({});
  });

  it('reads every trace through its reader, a bounded number at a time, and says when the reader fails', async () => {
    let inFlight = 0;
    let most = 0;
    const asked: string[] = [];
    const reader = {
      async trace(id: string): Promise<BackendSpan[]> {
        asked.push(id);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        if (id === T(99)) throw new Error('HTTP 500');
        return [{ traceId: id, spanId: S(1), name: 'p', kind: 'producer' }];
      },
    };
    const lines: string[] = [];
    const run = jaegerTraces({ otlpHttpUrl: 'http://127.0.0.1:1', queryUrl: 'http://127.0.0.1:2/', concurrency: 3, reader: () => reader }).open(env, (l) => lines.push(l));
    const deliveries = Array.from({ length: 10 }, (_, i) => ({ producerTraceId: T(i + 1) }));
    const read = await run.read({ recorded: [], deliveries, progress: (l) => lines.push(l) });
    expect(asked).toHaveLength(10);
    expect(most).toBe(3);
    expect(read.spans).toHaveLength(10);
    expect(read.source).toEqual({ backend: 'Jaeger', url: 'http://127.0.0.1:2', traces: 10, tracesFound: 10, spans: 10, exported: 0, exportFailed: 0 });
    expect(lines.some((l) => /^traces: 10 of 10 traces \(10 spans; 0 sent\) read from Jaeger in \d+\.\d s$/.test(l))).toBe(true);
    const failed = await run.read({ recorded: [], deliveries: [{ producerTraceId: T(99) }], progress: () => undefined });
    expect(failed.spans).toEqual([]);
    expect(failed.source?.error).toBe('reading traces from http://127.0.0.1:2: HTTP 500');
    await run.close();
  });

  it('asks again, within its settle time, for traces holding fewer spans than were relayed to it, then checks what it has', async () => {
    let calls = 0;
    const reader = { trace: async (id: string): Promise<BackendSpan[]> => (calls++, [{ traceId: id, spanId: S(1), name: 'p', kind: 'producer' }]) };
    const lines: string[] = [];
    const run = jaegerTraces({ otlpHttpUrl: 'http://127.0.0.1:1', queryUrl: 'http://127.0.0.1:2', settleMs: 600, reader: () => reader }).open(env, () => undefined);
    const relayed = { perTrace: new Map([[T(1), 2], [T(2), 1]]), failed: 1, lastError: 'HTTP 503' };
    const started = Date.now();
    const read = await run.read({ recorded: [], deliveries: [{ producerTraceId: T(1) }, { producerTraceId: T(2) }], relayed, progress: (l) => lines.push(l) });
    expect(Date.now() - started).toBeLessThan(3000);
    // T(2) complete at once; T(1) (1 of 2) asked again until the settle time ran out.
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(read.source).toEqual({ backend: 'Jaeger', url: 'http://127.0.0.1:2', traces: 2, tracesFound: 2, spans: 2, exported: 3, exportFailed: 1 });
    expect(lines).toContain('traces: 1 of 3 spans could not be sent to Jaeger (HTTP 503)');
    expect(lines).toContain('traces: Jaeger holds fewer spans than were exported for 1 traces; asking again (pass 2)');
    await run.close();
  });
});

/** A workload with no broker: each message gets a producer span and a consumer child, except those `unlinked` says. */
function tracedWorkload(unlinked: (id: string) => boolean): ChaosWorkload {
  return {
    system: 'rabbitmq',
    needs: { rabbitmq: true },
    description: 'in memory, traced',
    async start(ctx) {
      const sent: SentMessage[] = [];
      const got: ConsumedMessage[] = [];
      const tracer = ctx.tracerProvider.getTracer('test');
      for (let seq = 0; seq < 4; seq++) {
        const id = `m${seq}`;
        const t = Date.now();
        const producer = tracer.startSpan('q publish', { kind: SpanKind.PRODUCER });
        const sc = producer.spanContext();
        producer.end();
        if (!unlinked(id)) tracer.startSpan('q process', { kind: SpanKind.CONSUMER }, trace.setSpan(context.active(), producer)).end();
        sent.push({ id, key: 'k0', seq, sentAtMs: t, ackedAtMs: t, error: undefined, poison: false });
        got.push({ id, key: 'k0', seq, atMs: t, partition: undefined, redelivered: false, producerTraceId: sc.traceId, producerSpanId: sc.spanId, deadLettered: false });
      }
      return { destination: 'q', sendPoison: async () => undefined, stopSending: async () => undefined, close: async () => undefined, sent: () => sent, consumed: () => got, events: () => [] };
    },
  };
}

describe('a scenario with a trace backend', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'chaos-trace-backend-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const env = {} as StartedEnvironment;
  const timing = { warmupMs: 0, faultMs: 0, recoveryMs: 0, drainTimeoutMs: 50 };

  /** A backend that "stores" what the harness recorded, except the spans `lose` names. */
  const lossyBackend = (lose: (s: SpanRecord) => boolean): TraceBackend => ({
    name: 'test',
    needs: {},
    open: () => ({
      spanProcessors: [],
      read: async ({ recorded }) => {
        const spans = recorded.filter((s) => !lose(s));
        return { spans, source: { backend: 'TestBackend', url: 'http://backend', traces: 4, tracesFound: 4, spans: spans.length, exported: recorded.length } };
      },
      close: async () => undefined,
    }),
  });

  it('checks the backend\'s spans, records their source in the history, and chaos check agrees', async () => {
    const path = join(dir, 'traced.history.jsonl');
    let lost = 0;
    const backend = lossyBackend((s) => s.kind === 'consumer' && lost++ === 1);
    const result = await new ChaosScenario('traced').withWorkload(tracedWorkload(() => false)).withTiming(timing).withInvariants(Invariant.tracesIntact()).withTraceBackend(backend).run({ env, historyPath: path });
    const verdict = result.invariants[0]!;
    expect(verdict.passed).toBe(false);
    expect(verdict.summary).toBe("1 of 4 consumed messages lost their trace (spans read from TestBackend at http://backend: 4 of 4 traces found, 7 spans of 8 exported)");
    expect(verdict.examples).toEqual([expect.stringMatching(/^m1: no consumer span in the producer's trace in TestBackend \(trace [0-9a-f]{32}\)$/)]);
    const history = parseHistory(readFileSync(path, 'utf8'), path);
    expect(history.header.config.traces).toBe('test');
    expect(observationsOf(history).spanSource).toMatchObject({ backend: 'TestBackend', spans: 7, exported: 8 });
    expect(checkHistoryFile(path).invariants).toEqual(result.invariants);
  });

  it('without a backend, reads the harness\'s recording as before (no source named)', async () => {
    const result = await new ChaosScenario('traced').withWorkload(tracedWorkload((id) => id === 'm2')).withTiming(timing).withInvariants(Invariant.tracesIntact()).run({ env });
    expect(result.invariants[0]).toMatchObject({ passed: false, summary: '1 of 4 consumed messages lost their trace', examples: ["m2: no consumer span in the producer's trace"] });
  });

  it('a backend that cannot be opened fails the run, saying why', async () => {
    const result = await new ChaosScenario('traced').withWorkload(tracedWorkload(() => false)).withTiming(timing).withInvariants(Invariant.tracesIntact()).withTraceBackend(jaegerTraces()).run({ env });
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(/the environment has no Jaeger/);
  });
});
