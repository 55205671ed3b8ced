import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { checkHistoryFile, loadServiceConfig, serviceScenario, serviceUnderTest, summarize, validateServiceConfig, type ScenarioResult } from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';

/**
 * The docs' example service (examples/chaos/payments, not the reference system) under a broker
 * restart, started in-process from its chaos.config.js: inputs, process spans, outputs matched by
 * trace and effects all recorded and checked. And a service that sends no spans gets told what to add.
 */

const SHORT = { warmupMs: 2000, faultMs: 3000, recoveryMs: 3000, drainTimeoutMs: 20_000 };

let env: StartedEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'chaos-service-example-'));

beforeAll(async () => {
  env = await new Environment().withKafka().start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const inv = (r: ScenarioResult, prefix: string) => r.invariants.find((i) => i.name.startsWith(prefix))!;

it('the payment service passes a broker restart: every request authorized once, outputs in the request trace, order per key kept', async () => {
  const config = await loadServiceConfig(join(__dirname, '..', '..', '..', 'examples', 'dist', 'chaos', 'payments', 'chaos.config.js'));
  const sut = serviceUnderTest(config);
  const scenario = serviceScenario(sut, 'payments-broker-restart').withTiming(SHORT);
  const historyPath = join(dir, 'payments.history.jsonl');
  const r = await scenario.run({ env, historyPath });
  console.log(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: r.passed, scenarios: [r] }));
  expect(r.error).toBeUndefined();
  expect(r.passed).toBe(true);
  expect(r.invariants.map((i) => i.name)).toEqual(['no acknowledged input lost', 'each authorization applied once per input', 'per-key processing order kept', 'service recovers within 45 s', 'traces continue input → process → output']);
  // Outputs were read back and matched to their requests by trace.
  expect(inv(r, 'traces').figures['outputs']).toBeGreaterThan(50);
  expect(r.counts.uniqueConsumed).toBe(inv(r, 'traces').figures['outputs']);
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
