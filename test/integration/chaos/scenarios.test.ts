import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosScenario, Fault, Invariant, Workload, checkHistoryFile, scenarioByName, summarize, type ScenarioResult } from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';

/**
 * Chaos scenarios against real brokers: the catalog's scenarios must pass (with shortened
 * phases), and a negative control (transient messages in a non-durable queue across a RabbitMQ
 * restart) must fail the no-loss invariant, which proves the checker can see a loss at all.
 * Every scenario's history is saved and re-checked: the verdicts must come back the same.
 */

const SHORT = { warmupMs: 2000, faultMs: 4000, recoveryMs: 4000, drainTimeoutMs: 60_000 };

let env: StartedEnvironment;
const historyDir = mkdtempSync(join(tmpdir(), 'chaos-scenarios-history-'));

beforeAll(async () => {
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy().start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
  rmSync(historyDir, { recursive: true, force: true });
});

/**
 * Runs a scenario with its history saved, and re-checks that history (what `eda-harness chaos
 * check` does): every scenario's verdicts must come back the same from the file alone.
 */
async function run(scenario: ChaosScenario): Promise<ScenarioResult> {
  const historyPath = join(historyDir, `${scenario.name}.history.jsonl`);
  const r = await scenario.run({ env, historyPath });
  const started = Date.now();
  const check = checkHistoryFile(historyPath);
  console.log(`${scenario.name}: history ${statSync(historyPath).size} bytes, re-checked in ${Date.now() - started} ms`);
  expect(check.invariants).toEqual(r.invariants);
  expect(check.passed).toBe(r.passed);
  return r;
}

/**
 * The exporter's (broker-side) consumer lag, which a run with the alert pack samples from its
 * Prometheus into the timeline: present, and recorded in the history. Returns the figures from the
 * fault's start to 5 s after its end; while the exporter cannot reach the broker its figures are
 * stale and left out, so a broker outage itself is a gap. (The last sample need not be 0: a run
 * that ends as soon as it drained can stop before the exporter saw the last commit.)
 */
function exporterLag(r: ScenarioResult): number[] {
  const lag = r.timeline.map((p) => p.consumerLag);
  console.log(`${r.name}: exporter lag by second ${JSON.stringify(lag.map((v) => v ?? null))}`);
  const sampled = lag.filter((v): v is number => v !== undefined);
  expect(sampled.length).toBeGreaterThanOrEqual(3);
  // Recorded in the history, so a re-read history draws the same chart.
  expect(checkHistoryFile(join(historyDir, `${r.name}.history.jsonl`)).observations.exporterLag?.length).toBeGreaterThanOrEqual(sampled.length);
  const secondOf = (ms: number): number => Math.floor((ms - Date.parse(r.startedAt)) / 1000);
  return lag.slice(secondOf(r.faults[0]!.startMs), secondOf(r.faults[0]!.endMs!) + 6).filter((v): v is number => v !== undefined);
}

/** The scenario's own summary as the failure message, so a red run says which invariant broke and why. */
function expectPassed(r: ScenarioResult): void {
  const report = summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: r.passed, scenarios: [r] });
  if (!r.passed) throw new Error(`scenario ${r.name} failed:\n${report}`);
}

const invariant = (r: ScenarioResult, name: string) => {
  const found = r.invariants.find((i) => i.name === name);
  if (!found) throw new Error(`no invariant "${name}" in ${r.invariants.map((i) => i.name).join(', ')}`);
  return found;
};

