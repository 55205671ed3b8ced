import { scenarioByName, summarize } from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';

/**
 * A chaos scenario against a secured Kafka (withKafka({ security: 'sasl_ssl' })): the catalog's
 * kafka-broker-restart, whose workload's clients must reach the SASL_SSL listener with SCRAM over
 * TLS, and authenticate again on every reconnection after the broker restart. The environment is
 * handed to the scenario with its plaintext listener hidden, so a client built from brokers only
 * (the old way) fails the run instead of passing on the plaintext port.
 */

let env: StartedEnvironment;

beforeAll(async () => {
  env = await new Environment().withKafka({ security: 'sasl_ssl' }).withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

/** The environment, but asking it for the plaintext listener is an error. */
function plaintextHidden(e: StartedEnvironment): StartedEnvironment {
  return new Proxy(e, {
    get(target, property, receiver) {
      if (property === 'getKafkaBrokers') {
        return () => {
          throw new Error('the plaintext listener was asked for: a client did not use the secured listener');
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

it('kafka-broker-restart over SASL_SSL (SCRAM-SHA-512): the workload reconnects and re-authenticates after the restart, and every invariant holds', async () => {
  const progress: string[] = [];
  const r = await scenarioByName('kafka-broker-restart')
    .withTiming({ warmupMs: 2000, faultMs: 4000, recoveryMs: 4000, drainTimeoutMs: 60_000 })
    .run({ env: plaintextHidden(env), progress: (line) => progress.push(line) });
  if (!r.passed) throw new Error(`scenario failed:\n${summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: false, scenarios: [r] })}\n${progress.join('\n')}`);
  const security = env.getKafkaSecurity();
  expect(progress).toContain(`scenario kafka-broker-restart: Kafka clients use SASL_SSL on ${security.brokers.join(',')}`);
  expect(r.faults).toHaveLength(1);
  expect(r.faults[0]?.error).toBeUndefined();
  expect(r.counts.acked).toBeGreaterThan(50);
  expect(r.counts.uniqueConsumed).toBeGreaterThanOrEqual(r.counts.acked);
  // The broker was really gone for a while, so the clients had to connect (and log in) again.
  const recovery = r.invariants.find((i) => i.name.startsWith('recovers within'));
  expect(recovery?.figures['longestConsumptionGapMs']).toBeGreaterThan(1000);
}, 240_000);
