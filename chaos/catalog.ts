import { ConfigError } from '@eda-harness/core';
import { Fault } from './faults';
import { Invariant, defaultInvariants } from './invariants';
import { ChaosScenario, DEFAULT_RECOVERY_LIMIT_MS } from './scenario';
import type { InvariantCheck } from './types';
import { Workload } from './workloads';

/**
 * The scenarios `eda-harness chaos run` knows by name: the release suite. Each is a plain
 * builder chain, so a team copies one and changes the workload, the fault or the limits.
 * Every scenario checks: no acknowledged message lost, nothing phantom, duplicates counted,
 * per-key order, recovery in time and traces intact; the poison ones also check dead-lettering,
 * and the kill and poison ones run under the shipped alert pack and check that its alert fires.
 */
/**
 * Alert-pack settings for scenarios of seconds: the shipped rules with thresholds and `for:`
 * lowered (the same knobs `eda-harness alerts build --config` takes), so a 12 s outage crosses them.
 */
const OUTAGE_ALERTS = { config: { thresholds: { exporterStaleSeconds: 4 }, for: { EdaExporterStale: '2s' } } };
const DLQ_ALERTS = { config: { thresholds: { dlqArrivingWindowSeconds: 15 }, for: { DeadLetterMessagesArriving: '2s' } } };
const OUTAGE_TIMING = { faultMs: 12_000 };

/**
 * The default invariants with duplicates bounded at 0: what "exactly once" promises of a
 * transactional producer read read_committed (see Workload.kafkaTransactional for why a duplicate
 * in its history is a second copy in the committed log, and an aborted record read is a phantom).
 */
export function exactlyOnceInvariants(recoveryLimitMs: number): InvariantCheck[] {
  return defaultInvariants(recoveryLimitMs).map((i) => (i.spec?.factory === 'duplicates' ? Invariant.duplicates({ max: 0 }) : i));
}

