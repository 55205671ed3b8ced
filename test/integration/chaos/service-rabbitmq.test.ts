import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceConfig, serviceScenario, serviceUnderTest, validateServiceConfig, type ScenarioResult, type ScenarioTiming, type ServiceCommand } from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';
import { EXAMPLE_CONFIGS as CONFIGS, invariantOf, runServiceScenario } from '../../support/service-scenario';

/**
 * The reference notification service (RabbitMQ inputs: the pact's SendEmail command published to
 * its exchange) run as a process by the harness, on one RabbitMQ behind Toxiproxy for the file:
 * it must send each email once or dead-letter it under a SIGKILL of itself, a broker kill, a
 * network cut and poison inputs; a gateway without dedup (the negative control) must fail
 * effects-once under the SIGKILL, naming the orders emailed twice, and without restartOnExit
 * (the reference service exits when its connection is lost) a broker kill leaves it down.
 * Every history is re-checked.
 */

const SHORT: Partial<ScenarioTiming> = { warmupMs: 2000, faultMs: 4000, recoveryMs: 4000, drainTimeoutMs: 30_000 };

let env: StartedEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'chaos-service-rabbitmq-'));

beforeAll(async () => {
  env = await new Environment().withRabbitMq().withToxiproxy().start();
}, 240_000);

afterAll(async () => {
  await env?.stop();
  if (process.env['KEEP_CHAOS_DIR'] === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
});

const run = (file: string, service: string | undefined, fault: string, timing = SHORT): Promise<ScenarioResult> => runServiceScenario({ env, dir, file, service, fault, timing });
const inv = invariantOf;

describe('the reference notification service (a process, RabbitMQ inputs from its pact) under faults', () => {
  it('a SIGKILL of itself and a restart: each email sent once, nothing lost, traces continue', async () => {
    // The fault outlasts RabbitMQ's 5 s statistics interval, so the queue seen without a consumer can page.
    const r = await run('reference.chaos.config.js', 'reference-notification', 'service-kill', { ...SHORT, faultMs: 10_000 });
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(r.system).toBe('rabbitmq');
    expect(inv(r, 'each email').figures['inputsWithEffect']).toBeGreaterThan(40);
    // Its queue left without a consumer pages, and the page resolves once the service is back.
    const page = inv(r, 'alert RabbitMqQueueWithoutConsumers fires and resolves');
    expect(page.passed).toBe(true);
    expect(page.figures['firedAfterFaultStartMs']).toBeGreaterThan(0);
    expect(r.events.filter((e) => /started \(pid \d+\)/.test(e.message))).toHaveLength(2);
  }, 120_000);

  it('negative control: a gateway without the messageId dedup emails a command redelivered after the kill twice, named', async () => {
    const r = await run('no-dedup-notification.chaos.config.js', undefined, 'service-kill');
    const once = inv(r, 'each email');
    expect(once.passed).toBe(false);
    expect(once.examples[0]).toMatch(/^chaos-broken-notification-no-dedup-service-kill-\w+-k\d-\d+: email applied [2-9] times$/);
    expect(inv(r, 'no acknowledged input lost').passed).toBe(true);
  }, 120_000);

  it('RabbitMQ killed with SIGKILL and started again: the service comes back, each email sent once', async () => {
    const r = await run('reference.chaos.config.js', 'reference-notification', 'broker-kill');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
  }, 120_000);

  it('negative control: without restartOnExit the reference service, which exits when its connection is lost, stays down after a broker kill', async () => {
    const loaded = await loadServiceConfig(join(CONFIGS, 'reference.chaos.config.js'), 'reference-notification');
    const config = validateServiceConfig({ ...loaded, start: { ...(loaded.start as ServiceCommand), restartOnExit: false } }, 'test', loaded.baseDir);
    const scenario = serviceScenario(serviceUnderTest(config, { logDir: join(dir, 'logs') }), 'reference-notification-broker-kill').withTiming({ ...SHORT, drainTimeoutMs: 8000 });
    const r = await scenario.run({ env });
    expect(r.passed).toBe(false);
    expect(r.events.some((e) => /reference-notification \(pid \d+\) exited by itself \(code 1\)/.test(e.message) && !e.message.includes('starting it again'))).toBe(true);
    expect(inv(r, 'service recovers').summary).toMatch(/^no input sent after healing was processed/);
    expect(inv(r, 'no acknowledged input lost').passed).toBe(false);
  }, 120_000);

  it('its traffic cut through Toxiproxy (it was given the proxied AMQP_URL): it comes back, nothing lost', async () => {
    const r = await run('reference.chaos.config.js', 'reference-notification', 'network-partition');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(r.events.find((e) => e.message.includes('is given'))!.message).toContain(`AMQP_URL=amqp://guest:***@${new URL(env.getAmqpUrl()).host}`);
    expect(env.toxiproxy!.proxies.map((p) => `${p.host}:${p.port}`)).toContain(new URL(env.getAmqpUrl()).host);
  }, 120_000);

  it('poison inputs (the command without its x-message-type header): each dead-lettered, none emailed; the good ones all emailed', async () => {
    const r = await run('reference.chaos.config.js', 'reference-notification', 'poison-messages');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(inv(r, 'poison inputs').figures).toEqual({ poison: 5, deadLettered: 5, applied: 0, goodDeadLettered: 0 });
  }, 120_000);
});
