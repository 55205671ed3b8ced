import { ConfigError } from '@eda-harness/core';
import type { AlertPackOptions } from '../alert-watch';
import { Fault } from '../faults';
import { Invariant } from '../invariants';
import { ChaosScenario, DEFAULT_RECOVERY_LIMIT_MS } from '../scenario';
import type { ChaosFault, ChaosSystem, InvariantCheck } from '../types';
import type { ServiceUnderTest } from './service-workload';

/**
 * The scenarios a service under test runs, named `<service>-<fault>`: the broker faults of the
 * catalog (the service's own clients ride through them) and the service-side ones (its process
 * killed or frozen), each checked with the service invariants.
 */
interface ServiceFault {
  readonly build: (s: ServiceUnderTest) => ChaosFault;
  /** Needs the service as a process (a command start). */
  readonly process?: boolean;
  /** The brokers it exists for. */
  readonly systems: readonly ChaosSystem[];
}

const BOTH: readonly ChaosSystem[] = ['kafka', 'rabbitmq'];
const FAULTS: Record<string, ServiceFault> = {
  'broker-restart': { build: (s) => Fault.brokerRestart({ system: s.config.system }), systems: BOTH },
  'broker-kill': { build: (s) => Fault.brokerKill({ system: s.config.system }), systems: BOTH },
  // A three-node cluster (the input topic with replication factor 3): the leader of the input's
  // partition 0 killed; the service's consumer and the harness's producer must follow the new leader.
  'leader-failover': { build: () => Fault.leaderFailover(), systems: ['kafka'] },
  // The service's client traffic cut: it is given the Toxiproxy addresses, so the proxies going
  // down cut it (and the harness's sends) off from the brokers until they come back.
  'network-partition': { build: (s) => Fault.networkPartition({ system: s.config.system }), systems: BOTH },
  'service-kill': { build: (s) => s.kill(), process: true, systems: BOTH },
  'service-pause': { build: (s) => s.pause(), process: true, systems: BOTH },
  // Inputs the service must reject (its poison template), sent among the good ones: each must reach
  // its dead letters (when the config names them), or at least be seen and never applied.
  'poison-messages': { build: (s) => Fault.poisonMessages(5, { system: s.config.system }), systems: BOTH },
};

export const SERVICE_FAULT_NAMES: readonly string[] = Object.keys(FAULTS);

/**
 * The scenario names for a service (`inventory-service-broker-restart`, …): process faults only
 * for a command start, leader failover only on Kafka.
 */
export function serviceScenarioNames(s: ServiceUnderTest): string[] {
  const inProcess = typeof s.config.start === 'function';
  return Object.entries(FAULTS)
    .filter(([, f]) => !(inProcess && f.process === true) && f.systems.includes(s.config.system))
    .map(([fault]) => `${s.config.name}-${fault}`);
}

/**
 * The page a team must get when its whole service is down (one instance killed, or frozen on
 * Kafka): the scenario runs under the shipped alert pack, its thresholds lowered so that a fault
 * of seconds crosses them, and the alert must fire after the fault starts and resolve once the
 * service has caught up. On Kafka the exporter's lag in seconds for the input topic
 * (KafkaConsumerLagSecondsHigh); on RabbitMQ the input queue left without a consumer
 * (RabbitMqQueueWithoutConsumers, for a queue input or an exchange input's `serviceQueue`: a
 * frozen consumer stays attached, so only the kill). With
 * several instances one member down need not page: the others take over.
 */
export const SERVICE_DOWN_LAG_SECONDS = 3;
/** The fault's default length in a scenario that checks the page (`--fault` still overrides it). */
export const SERVICE_DOWN_FAULT_MS = 12_000;

