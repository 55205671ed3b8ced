import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@eda-harness/core';
import type { StartedEnvironment } from '@eda-harness/environment';
import { checkHistory, checkHistoryFile, judgeHistory, observationsOf, parseHistory, summarizeChecks, HISTORY_FORMAT, HISTORY_FORMAT_VERSION } from '../../../chaos/history';
import type { History, HistoryHeader, HistoryRecord } from '../../../chaos/history';
import { Invariant, defaultInvariants } from '../../../chaos/invariants';
import { ChaosScenario } from '../../../chaos/scenario';
import { renderHtml } from '../../../chaos/report/html';
import type { ChaosWorkload, ConsumedMessage, InvariantCheck, SentMessage, RunningWorkload, WorkloadContext } from '../../../chaos/types';

/**
 * The history model: small hand-built histories through the same path the run and `chaos check`
 * take (history → observations → invariants), the reader's refusals, and a scenario run with an
 * in-memory workload whose streamed file re-checks to the run's verdicts.
 */

const T0 = 1_700_000_000_000;

function header(invariants: readonly InvariantCheck[] = defaultInvariants(45_000), extra: Partial<HistoryHeader['config']> = {}): HistoryHeader {
  return {
    type: 'header',
    format: HISTORY_FORMAT,
    version: HISTORY_FORMAT_VERSION,
    scenario: 'hand-built',
    description: 'a hand-built history',
    system: 'kafka',
    startedAt: new Date(T0).toISOString(),
    config: {
      timing: { warmupMs: 1000, faultMs: 1000, recoveryMs: 1000, drainTimeoutMs: 1000 },
      recoveryLimitMs: 45_000,
      workload: 'test',
      faults: [],
      invariants: invariants.map((c) => (c.spec ? { name: c.name, spec: c.spec } : { name: c.name })),
      alertPack: false,
      ...extra,
    },
    environment: { needs: { kafkaNodes: 1 }, provided: 'given' },
    harness: { version: 'test', node: process.version, platform: process.platform },
  };
}

