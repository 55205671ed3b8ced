import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '@eda-harness/core';
import type { ExporterConfig, Granularity } from './types';

/**
 * Exporter settings come from three layers, highest first: command-line flags, environment
 * variables, a JSON file (`--config` / EDA_EXPORTER_CONFIG), then defaults. Every layer is turned
 * into the same flat shape and merged field by field, so "the file sets the filters, the flag
 * overrides the port" works without surprises. Pure functions apart from reading the file.
 */
export interface ExporterSettings {
  readonly kafkaBrokers?: readonly string[];
  readonly amqpUrl?: string;
  readonly managementUrl?: string;
  readonly managementUser?: string;
  readonly managementPassword?: string;
  readonly vhost?: string;
  readonly port?: number;
  readonly host?: string;
  readonly intervalSeconds?: number;
  readonly granularity?: Granularity;
  readonly statusWindowSeconds?: number;
  readonly groupAllow?: readonly string[];
  readonly groupDeny?: readonly string[];
  readonly topicAllow?: readonly string[];
  readonly topicDeny?: readonly string[];
  readonly queueAllow?: readonly string[];
  readonly queueDeny?: readonly string[];
  readonly kafkaDlqPatterns?: readonly string[];
  readonly rabbitmqDlqPatterns?: readonly string[];
}

export const DEFAULT_PORT = 9464;

/** Environment variable → setting. Lists are comma-separated. */
export const EXPORTER_ENV = {
  KAFKA_BROKERS: 'kafkaBrokers',
  AMQP_URL: 'amqpUrl',
  RABBITMQ_MANAGEMENT_URL: 'managementUrl',
  RABBITMQ_MANAGEMENT_USER: 'managementUser',
  RABBITMQ_MANAGEMENT_PASSWORD: 'managementPassword',
  EDA_EXPORTER_VHOST: 'vhost',
  EDA_EXPORTER_PORT: 'port',
  EDA_EXPORTER_HOST: 'host',
  EDA_EXPORTER_INTERVAL_SECONDS: 'intervalSeconds',
  EDA_EXPORTER_GRANULARITY: 'granularity',
  EDA_EXPORTER_STATUS_WINDOW_SECONDS: 'statusWindowSeconds',
  EDA_EXPORTER_GROUP_ALLOW: 'groupAllow',
  EDA_EXPORTER_GROUP_DENY: 'groupDeny',
  EDA_EXPORTER_TOPIC_ALLOW: 'topicAllow',
  EDA_EXPORTER_TOPIC_DENY: 'topicDeny',
  EDA_EXPORTER_QUEUE_ALLOW: 'queueAllow',
  EDA_EXPORTER_QUEUE_DENY: 'queueDeny',
  EDA_EXPORTER_KAFKA_DLQ_PATTERNS: 'kafkaDlqPatterns',
  EDA_EXPORTER_RABBITMQ_DLQ_PATTERNS: 'rabbitmqDlqPatterns',
} as const satisfies Record<string, keyof ExporterSettings>;

const LIST_KEYS = new Set<keyof ExporterSettings>([
  'kafkaBrokers', 'groupAllow', 'groupDeny', 'topicAllow', 'topicDeny', 'queueAllow', 'queueDeny', 'kafkaDlqPatterns', 'rabbitmqDlqPatterns',
]);
const NUMBER_KEYS = new Set<keyof ExporterSettings>(['port', 'intervalSeconds', 'statusWindowSeconds']);

/** Splits "a, b,,c" into ["a", "b", "c"]. */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function coerce(key: keyof ExporterSettings, raw: string, origin: string): unknown {
  if (LIST_KEYS.has(key)) return splitList(raw);
  if (NUMBER_KEYS.has(key)) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${origin} must be a number (got "${raw}")`);
    return n;
  }
  return raw;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): ExporterSettings {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(EXPORTER_ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') out[key] = coerce(key, raw, name);
  }
  return out as ExporterSettings;
}

/** The JSON file format: the nested {@link ExporterConfig} shape plus `port` and `host`. */
export function settingsFromFileText(text: string, origin = 'exporter config file'): ExporterSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${origin} is not valid JSON: ${errorMessage(err)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${origin} must hold a JSON object`);
  const o = json as Record<string, unknown>;
  const kafka = object(o['kafka'], `${origin}: kafka`);
  const rabbit = object(o['rabbitmq'], `${origin}: rabbitmq`);
  const filter = (parent: Record<string, unknown>, name: string) => object(parent[name], `${origin}: ${name}`);
  const s: Record<string, unknown> = {
    port: o['port'],
    host: o['host'],
    intervalSeconds: o['intervalSeconds'],
    granularity: o['granularity'],
    kafkaBrokers: kafka['brokers'],
    statusWindowSeconds: kafka['statusWindowSeconds'],
    groupAllow: filter(kafka, 'groups')['allow'],
    groupDeny: filter(kafka, 'groups')['deny'],
    topicAllow: filter(kafka, 'topics')['allow'],
    topicDeny: filter(kafka, 'topics')['deny'],
    kafkaDlqPatterns: kafka['dlqPatterns'],
    amqpUrl: rabbit['amqpUrl'],
    managementUrl: rabbit['managementUrl'],
    managementUser: rabbit['managementUser'],
    managementPassword: rabbit['managementPassword'],
    vhost: rabbit['vhost'],
    queueAllow: filter(rabbit, 'queues')['allow'],
    queueDeny: filter(rabbit, 'queues')['deny'],
    rabbitmqDlqPatterns: rabbit['dlqPatterns'],
  };
  for (const [key, value] of Object.entries(s)) {
    if (value === undefined) {
      delete s[key];
      continue;
    }
    const k = key as keyof ExporterSettings;
    const ok = LIST_KEYS.has(k)
      ? Array.isArray(value) && value.every((v) => typeof v === 'string')
      : NUMBER_KEYS.has(k)
        ? typeof value === 'number'
        : typeof value === 'string';
    if (!ok) throw new ConfigError(`${origin}: "${key}" has the wrong type (${JSON.stringify(value)})`);
  }
  return s as ExporterSettings;
}

