import { ConfigError } from '@eda-harness/core';
import { externalSettings } from './external/external';
import type { ProviderKind } from './types';

export type ServiceName = 'kafka' | 'rabbitmq' | 'prometheus';

/** The variable that names an existing service of each kind. */
const EXTERNAL_VARIABLE: Readonly<Record<ServiceName, string>> = { kafka: 'KAFKA_BROKERS', rabbitmq: 'AMQP_URL', prometheus: 'PROMETHEUS_URL' };

export interface ProviderSelection {
  /** withProvider()'s value, else EDA_HARNESS_PROVIDER's: external, containers or native; anything else (or none) is auto. */
  readonly choice: string | undefined;
  /** The environment variables: KAFKA_BROKERS, AMQP_URL and PROMETHEUS_URL name external services. */
  readonly env: NodeJS.ProcessEnv;
  /** Whether a Docker engine answers; undefined while nobody has asked. */
  readonly dockerAnswers: boolean | undefined;
}

/**
 * Which provider starts `service`, without side effects:
 * - a forced provider wins (external needs the service's variable, or it is a ConfigError);
 * - auto: external when the service's variable names one, containers when a Docker engine answers,
 *   native processes otherwise.
 * Returns undefined when only Docker can decide and `dockerAnswers` is undefined: ask Docker, then
 * call again with the answer (so Docker is asked only when it matters).
 */
export function selectProvider(service: ServiceName, selection: ProviderSelection & { readonly dockerAnswers: boolean }): ProviderKind;
export function selectProvider(service: ServiceName, selection: ProviderSelection): ProviderKind | undefined;
export function selectProvider(service: ServiceName, selection: ProviderSelection): ProviderKind | undefined {
  const ext = externalSettings(selection.env);
  const named = service === 'kafka' ? ext.kafkaBrokers !== undefined : service === 'rabbitmq' ? ext.amqpUrl !== undefined : ext.prometheusUrl !== undefined;
  const { choice } = selection;
  if (choice === 'external') {
    if (!named) throw new ConfigError(`provider "external" needs ${EXTERNAL_VARIABLE[service]} to name the ${service} service`);
    return 'external';
  }
  if (choice === 'native' || choice === 'containers') return choice;
  if (named) return 'external';
  if (selection.dockerAnswers === undefined) return undefined;
  return selection.dockerAnswers ? 'containers' : 'native';
}
