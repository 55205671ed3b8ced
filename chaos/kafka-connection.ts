import { ConfigError, KAFKA_SECURITY_VARIABLES, isSecured, kafkaClientSecurity, kafkaSecurityFromEnv, securedListenerSettings } from '@eda-harness/core';
import type { KafkaClientSecurity, KafkaSecuritySettings } from '@eda-harness/core';
import type { StartedEnvironment } from '@eda-harness/environment';

/** Where a scenario's Kafka clients connect, and with which TLS / SASL settings. */
export interface KafkaConnectionSettings {
  readonly brokers: string[];
  /** Undefined for a plaintext listener. */
  readonly security: KafkaSecuritySettings | undefined;
}

/**
 * The listener the scenario's clients use. A Kafka the environment started with
 * `withKafka({ security: 'sasl_ssl' })` is reached on its SASL_SSL listener as its SCRAM user
 * (`getKafkaSecurity()`); a Kafka the user runs (KAFKA_BROKERS) with the settings given
 * (KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*, KAFKA_SASL_* read by the CLI); anything else in plaintext.
 */
export function kafkaConnectionOf(env: StartedEnvironment, settings: KafkaSecuritySettings | undefined): KafkaConnectionSettings {
  if (env.kafka?.security) {
    const s = env.getKafkaSecurity();
    return { brokers: s.brokers, security: securedListenerSettings(s) };
  }
  if (isSecured(settings) && env.kafka && env.kafka.provider !== 'external') {
    throw new ConfigError(`Kafka security settings are given, but the Kafka of this run was started by eda-harness (${env.kafka.provider}) with a plaintext listener only`, {
      hint: "The settings (KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*, KAFKA_SASL_*) are for a cluster named by KAFKA_BROKERS; for a secured Kafka started by eda-harness use --kafka-security sasl_ssl (withKafka({ security: 'sasl_ssl' })).",
    });
  }
  return { brokers: env.getKafkaBrokers(), security: isSecured(settings) ? settings : undefined };
}

/** kafkajs's `ssl` / `sasl` options of a connection (files read now). */
export function kafkaClientOptions(connection: KafkaConnectionSettings): KafkaClientSecurity {
  return kafkaClientSecurity(connection.security);
}

/**
 * The TLS / SASL settings of the environment variables (KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*,
 * KAFKA_SASL_*), checked before anything starts: they describe a cluster the user runs, so they
 * need KAFKA_BROKERS naming it (a Kafka eda-harness starts is secured with --kafka-security).
 */
export function kafkaClientSecurityFromEnv(env: Readonly<Record<string, string | undefined>>): KafkaSecuritySettings | undefined {
  const settings = kafkaSecurityFromEnv(env);
  if (!isSecured(settings)) return undefined;
  if ((env['KAFKA_BROKERS'] ?? '').trim() === '') {
    const given = Object.values(KAFKA_SECURITY_VARIABLES).filter((name) => env[name] !== undefined);
    throw new ConfigError(`${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set but KAFKA_BROKERS is not: the Kafka security settings are for a cluster you run`, {
      hint: 'Name its brokers in KAFKA_BROKERS (the secured listener), or unset the KAFKA_SECURITY_PROTOCOL / KAFKA_TLS_* / KAFKA_SASL_* variables; for a secured Kafka started by eda-harness use --kafka-security sasl_ssl.',
    });
  }
  return settings;
}