export function settingsFromFile(path: string): ExporterSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read exporter config file ${path}: ${errorMessage(err)}`);
  }
  return settingsFromFileText(text, path);
}

function object(value: unknown, origin: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${origin} must be an object`);
  return value as Record<string, unknown>;
}

/** Merges layers, the first one winning field by field. */
export function mergeSettings(...layers: readonly ExporterSettings[]): ExporterSettings {
  const out: Record<string, unknown> = {};
  for (const layer of [...layers].reverse()) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  }
  return out as ExporterSettings;
}

export interface ResolvedExporterSettings {
  readonly config: ExporterConfig;
  readonly port: number;
  readonly host: string;
}

/** Validates merged settings and builds the exporter configuration. */
export function toExporterConfig(s: ExporterSettings): ResolvedExporterSettings {
  const positive = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new ConfigError(`${name} must be a positive number (got ${v})`);
  };
  positive('interval', s.intervalSeconds);
  positive('status window', s.statusWindowSeconds);
  const port = s.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port must be an integer from 0 to 65535 (got ${port})`);
  if (s.granularity !== undefined && s.granularity !== 'partition' && s.granularity !== 'topic') {
    throw new ConfigError(`granularity must be "partition" or "topic" (got "${String(s.granularity)}")`);
  }
  const hasKafka = (s.kafkaBrokers?.length ?? 0) > 0;
  const hasRabbit = s.amqpUrl !== undefined || s.managementUrl !== undefined;
  if (!hasKafka && !hasRabbit) {
    throw new ConfigError('nothing to export: no Kafka brokers and no RabbitMQ URL', {
      hint: 'Pass --kafka-brokers and/or --rabbitmq-management-url / --amqp-url (or KAFKA_BROKERS, RABBITMQ_MANAGEMENT_URL, AMQP_URL).',
    });
  }
  const filter = (allow: readonly string[] | undefined, deny: readonly string[] | undefined) => ({
    ...(allow ? { allow } : {}),
    ...(deny ? { deny } : {}),
  });
  const config: ExporterConfig = {
    ...(s.intervalSeconds !== undefined ? { intervalSeconds: s.intervalSeconds } : {}),
    ...(s.granularity !== undefined ? { granularity: s.granularity } : {}),
    ...(hasKafka
      ? {
          kafka: {
            brokers: s.kafkaBrokers ?? [],
            groups: filter(s.groupAllow, s.groupDeny),
            topics: filter(s.topicAllow, s.topicDeny),
            ...(s.kafkaDlqPatterns ? { dlqPatterns: s.kafkaDlqPatterns } : {}),
            ...(s.statusWindowSeconds !== undefined ? { statusWindowSeconds: s.statusWindowSeconds } : {}),
          },
        }
      : {}),
    ...(hasRabbit
      ? {
          rabbitmq: {
            ...(s.amqpUrl !== undefined ? { amqpUrl: s.amqpUrl } : {}),
            ...(s.managementUrl !== undefined ? { managementUrl: s.managementUrl } : {}),
            ...(s.managementUser !== undefined ? { managementUser: s.managementUser } : {}),
            ...(s.managementPassword !== undefined ? { managementPassword: s.managementPassword } : {}),
            ...(s.vhost !== undefined ? { vhost: s.vhost } : {}),
            queues: filter(s.queueAllow, s.queueDeny),
            ...(s.rabbitmqDlqPatterns ? { dlqPatterns: s.rabbitmqDlqPatterns } : {}),
          },
        }
      : {}),
  };
  return { config, port, host: s.host ?? '0.0.0.0' };
}