/** Operations in a compact form: a send acknowledged (or failed), a delivery, a fault window. */
const send = (id: string, at: number, o: { key?: string; seq?: number; fail?: boolean } = {}): HistoryRecord[] => [
  { type: 'send', t: T0 + at, id, key: o.key ?? 'k0', seq: o.seq ?? 0, poison: false, destination: 'orders' },
  o.fail ? { type: 'send-failed', t: T0 + at + 5, id, error: 'timed out' } : { type: 'send-ack', t: T0 + at + 5, id, partition: 0, offset: String(at) },
];
const deliver = (id: string, at: number, o: { key?: string; seq?: number; redelivered?: boolean } = {}): HistoryRecord => ({
  type: 'delivery',
  t: T0 + at,
  id,
  key: o.key ?? 'k0',
  seq: o.seq ?? 0,
  consumer: 'g',
  partition: 0,
  redelivered: o.redelivered === true,
  deadLettered: false,
  traceId: `t-${id}`,
  spanId: `p-${id}`,
});
const spansFor = (id: string): HistoryRecord[] => [
  { type: 'span', t: T0, name: 'orders publish', kind: 'producer', traceId: `t-${id}`, spanId: `p-${id}` },
  { type: 'span', t: T0, name: 'orders process', kind: 'consumer', traceId: `t-${id}`, spanId: `c-${id}`, parentSpanId: `p-${id}` },
];
const fault = (start: number, end: number): HistoryRecord[] => [
  { type: 'fault-start', t: T0 + start, fault: 'broker-restart', description: 'restart' },
  { type: 'fault-end', t: T0 + end, fault: 'broker-restart', outcome: 'healed' },
];
const frame = (records: HistoryRecord[], h = header()): History => ({
  header: h,
  records: [{ type: 'scenario-start', t: T0 }, ...records, { type: 'scenario-end', t: T0 + 20_000, alertsWatched: false }],
});
const verdictOf = (history: History, name: string) => {
  const v = checkHistory(history).invariants.find((i) => i.name === name);
  if (!v) throw new Error(`no verdict named ${name}`);
  return v;
};
const toText = (h: History): string => [h.header, ...h.records].map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('invariants over a history', () => {
  const healthy = (): HistoryRecord[] => [
    ...send('m0', 0, { seq: 0 }),
    ...send('m1', 100, { seq: 1 }),
    ...fault(1000, 2000),
    ...send('m2', 2500, { seq: 2 }),
    deliver('m0', 50, { seq: 0 }),
    deliver('m1', 150, { seq: 1 }),
    deliver('m2', 2600, { seq: 2 }),
    ...['m0', 'm1', 'm2'].flatMap(spansFor),
  ];

  it('passes every default invariant on a healthy history', () => {
    const c = checkHistory(frame(healthy()));
    expect(c.invariants.map((i) => [i.name, i.passed])).toEqual(defaultInvariants(45_000).map((i) => [i.name, true]));
    expect(c.passed).toBe(true);
    expect(verdictOf(frame(healthy()), 'recovers within 45 s').figures['recoveryMs']).toBe(600);
  });

  it('fails no-loss naming the acknowledged message whose delivery is missing', () => {
    const records = healthy().filter((r) => !(r.type === 'delivery' && r.id === 'm1'));
    const v = verdictOf(frame(records), 'no acknowledged message lost');
    expect(v.passed).toBe(false);
    expect(v.figures).toEqual({ acked: 3, lost: 1 });
    expect(v.examples[0]).toMatch(/^m1 \(key k0, seq 1, sent at \+100 ms\)$/);
  });

  it('does not count a failed send as lost', () => {
    const records = [...healthy(), ...send('m3', 3000, { seq: 3, fail: true })];
    expect(verdictOf(frame(records), 'no acknowledged message lost').passed).toBe(true);
  });

  it('counts a duplicate delivery, and fails a bound of 0', () => {
    const records = [...healthy(), deliver('m1', 3000, { seq: 1, redelivered: true })];
    const h = frame(records, header([...defaultInvariants(45_000), Invariant.duplicates({ max: 0 })]));
    expect(verdictOf(h, 'duplicates counted')).toMatchObject({ passed: true, figures: { duplicates: 1, duplicatedMessages: 1, flaggedRedelivered: 1 } });
    expect(verdictOf(h, 'at most 0 duplicates')).toMatchObject({ passed: false, examples: ['m1 delivered 2 times'] });
  });

  it('fails per-key order when a key is delivered out of send order', () => {
    const records = healthy().map((r) => (r.type === 'delivery' && r.id === 'm0' ? { ...r, t: T0 + 160 } : r));
    // The history's order is the consumption order: move m0's delivery after m1's.
    const reordered = [...records.filter((r) => !(r.type === 'delivery' && r.id === 'm0')), ...records.filter((r) => r.type === 'delivery' && r.id === 'm0')];
    const v = verdictOf(frame(reordered), 'per-key order kept');
    expect(v.passed).toBe(false);
    expect(v.examples).toEqual(['key k0: seq 0 first delivered after seq 2']);
  });

  it('fails recovery past the limit, and when nothing sent after healing was consumed', () => {
    const late = healthy().map((r) => (r.type === 'delivery' && r.id === 'm2' ? { ...r, t: T0 + 2000 + 50_000 } : r));
    expect(verdictOf(frame(late), 'recovers within 45 s')).toMatchObject({ passed: false, figures: { recoveryMs: 50_000, limitMs: 45_000 } });
    const never = healthy().filter((r) => !(r.type === 'delivery' && r.id === 'm2'));
    expect(verdictOf(frame(never), 'recovers within 45 s').summary).toBe('no message sent after healing was consumed (1 sent)');
  });

  it('fails recovery at once for a fault whose healing failed', () => {
    const records = healthy().map((r) => (r.type === 'fault-end' ? { ...r, outcome: 'heal-failed' as const, error: 'healing broker-restart: boom' } : r));
    expect(verdictOf(frame(records), 'recovers within 45 s').summary).toBe('fault broker-restart never healed: healing broker-restart: boom');
  });

  it('checks traces from the recorded span facts', () => {
    const records = healthy().filter((r) => !(r.type === 'span' && r.kind === 'consumer' && r.traceId === 't-m2'));
    expect(verdictOf(frame(records), 'traces intact').examples).toEqual(["m2: no consumer span in the producer's trace"]);
  });

  it('checks alerts from the recorded state changes', () => {
    const h = header([Invariant.alertFires('EdaExporterStale', { labels: { target: 'kafka' } })], { alertPack: true });
    const alert = (at: number, state: 'firing' | 'inactive'): HistoryRecord => ({ type: 'alert', t: T0 + at, alertname: 'EdaExporterStale', labels: { target: 'kafka' }, state });
    const records: HistoryRecord[] = [...healthy(), alert(1500, 'firing'), alert(4000, 'inactive')];
    const end = { type: 'scenario-end' as const, t: T0 + 20_000, alertsWatched: true };
    const c = checkHistory({ header: h, records: [{ type: 'scenario-start', t: T0 }, ...records, end] });
    expect(c.invariants[0]).toMatchObject({ passed: true, figures: { firedAfterFaultStartMs: 500, resolvedAfterHealMs: 2000 } });
    const unwatched = checkHistory({ header: h, records: [{ type: 'scenario-start', t: T0 }, ...records, { ...end, alertsWatched: false }] });
    expect(unwatched.invariants[0]?.summary).toBe('no Prometheus watched this scenario: run it withAlertPack()');
  });

  it('rebuilds observations: sends in settle order, a send never settled failed with a reason, a fault never ended unhealed', () => {
    const o = observationsOf(
      frame([
        { type: 'send', t: T0 + 1, id: 'a', key: 'k', seq: 0, poison: false, destination: 'd' },
        { type: 'send', t: T0 + 2, id: 'b', key: 'k', seq: 1, poison: false, destination: 'd' },
        { type: 'send-ack', t: T0 + 3, id: 'b' },
        { type: 'fault-start', t: T0 + 4, fault: 'f', description: 'd' },
      ]),
    );
    expect(o.sent.map((m) => [m.id, m.ackedAtMs, m.error])).toEqual([
      ['b', T0 + 3, undefined],
      ['a', undefined, 'never settled: the run ended before the broker answered'],
    ]);
    expect(o.faults).toEqual([{ name: 'f', description: 'd', startMs: T0 + 4, endMs: undefined, error: 'no end recorded: the run stopped during the fault' }]);
    expect([o.startedMs, o.endedMs, o.alerts]).toEqual([T0, T0 + 20_000, undefined]);
  });
});