const builders: Record<string, () => ChaosScenario> = {
  'kafka-broker-restart': () => new ChaosScenario('kafka-broker-restart').withWorkload(Workload.kafka()).withFault(Fault.brokerRestart()),
  'kafka-broker-kill': () =>
    new ChaosScenario('kafka-broker-kill')
      .withWorkload(Workload.kafka())
      .withFault(Fault.brokerKill())
      .withTiming(OUTAGE_TIMING)
      .withAlertPack(OUTAGE_ALERTS)
      .withInvariants(...defaultInvariants(DEFAULT_RECOVERY_LIMIT_MS), Invariant.alertFires('EdaExporterStale', { labels: { target: 'kafka' } })),
  'kafka-broker-pause': () => new ChaosScenario('kafka-broker-pause').withWorkload(Workload.kafka()).withFault(Fault.brokerPause()),
  'kafka-leader-failover': () => new ChaosScenario('kafka-leader-failover').withWorkload(Workload.kafka({ cluster: true })).withFault(Fault.leaderFailover()),
  // Two of three nodes down: min.insync.replicas 2 cannot be met, so acks -1 sends must fail (or
  // wait) rather than be acknowledged and lost; service returns once the nodes are back.
  'kafka-quorum-loss': () =>
    new ChaosScenario('kafka-quorum-loss')
      .withDescription('40 msg/s over 6 keys to a 3-partition topic (acks -1, replication factor 3, min.insync.replicas 2); two of the three brokers killed with SIGKILL, then started again')
      .withWorkload(Workload.kafka({ cluster: true }))
      .withFault(Fault.brokerKill({ node: 2 }), Fault.brokerKill({ node: 3 })),
  // Exactly once across a crash: transactions in (every 4th aborted on purpose), read_committed
  // out; the committed output must hold each message once and no aborted record may be read.
  'kafka-transactions-broker-kill': () =>
    new ChaosScenario('kafka-transactions-broker-kill')
      .withWorkload(Workload.kafkaTransactional())
      .withFault(Fault.brokerKill())
      .withInvariants(...exactlyOnceInvariants(DEFAULT_RECOVERY_LIMIT_MS)),
  'kafka-latency': () => new ChaosScenario('kafka-latency').withWorkload(Workload.kafka()).withFault(Fault.latency(300)),
  // 4 KB/s per connection each way, below the workload's ~10 KB/s: sends and fetches slow down, a
  // backlog builds, and nothing acknowledged may be lost or reordered on the way.
  'kafka-bandwidth': () => new ChaosScenario('kafka-bandwidth').withWorkload(Workload.kafka()).withFault(Fault.bandwidth(4)),
  'kafka-reset-peer': () => new ChaosScenario('kafka-reset-peer').withWorkload(Workload.kafka()).withFault(Fault.resetPeer()),
  'kafka-network-partition': () => new ChaosScenario('kafka-network-partition').withWorkload(Workload.kafka()).withFault(Fault.networkPartition()),
  // Replication cut, clients connected: the leader of partition 0 loses its followers, its ISR
  // shrinks below min.insync.replicas 2 within seconds, and acks -1 sends to its partitions must
  // fail (or wait) rather than be acknowledged and lost; followers rejoin the ISR after healing.
  'kafka-inter-broker-partition': () =>
    new ChaosScenario('kafka-inter-broker-partition')
      .withWorkload(Workload.kafka({ cluster: true }))
      .withFault(Fault.interBrokerPartition())
      .withTiming({ faultMs: 10_000 }),
  'kafka-poison-messages': () =>
    new ChaosScenario('kafka-poison-messages')
      .withWorkload(Workload.kafka())
      .withFault(Fault.poisonMessages(5))
      .withAlertPack(DLQ_ALERTS)
      .withInvariants(...defaultInvariants(DEFAULT_RECOVERY_LIMIT_MS), Invariant.poisonDeadLettered(), Invariant.alertFires('DeadLetterMessagesArriving', { labels: { system: 'kafka' } })),
  'rabbitmq-restart': () => new ChaosScenario('rabbitmq-restart').withWorkload(Workload.rabbitmq()).withFault(Fault.brokerRestart({ system: 'rabbitmq' })),
  'rabbitmq-kill': () =>
    new ChaosScenario('rabbitmq-kill')
      .withWorkload(Workload.rabbitmq())
      .withFault(Fault.brokerKill({ system: 'rabbitmq' }))
      .withTiming(OUTAGE_TIMING)
      .withAlertPack(OUTAGE_ALERTS)
      .withInvariants(...defaultInvariants(DEFAULT_RECOVERY_LIMIT_MS), Invariant.alertFires('EdaExporterStale', { labels: { target: 'rabbitmq' } })),
  'rabbitmq-latency': () => new ChaosScenario('rabbitmq-latency').withWorkload(Workload.rabbitmq()).withFault(Fault.latency(300, { system: 'rabbitmq' })),
  'rabbitmq-bandwidth': () => new ChaosScenario('rabbitmq-bandwidth').withWorkload(Workload.rabbitmq()).withFault(Fault.bandwidth(4, { system: 'rabbitmq' })),
  'rabbitmq-reset-peer': () => new ChaosScenario('rabbitmq-reset-peer').withWorkload(Workload.rabbitmq()).withFault(Fault.resetPeer({ system: 'rabbitmq' })),
  'rabbitmq-network-partition': () => new ChaosScenario('rabbitmq-network-partition').withWorkload(Workload.rabbitmq()).withFault(Fault.networkPartition({ system: 'rabbitmq' })),
  // A three-node cluster with quorum queues: the node hosting the queue's leader is killed
  // (SIGKILL), a follower takes over, the clients on the lost node reconnect to the next one, and
  // nothing confirmed may be lost; the node is started again and rejoins.
  'rabbitmq-cluster-node-kill': () =>
    new ChaosScenario('rabbitmq-cluster-node-kill').withWorkload(Workload.rabbitmq({ cluster: true })).withFault(Fault.rabbitmqClusterNodeKill()),
  // The leader's node cut off from the other two at the Erlang distribution level (its AMQP port
  // stays reachable): pause_minority pauses it, the majority elects a new leader, clients move.
  'rabbitmq-cluster-partition': () =>
    new ChaosScenario('rabbitmq-cluster-partition').withWorkload(Workload.rabbitmq({ cluster: true })).withFault(Fault.rabbitmqClusterPartition()),
  'rabbitmq-poison-messages': () =>
    new ChaosScenario('rabbitmq-poison-messages')
      .withWorkload(Workload.rabbitmq())
      .withFault(Fault.poisonMessages(5, { system: 'rabbitmq' }))
      .withAlertPack(DLQ_ALERTS)
      .withInvariants(...defaultInvariants(DEFAULT_RECOVERY_LIMIT_MS), Invariant.poisonDeadLettered(), Invariant.alertFires('DeadLetterMessagesArriving', { labels: { system: 'rabbitmq' } })),
};

export const SCENARIO_NAMES: readonly string[] = Object.keys(builders);

/** A fresh scenario by name (builders are not shared: a scenario holds its fault's target). */
export function scenarioByName(name: string): ChaosScenario {
  const build = builders[name];
  if (!build) throw new ConfigError(`unknown chaos scenario "${name}"`, { hint: `known scenarios: ${SCENARIO_NAMES.join(', ')}` });
  return build();
}

/** Names matching `patterns` (exact, or a `*` wildcard such as `kafka-*`), in catalog order. */
export function selectScenarios(patterns: readonly string[]): string[] {
  if (patterns.length === 0) return [...SCENARIO_NAMES];
  const out = new Set<string>();
  for (const p of patterns) {
    const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const hits = SCENARIO_NAMES.filter((n) => re.test(n));
    if (hits.length === 0) throw new ConfigError(`no chaos scenario matches "${p}"`, { hint: `known scenarios: ${SCENARIO_NAMES.join(', ')}` });
    for (const h of hits) out.add(h);
  }
  return SCENARIO_NAMES.filter((n) => out.has(n));
}
