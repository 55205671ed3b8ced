import { ConfigError } from '@eda-harness/core';
import { checkExternalSettings, externalSettings } from './external/external';
import type { ProviderChoice, ProviderKind } from './types';

export type ServiceName = 'kafka' | 'rabbitmq' | 'prometheus' | 'jaeger';

/** The variable that names an existing service of each kind. */
const EXTERNAL_VARIABLE: Readonly<Record<ServiceName, string>> = { kafka: 'KAFKA_BROKERS', rabbitmq: 'AMQP_URL', prometheus: 'PROMETHEUS_URL', jaeger: 'JAEGER_QUERY_URL (with OTEL_EXPORTER_OTLP_ENDPOINT)' };

export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', 'external', 'containers', 'native'];

/**
 * A provider choice as given (`source`: the variable or option it came from, for the message):
 * one of {@link PROVIDER_CHOICES}; unset or empty is auto. Anything else is a ConfigError: a typo
 * must not provision and start native brokers.
 */
export function checkProviderChoice(value: string | undefined, source: string): ProviderChoice {
  if (value === undefined || value === '') return 'auto';
  if ((PROVIDER_CHOICES as readonly string[]).includes(value)) return value as ProviderChoice;
  throw new ConfigError(`${source} must be one of ${PROVIDER_CHOICES.join(', ')} (got "${value}")`);
}

export interface ProviderSelection {
  /** withProvider()'s value, else EDA_HARNESS_PROVIDER's: auto, external, containers or native (none is auto; anything else a ConfigError). */
  readonly choice: string | undefined;
  /** The environment variables: KAFKA_BROKERS, AMQP_URL, PROMETHEUS_URL and JAEGER_QUERY_URL name external services. */
  readonly env: NodeJS.ProcessEnv;
  /** Whether a Docker engine answers; undefined while nobody has asked. */
  readonly dockerAnswers: boolean | undefined;
}

/**
 * Which provider starts `service`, without side effects:
 * - a forced provider wins (external needs the service's variable, or it is a ConfigError);
 * - auto: external when the service's variable names one, containers when a Docker engine answers,
 *   native processes otherwise;
 * - when the service is external, its variables must be well-formed (host:port entries, URLs), or
 *   it is a ConfigError naming the bad entry;
 * - an unknown choice is a ConfigError.
 * Returns undefined when only Docker can decide and `dockerAnswers` is undefined: ask Docker, then
 * call again with the answer (so Docker is asked only when it matters).
 */
export function selectProvider(service: ServiceName, selection: ProviderSelection & { readonly dockerAnswers: boolean }): ProviderKind;
export function selectProvider(service: ServiceName, selection: ProviderSelection): ProviderKind | undefined;
export function selectProvider(service: ServiceName, selection: ProviderSelection): ProviderKind | undefined {
  const ext = externalSettings(selection.env);
  const named = {
    kafka: ext.kafkaBrokers !== undefined,
    rabbitmq: ext.amqpUrl !== undefined,
    prometheus: ext.prometheusUrl !== undefined,
    // JAEGER_QUERY_URL alone decides: OTEL_EXPORTER_OTLP_ENDPOINT is set for many other reasons.
    jaeger: ext.jaegerQueryUrl !== undefined,
  }[service];
  const choice = checkProviderChoice(selection.choice, 'EDA_HARNESS_PROVIDER');
  if (choice === 'external') {
    if (!named) throw new ConfigError(`provider "external" needs ${EXTERNAL_VARIABLE[service]} to name the ${service} service`);
    checkExternalSettings(service, selection.env);
    return 'external';
  }
  if (choice === 'native' || choice === 'containers') return choice;
  if (named) {
    checkExternalSettings(service, selection.env);
    return 'external';
  }
  if (selection.dockerAnswers === undefined) return undefined;
  return selection.dockerAnswers ? 'containers' : 'native';
}