describe('Kafka', () => {
  it('kafka-broker-kill: SIGKILL and restart of the broker loses nothing acknowledged, keeps order and traces, and the stale-exporter alert fires and resolves', async () => {
    // The outage must outlast the lowered EdaExporterStale threshold plus its for: duration.
    const r = await run(scenarioByName('kafka-broker-kill').withTiming({ ...SHORT, faultMs: 12_000 }));
    expectPassed(r);
    expect(r.faults).toHaveLength(1);
    expect(r.faults[0]!.endMs).toBeGreaterThan(r.faults[0]!.startMs);
    expect(r.counts.acked).toBeGreaterThan(50);
    expect(invariant(r, 'traces intact').figures['checked']).toBe(r.counts.uniqueConsumed);
    // The fault bit: consumption stopped for most of the window.
    expect(invariant(r, 'recovers within 45 s').figures['longestConsumptionGapMs']).toBeGreaterThan(SHORT.faultMs / 2);
    // Traffic stopped while the broker was down and came back: the timeline shows both.
    expect(r.timeline.some((p) => p.consumed > 0)).toBe(true);
    // Read from a real Prometheus evaluating the shipped rules against the exporter.
    const stale = invariant(r, 'alert EdaExporterStale fires and resolves');
    expect(stale.figures['firedAfterFaultStartMs']).toBeLessThan(12_000);
    expect(r.alerts.some((a) => a.alertname === 'EdaExporterStale' && a.state === 'firing' && a.labels['target'] === 'kafka')).toBe(true);
    // The backlog built while the broker was down, as the broker counts it once it is back.
    expect(Math.max(0, ...exporterLag(r))).toBeGreaterThan(10);
  }, 240_000);

  it('kafka-network-partition: clients cut off through Toxiproxy reconnect by themselves and catch up', async () => {
    const r = await run(scenarioByName('kafka-network-partition').withTiming(SHORT));
    expectPassed(r);
    expect(invariant(r, 'recovers within 45 s').figures['longestConsumptionGapMs']).toBeGreaterThan(SHORT.faultMs / 2);
  }, 180_000);

  it('kafka-broker-pause: a frozen broker (SIGSTOP) holds traffic, and it resumes where it was after SIGCONT', async () => {
    const r = await run(scenarioByName('kafka-broker-pause').withTiming(SHORT));
    expectPassed(r);
    expect(invariant(r, 'recovers within 45 s').figures['longestConsumptionGapMs']).toBeGreaterThan(SHORT.faultMs / 2);
  }, 180_000);

  it('kafka-poison-messages: malformed messages land in the dead-letter topic and the good ones flow on', async () => {
    const r = await run(scenarioByName('kafka-poison-messages').withTiming(SHORT));
    expectPassed(r);
    expect(invariant(r, 'poison messages dead-lettered').figures).toMatchObject({ poison: 5, deadLettered: 5, wronglyDeadLettered: 0 });
    expect(invariant(r, 'alert DeadLetterMessagesArriving fires and resolves').passed).toBe(true);
    // A healthy consumer is at most a few messages behind (often 0): only its presence is asserted.
    exporterLag(r);
  }, 240_000);
});

describe('RabbitMQ', () => {
  it('rabbitmq-restart: a durable queue with persistent, confirmed messages loses nothing across a restart', async () => {
    const r = await run(scenarioByName('rabbitmq-restart').withTiming(SHORT));
    expectPassed(r);
    // Publishing while the broker was down failed loudly (recorded), never silently.
    expect(r.counts.failed).toBeGreaterThan(0);
    expect(r.events.some((e) => e.message.includes('reconnect'))).toBe(true);
  }, 180_000);

  it('negative control: transient messages in a non-durable queue are lost in a restart, and the no-loss invariant says so', async () => {
    const r = await run(
      new ChaosScenario('negative-control-transient')
        // A slow consumer, so a backlog of confirmed messages sits in the queue when the broker stops.
        .withWorkload(Workload.rabbitmq({ durable: false, persistent: false, processingMs: 100, prefetch: 1 }))
        .withFault(Fault.brokerRestart({ system: 'rabbitmq' }))
        .withInvariants(Invariant.noAckedLoss(), Invariant.noPhantoms())
        .withTiming({ ...SHORT, drainTimeoutMs: 15_000 }),
    );
    expect(r.error).toBeUndefined();
    const loss = invariant(r, 'no acknowledged message lost');
    expect(loss.passed).toBe(false);
    expect(loss.figures['lost']).toBeGreaterThan(0);
    expect(loss.examples.length).toBeGreaterThan(0);
    expect(r.passed).toBe(false);
    // What was lost was lost, not invented.
    expect(invariant(r, 'nothing consumed that was not sent').passed).toBe(true);
  }, 180_000);
});
