import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  checkHistoryFile,
  loadServiceConfig,
  observationsOf,
  readHistoryFile,
  serviceScenario,
  serviceUnderTest,
  summarize,
  validateServiceConfig,
  type ScenarioResult,
  type ScenarioTiming,
} from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';
import { invariantOf, runServiceScenario } from '../../support/service-scenario';

/**
 * Services under test on one Kafka (one broker start for the file): the reference inventory
 * service started as a process by the harness, alone and as two members of one group; the docs'
 * example service (not the reference system) started in-process; and a service that sends no
 * spans. Phases are shortened; every history is re-checked from its file.
 */

const CONFIGS = join(__dirname, '..', '..', '..', 'examples', 'dist', 'chaos');

let env: StartedEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'chaos-service-'));

beforeAll(async () => {
  env = await new Environment().withKafka().start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the reference inventory as a process: it must pass under a broker restart and a SIGKILL of itself, and two broken copies (the negative controls) must fail the invariant their bug breaks, naming the orders', () => {
  const SHORT = { warmupMs: 2000, faultMs: 3000, recoveryMs: 4000, drainTimeoutMs: 20_000 };

  // The reference config describes both reference services: this block is the inventory's.
  const run = (configFile: string, fault: string, timing = SHORT): Promise<ScenarioResult> =>
    runServiceScenario({ env, dir, file: configFile, service: configFile === 'reference.chaos.config.js' ? 'reference-inventory' : undefined, fault, timing });
  const inv = invariantOf;

  it('reference inventory passes a SIGKILL of itself and a restart: nothing lost, each order reserved once, traces continue', async () => {
    // Down for 6 s (and the group's re-join after): long enough for the lag in seconds to cross the page's 3 s.
    const r = await run('reference.chaos.config.js', 'service-kill', { ...SHORT, faultMs: 6000 });
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(inv(r, 'each reservation').figures['inputsWithEffect']).toBeGreaterThan(20);
    // The whole service down pages: the alert pack's lag-in-seconds alert fired after the kill and resolved once it caught up.
    const page = inv(r, 'alert KafkaConsumerLagSecondsHigh fires and resolves');
    expect(page.passed).toBe(true);
    expect(page.figures['firedAfterFaultStartMs']).toBeGreaterThan(0);
    expect(r.alerts.some((a) => a.alertname === 'KafkaConsumerLagSecondsHigh' && a.state === 'inactive')).toBe(true);
    expect(r.events.some((e) => /killed with SIGKILL/.test(e.message))).toBe(true);
    expect(r.events.filter((e) => /started \(pid \d+\)/.test(e.message))).toHaveLength(2);
  }, 90_000);

  it('reference inventory passes a Kafka broker restart', async () => {
    const r = await run('reference.chaos.config.js', 'broker-restart');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
  }, 90_000);

  it('negative control: without idempotency, a SIGKILL (Kafka redelivers the uncommitted seconds) fails effects-once, naming the orders reserved twice', async () => {
    const r = await run('no-idempotency.chaos.config.js', 'service-kill');
    const once = inv(r, 'each reservation');
    expect(once.passed).toBe(false);
    expect(once.figures['appliedMoreThanOnce']).toBeGreaterThan(0);
    expect(once.examples[0]).toMatch(/^chaos-broken-inventory-no-idempotency-service-kill-\w+-k\d-\d+: reservation applied [2-9] times$/);
    expect(once.summary).toMatch(/inputs had their reservation applied more than once: .+ ×2/);
    // The bug is duplication, not loss.
    expect(inv(r, 'no acknowledged input lost').passed).toBe(true);
  }, 90_000);

  it('negative control: committing before processing fails no-loss under a SIGKILL, naming the orders lost', async () => {
    // The variant is saturated (150 ms a message at 10 inputs/s), so a message is always in flight at the kill;
    // the drain outlasts its backlog, so what is reported lost is the one or two committed and never
    // processed at the kill, not late ones.
    const r = await run('commit-before-processing.chaos.config.js', 'service-kill', { ...SHORT, drainTimeoutMs: 15_000 });
    const lost = inv(r, 'no acknowledged input lost');
    expect(lost.passed).toBe(false);
    expect(lost.figures['lost']).toBeGreaterThanOrEqual(1);
    expect(lost.figures['lost']).toBeLessThanOrEqual(3);
    expect(lost.examples[0]).toMatch(/^chaos-broken-inventory-commit-before-processing-service-kill-\w+-k\d-\d+ \(key k\d, seq \d+, sent at \+\d+ ms\): no effect, no output, no process span$/);
    expect(inv(r, 'each reservation').passed).toBe(true);
  }, 90_000);
});

