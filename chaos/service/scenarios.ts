import { ConfigError } from '@eda-harness/core';
import { Fault } from '../faults';
import { ChaosScenario, DEFAULT_RECOVERY_LIMIT_MS } from '../scenario';
import type { ChaosFault } from '../types';
import type { ServiceUnderTest } from './service-workload';

/**
 * The scenarios a service under test runs, named `<service>-<fault>`: the broker faults of the
 * catalog (the service's own clients ride through them) and the service-side ones (its process
 * killed or frozen), each checked with the service invariants.
 */
const FAULTS: Record<string, { readonly build: (s: ServiceUnderTest) => ChaosFault; readonly process: boolean }> = {
  'broker-restart': { build: () => Fault.brokerRestart(), process: false },
  'broker-kill': { build: () => Fault.brokerKill(), process: false },
  // A three-node cluster (the input topic with replication factor 3): the leader of the input's
  // partition 0 killed; the service's consumer and the harness's producer must follow the new leader.
  'leader-failover': { build: () => Fault.leaderFailover(), process: false },
  // The service's client traffic cut: it is given the Toxiproxy addresses, so the proxies going
  // down cut it (and the harness's sends) off from every broker until they come back.
  'network-partition': { build: () => Fault.networkPartition(), process: false },
  'service-kill': { build: (s) => s.kill(), process: true },
  'service-pause': { build: (s) => s.pause(), process: true },
};

export const SERVICE_FAULT_NAMES: readonly string[] = Object.keys(FAULTS);

/** The scenario names for a service (`inventory-service-broker-restart`, …); process faults only for a command start. */
export function serviceScenarioNames(s: ServiceUnderTest): string[] {
  const inProcess = typeof s.config.start === 'function';
  return Object.entries(FAULTS)
    .filter(([, f]) => !(inProcess && f.process))
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
    .withInvariants(...s.invariants(recoveryLimitMs));
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