export function serviceDownAlert(s: ServiceUnderTest, fault: string): { pack: AlertPackOptions; check: InvariantCheck } | undefined {
  const start = s.config.start;
  if (typeof start === 'function' || (start.instances ?? 1) > 1) return undefined;
  const input = s.config.inputs[0]!;
  if (s.config.system === 'kafka' && (fault === 'service-kill' || fault === 'service-pause') && input.topic !== undefined) {
    return {
      pack: { config: { thresholds: { kafkaLagSecondsWarning: SERVICE_DOWN_LAG_SECONDS }, for: { 'KafkaConsumerLagSecondsHigh:warning': '1s' } } },
      check: Invariant.alertFires('KafkaConsumerLagSecondsHigh', { labels: { topic: input.topic, severity: 'warning' } }),
    };
  }
  const queue = input.queue ?? input.serviceQueue;
  if (s.config.system === 'rabbitmq' && fault === 'service-kill' && queue !== undefined) {
    return {
      pack: { config: { for: { RabbitMqQueueWithoutConsumers: '1s' } } },
      check: Invariant.alertFires('RabbitMqQueueWithoutConsumers', { labels: { queue } }),
    };
  }
  return undefined;
}

/** A fresh scenario for the service by its name (`<service>-<fault>`). */
export function serviceScenario(s: ServiceUnderTest, name: string, recoveryLimitMs = DEFAULT_RECOVERY_LIMIT_MS): ChaosScenario {
  const names = serviceScenarioNames(s);
  if (!names.includes(name)) throw new ConfigError(`no scenario "${name}" for service ${s.config.name}`, { hint: `its scenarios: ${names.join(', ')}` });
  const faultName = name.slice(s.config.name.length + 1);
  const fault = FAULTS[faultName]!.build(s);
  const scenario = new ChaosScenario(name)
    .withDescription(`${s.workload.description}; ${fault.description}`)
    .withWorkload(s.workload)
    .withFault(fault)
    .withRecoveryLimit(recoveryLimitMs);
  const invariants = s.invariants(recoveryLimitMs, fault.name.endsWith('poison-messages'));
  const alert = serviceDownAlert(s, faultName);
  if (!alert) return scenario.withInvariants(...invariants);
  // Like the catalog's kill scenarios, the fault outlasts what the page needs to be seen: RabbitMQ's
  // management statistics (what the exporter reads) are emitted every 5 s, then the exporter, the
  // scrape and the rule's `for:` each add a second.
  return scenario.withTiming({ faultMs: SERVICE_DOWN_FAULT_MS }).withAlertPack(alert.pack).withInvariants(...invariants, alert.check);
}

/** The service's scenarios matching `patterns` (exact or `*` globs; none = all), in order; an unmatched pattern is an error. */
export function selectServiceScenarios(s: ServiceUnderTest, patterns: readonly string[]): string[] {
  const names = serviceScenarioNames(s);
  if (patterns.length === 0) return names;
  const out = new Set<string>();
  for (const p of patterns) {
    const re = new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const hits = names.filter((n) => re.test(n));
    if (hits.length === 0) throw new ConfigError(`no scenario of service ${s.config.name} matches "${p}"`, { hint: `its scenarios: ${names.join(', ')}` });
    for (const h of hits) out.add(h);
  }
  return names.filter((n) => out.has(n));
}

/**
 * The scenarios of several services (one config describing a system's services), matching
 * `patterns` (none = all), each with its service, in config order; a pattern must match a
 * scenario of at least one of them.
 */
export function selectSuiteScenarios(suts: readonly ServiceUnderTest[], patterns: readonly string[]): { sut: ServiceUnderTest; name: string }[] {
  const all = suts.flatMap((sut) => serviceScenarioNames(sut).map((name) => ({ sut, name })));
  if (patterns.length === 0) return all;
  const matches = (p: string, n: string): boolean => new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(n);
  for (const p of patterns) {
    if (!all.some((s) => matches(p, s.name))) throw new ConfigError(`no scenario of ${suts.length === 1 ? 'service' : 'services'} ${suts.map((s) => s.config.name).join(' or ')} matches "${p}"`, { hint: `their scenarios: ${all.map((s) => s.name).join(', ')}` });
  }
  return all.filter((s) => patterns.some((p) => matches(p, s.name)));
}