describe('checkHistory', () => {
  it('reports an invariant without a spec as not re-checkable, with what the run said', () => {
    const custom: InvariantCheck = { name: 'my own rule', check: () => ({ name: 'my own rule', passed: true, summary: '', figures: {}, examples: [] }) };
    const h = frame([...send('m0', 0), deliver('m0', 10), { type: 'verdicts', t: T0 + 20_001, verdicts: [{ name: 'my own rule', passed: true }] }], header([Invariant.noAckedLoss(), custom]));
    const c = checkHistory(h);
    expect(c.invariants.map((i) => i.name)).toEqual(['no acknowledged message lost']);
    expect(c.notRecheckable).toEqual([{ name: 'my own rule', reason: 'a custom invariant: the history holds its name, not its code', runPassed: true }]);
    expect(summarizeChecks([c])).toContain('? my own rule: not re-checkable (a custom invariant: the history holds its name, not its code); the run said PASS');
  });

  it('names a verdict that differs from the one the run recorded, and an unknown factory', () => {
    const h = header([Invariant.noAckedLoss()]);
    const withUnknown = { ...h, config: { ...h.config, invariants: [...h.config.invariants, { name: 'x', spec: { factory: 'rm -rf', args: [] } }] } };
    const c = checkHistory(frame([...send('m0', 0), { type: 'verdicts', t: T0 + 20_001, verdicts: [{ name: 'no acknowledged message lost', passed: true }] }], withUnknown));
    expect(c.passed).toBe(false);
    expect(c.changed).toEqual([{ name: 'no acknowledged message lost', runPassed: true, nowPassed: false }]);
    expect(c.notRecheckable[0]?.reason).toBe('no shipped invariant is called "rm -rf"');
  });

  it('fails a history with no scenario-end (the run stopped early), whatever the invariants say', () => {
    const c = checkHistory({ header: header([Invariant.noAckedLoss()]), records: [...send('m0', 0), deliver('m0', 10)] });
    expect(c.invariants[0]?.passed).toBe(true);
    expect([c.passed, c.error]).toEqual([false, 'the history has no scenario-end record: the run stopped before its end']);
  });
});

