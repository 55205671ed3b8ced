import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { ScenarioResult } from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';
import { runServiceScenario } from '../../support/service-scenario';

/**
 * The reference inventory service, run as a process by the harness, under the broker faults of a
 * three-node Kafka behind Toxiproxy (one environment for the file): a broker SIGKILLed, the leader
 * of its input partition SIGKILLed (its input topic has replication factor 3), and its client
 * traffic cut by the proxies going down. Each must pass (nothing lost, each order reserved once,
 * traces continue) and its history re-check to the same verdicts; and poison inputs, which it
 * must see and never reserve (it skips malformed events: it has no dead letters).
 */

const SHORT = { warmupMs: 2000, faultMs: 4000, recoveryMs: 4000, drainTimeoutMs: 30_000 };

let env: StartedEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'chaos-service-faults-'));

beforeAll(async () => {
  env = await new Environment().withKafka({ nodes: 3 }).withToxiproxy().start();
}, 240_000);

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (fault: string): Promise<ScenarioResult> => runServiceScenario({ env, dir, file: 'reference.chaos.config.js', service: 'reference-inventory', fault, timing: SHORT });

const figure = (r: ScenarioResult, prefix: string, name: string): number | undefined => r.invariants.find((i) => i.name.startsWith(prefix))?.figures[name];

describe('the reference inventory (a process) under broker faults of a three-node Kafka behind Toxiproxy', () => {
  it('a broker SIGKILLed and restarted: nothing lost, each order reserved once', async () => {
    const r = await run('broker-kill');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(r.faults.map((f) => f.name)).toEqual(['broker-kill']);
    expect(figure(r, 'each reservation', 'inputsWithEffect')).toBeGreaterThan(40);
  }, 120_000);

  it('the leader of its input partition SIGKILLed: a follower of the replication-factor-3 topic takes over and the service follows it', async () => {
    const r = await run('leader-failover');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    // The input topic was created with three replicas, and the node killed was partition 0's leader then.
    const topic = r.description.match(/to topic (chaos-orders-\w+)/)![1]!;
    const admin = new Kafka({ clientId: 'check', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]!.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
    } finally {
      await admin.disconnect();
    }
    expect(r.faults.map((f) => f.name)).toEqual(['leader-failover']);
    expect(figure(r, 'each reservation', 'inputsWithEffect')).toBeGreaterThan(40);
  }, 120_000);

  it('its client traffic cut through Toxiproxy: it was given the proxies, saw the cut, and caught up after', async () => {
    const r = await run('network-partition');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    const proxies = env.toxiproxy!.proxies.map((p) => `${p.host}:${p.port}`);
    const given = r.events.find((e) => e.message.includes('is given KAFKA_BROKERS='))!.message;
    expect(given).toContain('(Toxiproxy proxies)');
    for (const b of env.getKafkaBrokers()) expect(proxies).toContain(b);
    expect(given).toContain(`KAFKA_BROKERS=${env.getKafkaBrokers().join(',')}`);
    // The cut was real: sends failed or stalled while it held, and inputs were processed after it healed.
    const cut = r.faults[0]!;
    const duringCut = r.timeline.filter((p) => p.second * 1000 >= cut.startMs - Date.parse(r.startedAt) + 1000 && p.second * 1000 < cut.endMs! - Date.parse(r.startedAt) - 1000);
    expect(duringCut.reduce((s, p) => s + p.acked, 0)).toBe(0);
    expect(figure(r, 'each reservation', 'inputsWithEffect')).toBeGreaterThan(30);
  }, 120_000);

  it('poison inputs (not JSON): it has no dead letters (it skips what it rejects), so each must be seen by it and never reserved', async () => {
    const r = await run('poison-messages');
    expect(r.error).toBeUndefined();
    expect(r.passed).toBe(true);
    expect(r.invariants.find((i) => i.name === 'poison inputs rejected, never applied')!.figures).toEqual({ poison: 5, seen: 5, applied: 0 });
  }, 120_000);
});
