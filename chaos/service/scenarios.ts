import { ConfigError } from '@eda-harness/core';
import { Fault } from '../faults';
import { ChaosScenario, DEFAULT_RECOVERY_LIMIT_MS } from '../scenario';
import type { ChaosFault, ChaosSystem } from '../types';
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

/** A fresh scenario for the service by its name (`<service>-<fault>`). */
export function serviceScenario(s: ServiceUnderTest, name: string, recoveryLimitMs = DEFAULT_RECOVERY_LIMIT_MS): ChaosScenario {
  const names = serviceScenarioNames(s);
  if (!names.includes(name)) throw new ConfigError(`no scenario "${name}" for service ${s.config.name}`, { hint: `its scenarios: ${names.join(', ')}` });
  const fault = FAULTS[name.slice(s.config.name.length + 1)]!.build(s);
  return new ChaosScenario(name)
    .withDescription(`${s.workload.description}; ${fault.description}`)
    .withWorkload(s.workload)
    .withFault(fault)
    .withRecoveryLimit(recoveryLimitMs)
    .withInvariants(...s.invariants(recoveryLimitMs, fault.name.endsWith('poison-messages')));
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