describe('parseHistory', () => {
  const good = toText(frame([...send('m0', 0), deliver('m0', 10)]));
  const lines = good.trimEnd().split('\n');
  const bad = (text: string) => {
    try {
      parseHistory(text, 'h.jsonl');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('parsed');
  };

  it('reads back what was written', () => {
    expect(parseHistory(good, 'h.jsonl')).toEqual(frame([...send('m0', 0), deliver('m0', 10)]));
  });

  it('names the line and what is wrong with it', () => {
    expect(bad(lines.map((l, i) => (i === 2 ? l.slice(0, 20) : l)).join('\n'))).toMatch(/^h\.jsonl, line 3: not valid JSON \(/);
    expect(bad([...lines.slice(0, 3), '', ...lines.slice(3)].join('\n'))).toBe('h.jsonl, line 4: the line is empty (every line must be one JSON object)');
    expect(bad([...lines, '[1]'].join('\n'))).toBe('h.jsonl, line 7: must be a JSON object, got an array');
    expect(bad([...lines, '{"type":"deliveryy","t":1}'].join('\n'))).toMatch(/^h\.jsonl, line 7: unknown record type "deliveryy" \(known: scenario-start, send, /);
    expect(bad([...lines, '{"type":"delivery","t":1,"id":"m","key":"k","seq":"0"}'].join('\n'))).toBe('h.jsonl, line 7: delivery record: field "seq" must be a number, got a string');
    expect(bad([...lines, '{"type":"send-ack","id":"m"}'].join('\n'))).toBe('h.jsonl, line 7: send-ack record: field "t" is missing');
    expect(bad([...lines, '{"type":"alert","t":1,"alertname":"A","labels":{},"state":"on"}'].join('\n'))).toBe('h.jsonl, line 7: alert record: field "state" must be one of pending, firing, inactive, got "on"');
    expect(bad([...lines, lines[0]].join('\n'))).toBe('h.jsonl, line 7: a second header: two histories were joined into one file (a history has one header, on line 1)');
  });

  it('refuses a file that is not a history, an empty one, and an unknown format version', () => {
    expect(bad('{"hello":1}\n')).toMatch(/^h\.jsonl, line 1: the first line must be the history header/);
    expect(bad('')).toBe('h.jsonl is empty: it is not a chaos history');
    expect(bad(good.replace(`"version":${HISTORY_FORMAT_VERSION}`, '"version":99'))).toBe(`h.jsonl, line 1: unknown history format version 99 (this eda-harness reads version ${HISTORY_FORMAT_VERSION})`);
  });

  it('says why a file cannot be read', () => {
    expect(() => checkHistoryFile('/no/such/history.jsonl')).toThrow('Cannot read the history /no/such/history.jsonl: no such file');
  });
});

/** An in-memory workload (no broker): sends are acknowledged at once and delivered unless `lose` says not. */
function fakeWorkload(opts: { lose?: (id: string) => boolean; streams?: boolean } = {}): ChaosWorkload {
  return {
    system: 'rabbitmq',
    needs: { rabbitmq: true },
    description: 'in memory',
    async start(ctx: WorkloadContext): Promise<RunningWorkload> {
      const sent: SentMessage[] = [];
      const consumed: ConsumedMessage[] = [];
      const log = opts.streams === false ? () => undefined : (ctx.history ?? (() => undefined));
      for (let seq = 0; seq < 5; seq++) {
        const id = `m${seq}`;
        const t = Date.now();
        log({ type: 'send', t, id, key: 'k0', seq, poison: false, destination: 'q' });
        log({ type: 'send-ack', t, id });
        sent.push({ id, key: 'k0', seq, sentAtMs: t, ackedAtMs: t, error: undefined, poison: false });
        if (opts.lose?.(id)) continue;
        log({ type: 'delivery', t, id, key: 'k0', seq, consumer: 'c', redelivered: false, deadLettered: false });
        consumed.push({ id, key: 'k0', seq, atMs: t, partition: undefined, redelivered: false, producerTraceId: undefined, producerSpanId: undefined, deadLettered: false });
      }
      return { destination: 'q', sendPoison: async () => undefined, stopSending: async () => undefined, close: async () => undefined, sent: () => sent, consumed: () => consumed, events: () => [] };
    },
  };
}

describe('a scenario run and its history', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'chaos-history-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const env = {} as StartedEnvironment;
  const timing = { warmupMs: 0, faultMs: 0, recoveryMs: 0, drainTimeoutMs: 50 };
  const scenario = (w: ChaosWorkload) => new ChaosScenario('in-memory').withWorkload(w).withTiming(timing).withInvariants(Invariant.noAckedLoss(), Invariant.perKeyOrder(), Invariant.duplicates());

  it('streams the history it computes its verdicts from; chaos check on the file gives the same verdicts', async () => {
    const path = join(dir, 'in-memory.history.jsonl');
    const result = await scenario(fakeWorkload()).run({ env, historyPath: path, harnessVersion: 'eda-harness test' });
    expect(result.history).toBe(path);
    expect(result.passed).toBe(true);
    const check = checkHistoryFile(path);
    expect(check.invariants).toEqual(result.invariants);
    expect(check.passed).toBe(result.passed);
    const text = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(text[0] ?? '')).toMatchObject({ type: 'header', scenario: 'in-memory', harness: { version: 'eda-harness test' }, config: { invariants: [{ spec: { factory: 'noAckedLoss', args: [] } }, {}, {}] } });
    expect(JSON.parse(text[text.length - 1] ?? '')).toMatchObject({ type: 'verdicts', verdicts: [{ passed: true }, { passed: true }, { passed: true }] });

    // Drop one delivery of an acknowledged message: no-loss fails, naming it.
    writeFileSync(path, `${text.filter((l) => !(l.includes('"type":"delivery"') && l.includes('"id":"m3"'))).join('\n')}\n`);
    const edited = checkHistoryFile(path);
    expect(edited.passed).toBe(false);
    expect(edited.invariants[0]).toMatchObject({ passed: false, examples: [expect.stringMatching(/^m3 \(key k0, seq 3/)] });
    expect(edited.changed).toEqual([{ name: 'no acknowledged message lost', runPassed: true, nowPassed: false }]);
  });

  it('reports the loss the workload saw, from the history', async () => {
    const result = await scenario(fakeWorkload({ lose: (id) => id === 'm2' })).run({ env });
    expect(result.invariants[0]).toMatchObject({ passed: false, examples: [expect.stringMatching(/^m2 /)] });
  });

  it('copies what a workload that does not stream kept in memory into the history', async () => {
    const path = join(dir, 'h.jsonl');
    const result = await scenario(fakeWorkload({ streams: false, lose: (id) => id === 'm4' })).run({ env, historyPath: path });
    expect(result.counts).toMatchObject({ sent: 5, acked: 5, deliveries: 4 });
    expect(checkHistoryFile(path).invariants).toEqual(result.invariants);
    expect(judgeHistory(parseHistory(readFileSync(path, 'utf8'), path), [Invariant.noAckedLoss()]).invariants[0]?.examples[0]).toMatch(/^m4 /);
  });
});

describe('the HTML report', () => {
  it('names the history file beside it and how to re-check it', () => {
    const result = { name: 's', description: 'd', system: 'kafka' as const, passed: true, startedAt: new Date(T0).toISOString(), durationMs: 1, counts: { sent: 0, acked: 0, failed: 0, deliveries: 0, uniqueConsumed: 0, duplicates: 0, poison: 0 }, faults: [], invariants: [], timeline: [], events: [], alerts: [], error: undefined };
    const html = (history?: string) => renderHtml({ tool: 't', startedAt: result.startedAt, durationMs: 1, passed: true, scenarios: [{ ...result, ...(history ? { history } : {}) }] });
    expect(html('/tmp/out/s.history.jsonl')).toContain('<code>eda-harness chaos check s.history.jsonl</code>');
    expect(html()).not.toContain('chaos check');
  });
});
