import { scenarioByName, summarize } from '../../../chaos/index';

/**
 * The catalog's leader-failover scenario on its own three-node cluster (replication factor 3,
 * min.insync.replicas 2), started and stopped by the scenario itself as `eda-harness chaos run`
 * does: the partition leader is SIGKILLed under acks -1 traffic and a follower must take over
 * with no acknowledged message lost and per-key order kept.
 */
it('kafka-leader-failover: killing the partition leader loses nothing acknowledged', async () => {
  const scenario = scenarioByName('kafka-leader-failover').withTiming({ warmupMs: 3000, faultMs: 5000, recoveryMs: 5000, drainTimeoutMs: 60_000 });
  expect(scenario.needs().kafkaNodes).toBe(3);
  const r = await scenario.run();
  if (!r.passed) throw new Error(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: false, scenarios: [r] }));
  expect(r.counts.acked).toBeGreaterThan(100);
  expect(r.faults[0]?.error).toBeUndefined();
}, 300_000);