describe('the reference inventory as two members of one consumer group (a shared file-backed store): one member SIGKILLed, and one frozen longer than the 6 s session timeout, so the group evicts it and the other member takes its partitions; nothing may be lost or reserved twice', () => {
  const SHORT = { warmupMs: 2000, faultMs: 3000, recoveryMs: 4000, drainTimeoutMs: 20_000 };
  const run = (fault: string, timing: Partial<ScenarioTiming>): Promise<ScenarioResult> => runServiceScenario({ env, dir, file: 'two-members.chaos.config.js', fault, timing });

  it('one of two members killed with SIGKILL and restarted: nothing lost, each order reserved once', async () => {
    const r = await run('service-kill', SHORT);
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(r.events.filter((e) => /started \(pid \d+\)/.test(e.message)).map((e) => e.message.split(' ')[1])).toEqual(['reference-inventory-x2#0', 'reference-inventory-x2#1', 'reference-inventory-x2#0']);
  }, 90_000);

  it('one of two members frozen longer than the session timeout: the other takes over, nothing lost, each order reserved once', async () => {
    const r = await run('service-pause', { ...SHORT, faultMs: 9000 });
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    // The frozen member's partitions moved: after the 6 s session timeout, and before it resumed,
    // the other member processed inputs (process spans ending inside that part of the window).
    const o = observationsOf(readHistoryFile(join(dir, 'reference-inventory-x2-service-pause.history.jsonl')));
    const pause = o.faults[0]!;
    const takenOver = o.spans.filter((s) => s.kind === 'consumer' && (s.atMs ?? 0) > pause.startMs + 7000 && (s.atMs ?? 0) < pause.endMs!);
    expect(takenOver.length).toBeGreaterThan(3);
  }, 90_000);
});

describe('the docs\' example service (examples/chaos/payments, not the reference system), started in-process from its chaos.config.js, and a service that sends no spans', () => {
  const SHORT = { warmupMs: 2000, faultMs: 3000, recoveryMs: 3000, drainTimeoutMs: 20_000 };

  const inv = (r: ScenarioResult, prefix: string) => r.invariants.find((i) => i.name.startsWith(prefix))!;

  it('the payment service passes a broker restart: every request authorized once, outputs in the request trace, order per key kept', async () => {
    const config = await loadServiceConfig(join(CONFIGS, 'payments', 'chaos.config.js'));
    const sut = serviceUnderTest(config);
    const scenario = serviceScenario(sut, 'payments-broker-restart').withTiming(SHORT);
    const historyPath = join(dir, 'payments.history.jsonl');
    const r = await scenario.run({ env, historyPath });
    console.log(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: r.passed, scenarios: [r] }));
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(r.invariants.map((i) => i.name)).toEqual(['no acknowledged input lost', 'each authorization applied once per input', 'per-key processing order kept', 'service recovers within 45 s', 'traces continue input → process → output']);
    // Outputs were read back and matched to their requests by trace: one for every acknowledged
    // request, the drain having waited for the output reader to reach the topic's end (a reader
    // rejoining after the restart read 47 outputs of 109 requests in a CI run before it did).
    expect(r.counts.acked).toBeGreaterThan(30);
    expect(r.counts.uniqueConsumed).toBe(r.counts.acked);
    // Every output delivery (a duplicate output after the restart included) carried its request's
    // trace: the figure counts deliveries, not unique outputs (94 unique of 95 in one CI run).
    expect(inv(r, 'traces').figures['outputs']).toBe(r.counts.deliveries);
    expect(inv(r, 'traces').figures['broken']).toBe(0);
    const check = checkHistoryFile(historyPath);
    expect(check.invariants).toEqual(r.invariants);
  }, 90_000);

  it('a service that sends no spans fails with what to add, not with a report of lost inputs', async () => {
    let stop: (() => Promise<void>) | undefined;
    const config = validateServiceConfig({
      name: 'silent',
      version: '0',
      telemetryTimeoutMs: 4000,
      // Consumes its input with a bare kafkajs client: nothing instrumented, nothing exported.
      start: async ({ kafkaBrokers }: { kafkaBrokers: string[] }) => {
        const consumer = new Kafka({ clientId: 'silent', brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `silent-${Date.now()}` });
        await consumer.connect();
        await consumer.subscribe({ topic: `silent-${process.pid}`, fromBeginning: true });
        await consumer.run({ eachMessage: async () => undefined });
        stop = () => consumer.disconnect();
        return { stop: () => stop!() };
      },
      inputs: [{ topic: `silent-${process.pid}`, message: (id: string) => ({ value: id }) }],
    });
    const r = await serviceScenario(serviceUnderTest(config), 'silent-broker-restart').withTiming(SHORT).run({ env });
    expect(r.passed).toBe(false);
    expect(r.error).toContain('service silent sent no spans within 4000 ms of starting');
    expect(r.error).toContain('wrap its kafkajs client with instrumentKafka from @eda-harness/instrumentation, passing the tracerProvider the start factory receives');
    expect(r.faults).toHaveLength(0);
  }, 60_000);
});
