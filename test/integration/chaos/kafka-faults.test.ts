import { exactlyOnceInvariants } from '../../../chaos/catalog';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosScenario, Fault, checkHistoryFile, scenarioByName, summarize, type ScenarioResult } from '../../../chaos/index';
import { Workload } from '../../../chaos/workloads';
import { Environment, type StartedEnvironment } from '../../../environment/index';

/**
 * The Kafka faults beside latency and partition, against one real Kafka behind Toxiproxy shared
 * by the file: a bandwidth limit and connection resets (TCP RST) on every client connection. Each
 * must pass the default invariants, and each must visibly bite (else the scenario proves nothing).
 * Then exactly once across a broker crash: a transactional producer (some transactions aborted on
 * purpose) read read_committed must show no duplicate and no aborted record; the negative control
 * reads the same traffic read_uncommitted and must be caught delivering the aborted records.
 */

const SHORT = { warmupMs: 2000, faultMs: 4000, recoveryMs: 3000, drainTimeoutMs: 45_000 };

let env: StartedEnvironment;
const historyDir = mkdtempSync(join(tmpdir(), 'chaos-kafka-faults-history-'));

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy().start();
}, 120_000);

afterAll(async () => {
  await env?.stop();
  rmSync(historyDir, { recursive: true, force: true });
});

function expectPassed(r: ScenarioResult): void {
  const report = summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: r.passed, scenarios: [r] });
  console.log(`${r.name}: ${r.durationMs} ms, ${r.counts.acked} acked, ${r.counts.failed} failed, ${r.counts.duplicates} duplicates`);
  if (!r.passed) throw new Error(`scenario ${r.name} failed:\n${report}`);
}

const invariant = (r: ScenarioResult, name: string) => {
  const found = r.invariants.find((i) => i.name === name);
  if (!found) throw new Error(`no invariant "${name}" in ${r.invariants.map((i) => i.name).join(', ')}`);
  return found;
};

/** The timeline's seconds that lie inside the fault window, and the ones before it. */
function phases(r: ScenarioResult) {
  const t0 = Date.parse(r.startedAt);
  const f = r.faults[0]!;
  const from = Math.floor((f.startMs - t0) / 1000);
  const to = Math.floor(((f.endMs ?? f.startMs) - t0) / 1000);
  return { before: r.timeline.filter((p) => p.second < from), during: r.timeline.filter((p) => p.second >= from && p.second <= to) };
}

/** Runs with the file's short phases, or `timing`. */
const run = (s: ChaosScenario, timing = SHORT) => s.withTiming(timing).run({ env });

describe('Kafka behind Toxiproxy', () => {
  it('kafka-bandwidth: 4 KB/s per connection slows traffic down, and nothing acknowledged is lost or reordered', async () => {
    const r = await run(scenarioByName('kafka-bandwidth'));
    expectPassed(r);
    const { before, during } = phases(r);
    const maxLatency = (ps: typeof before) => Math.max(0, ...ps.map((p) => p.latencyMaxMs ?? 0));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    // Warm-up's typical latency (the median of its per-second medians): its maximum includes the
    // consumer joining its group and any stall of a loaded machine, which are not the fault.
    const typical = median(before.map((p) => p.latencyP50Ms ?? 0));
    const rate = (ps: typeof before) => ps.reduce((n, p) => n + p.acked, 0) / Math.max(1, ps.length);
    // The limit bit: end-to-end latency rose well above warm-up's, and fewer sends were acknowledged per second.
    expect(maxLatency(during)).toBeGreaterThan(Math.max(500, 5 * typical));
    expect(rate(during)).toBeLessThan(rate(before));
  }, 90_000);

  it('kafka-reset-peer: connections reset by peer make the clients reconnect and retry, and nothing acknowledged is lost', async () => {
    const r = await run(scenarioByName('kafka-reset-peer'));
    expectPassed(r);
    // The resets bit: consumption stopped for most of the window.
    expect(invariant(r, 'recovers within 45 s').figures['longestConsumptionGapMs']).toBeGreaterThan(SHORT.faultMs / 2);
  }, 90_000);
});

describe('exactly once across a broker kill', () => {
  it('kafka-transactions-broker-kill: committed output holds each message once and no aborted record is read', async () => {
    const historyPath = join(historyDir, 'kafka-transactions-broker-kill.history.jsonl');
    const r = await scenarioByName('kafka-transactions-broker-kill').withTiming(SHORT).run({ env, historyPath });
    expectPassed(r);
    // The verdicts, duplicates bound included, come back the same from the saved history (chaos check).
    const check = checkHistoryFile(historyPath);
    expect(check.invariants).toEqual(r.invariants);
    expect(invariant(r, 'at most 0 duplicates').figures['duplicates']).toBe(0);
    expect(r.counts.acked).toBeGreaterThan(50);
    // Transactions were aborted on purpose while the reader was reading, so the read_committed filter was tested.
    expect(r.events.filter((e) => e.message.includes('aborted on purpose')).length).toBeGreaterThan(3);
    // The crash bit: consumption stopped for most of the window.
    expect(invariant(r, 'recovers within 45 s').figures['longestConsumptionGapMs']).toBeGreaterThan(SHORT.faultMs / 2);
  }, 90_000);

  it('negative control: the same traffic read read_uncommitted delivers the aborted records, and the checks say so', async () => {
    const r = await run(
      new ChaosScenario('negative-control-read-uncommitted')
        .withWorkload(Workload.kafkaTransactional({ isolation: 'read_uncommitted' }))
        .withFault(Fault.brokerKill())
        .withInvariants(...exactlyOnceInvariants(45_000)),
      // The aborted records are there to read whatever the fault: a shorter window is enough.
      { ...SHORT, faultMs: 1000, recoveryMs: 2000 },
    );
    expect(r.error).toBeUndefined();
    const phantoms = invariant(r, 'nothing consumed that was not sent');
    expect(phantoms.passed).toBe(false);
    expect(phantoms.figures['phantoms']).toBeGreaterThan(0);
    expect(phantoms.examples.every((id) => id.includes('-aborted-'))).toBe(true);
    expect(r.passed).toBe(false);
    // Only the aborted records: everything committed still arrived.
    expect(invariant(r, 'no acknowledged message lost').passed).toBe(true);
  }, 90_000);
});
