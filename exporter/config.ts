import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '@eda-harness/core';
import type { ExporterConfig, KafkaTargetConfig, RabbitMqTargetConfig } from './types';

/**
 * Exporter settings come from three layers, highest first: command-line flags, environment
 * variables, a JSON file (`--config` / EDA_EXPORTER_CONFIG), then defaults. Every layer is turned
 * into the same flat shape and merged field by field, so "the file sets the filters, the flag
 * overrides the port" works without surprises. Pure functions apart from reading the file.
 */
export interface ExporterSettings
  extends Pick<ExporterConfig, 'intervalSeconds' | 'granularity'>,
    Pick<KafkaTargetConfig, 'statusWindowSeconds'>,
    Pick<RabbitMqTargetConfig, 'amqpUrl' | 'managementUrl' | 'managementUser' | 'managementPassword' | 'vhost'> {
  readonly kafkaBrokers?: readonly string[];
  readonly port?: number;
  readonly host?: string;
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

interface Setting {
  /** Lists are comma-separated in the environment and string arrays in the file. */
  readonly kind: 'list' | 'number' | 'string';
  readonly env: string;
  /**
   * Where the setting sits in the JSON file, which is also where it goes in {@link ExporterConfig}
   * (`port` and `host` are the file's own).
   */
  readonly path: readonly string[];
}

/** Every setting: its type, environment variable and place in the file (and the config). */
const SETTINGS: { readonly [K in keyof Required<ExporterSettings>]: Setting } = {
  kafkaBrokers: { kind: 'list', env: 'KAFKA_BROKERS', path: ['kafka', 'brokers'] },
  amqpUrl: { kind: 'string', env: 'AMQP_URL', path: ['rabbitmq', 'amqpUrl'] },
  managementUrl: { kind: 'string', env: 'RABBITMQ_MANAGEMENT_URL', path: ['rabbitmq', 'managementUrl'] },
  managementUser: { kind: 'string', env: 'RABBITMQ_MANAGEMENT_USER', path: ['rabbitmq', 'managementUser'] },
  managementPassword: { kind: 'string', env: 'RABBITMQ_MANAGEMENT_PASSWORD', path: ['rabbitmq', 'managementPassword'] },
  vhost: { kind: 'string', env: 'EDA_EXPORTER_VHOST', path: ['rabbitmq', 'vhost'] },
  port: { kind: 'number', env: 'EDA_EXPORTER_PORT', path: ['port'] },
  host: { kind: 'string', env: 'EDA_EXPORTER_HOST', path: ['host'] },
  intervalSeconds: { kind: 'number', env: 'EDA_EXPORTER_INTERVAL_SECONDS', path: ['intervalSeconds'] },
  granularity: { kind: 'string', env: 'EDA_EXPORTER_GRANULARITY', path: ['granularity'] },
  statusWindowSeconds: { kind: 'number', env: 'EDA_EXPORTER_STATUS_WINDOW_SECONDS', path: ['kafka', 'statusWindowSeconds'] },
  groupAllow: { kind: 'list', env: 'EDA_EXPORTER_GROUP_ALLOW', path: ['kafka', 'groups', 'allow'] },
  groupDeny: { kind: 'list', env: 'EDA_EXPORTER_GROUP_DENY', path: ['kafka', 'groups', 'deny'] },
  topicAllow: { kind: 'list', env: 'EDA_EXPORTER_TOPIC_ALLOW', path: ['kafka', 'topics', 'allow'] },
  topicDeny: { kind: 'list', env: 'EDA_EXPORTER_TOPIC_DENY', path: ['kafka', 'topics', 'deny'] },
  queueAllow: { kind: 'list', env: 'EDA_EXPORTER_QUEUE_ALLOW', path: ['rabbitmq', 'queues', 'allow'] },
  queueDeny: { kind: 'list', env: 'EDA_EXPORTER_QUEUE_DENY', path: ['rabbitmq', 'queues', 'deny'] },
  kafkaDlqPatterns: { kind: 'list', env: 'EDA_EXPORTER_KAFKA_DLQ_PATTERNS', path: ['kafka', 'dlqPatterns'] },
  rabbitmqDlqPatterns: { kind: 'list', env: 'EDA_EXPORTER_RABBITMQ_DLQ_PATTERNS', path: ['rabbitmq', 'dlqPatterns'] },
};

const SETTING_ENTRIES = Object.entries(SETTINGS) as [keyof ExporterSettings, Setting][];

/** Environment variable → setting. */
export const EXPORTER_ENV: Readonly<Record<string, keyof ExporterSettings>> = Object.fromEntries(SETTING_ENTRIES.map(([key, s]) => [s.env, key]));

/** Splits "a, b,,c" into ["a", "b", "c"]. */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function fromEnv(setting: Setting, raw: string): unknown {
  if (setting.kind === 'list') return splitList(raw);
  if (setting.kind === 'string') return raw;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${setting.env} must be a number (got "${raw}")`);
  return n;
}

function hasKind(setting: Setting, value: unknown): boolean {
  if (setting.kind === 'list') return Array.isArray(value) && value.every((v) => typeof v === 'string');
  return typeof value === (setting.kind === 'number' ? 'number' : 'string');
}

/** Environment variables (see the command's help): lists are comma-separated. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): ExporterSettings {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of SETTING_ENTRIES) {
    const raw = env[setting.env];
    if (raw !== undefined && raw !== '') out[key] = fromEnv(setting, raw);
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
  const out: Record<string, unknown> = {};
  for (const [key, setting] of SETTING_ENTRIES) {
    let node = json as Record<string, unknown>;
    for (const name of setting.path.slice(0, -1)) node = object(node[name], `${origin}: ${name}`);
    const value = node[setting.path[setting.path.length - 1]!];
    if (value === undefined) continue;
    if (!hasKind(setting, value)) throw new ConfigError(`${origin}: "${key}" has the wrong type (${JSON.stringify(value)})`);
    out[key] = value;
  }
  return out as ExporterSettings;
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
  // Each setting goes where the file has it (but port and host); a target's filters are always set.
  const config: Record<string, unknown> = {
    ...(hasKafka ? { kafka: { groups: {}, topics: {} } } : {}),
    ...(hasRabbit ? { rabbitmq: { queues: {} } } : {}),
  };
  for (const [key, { path }] of SETTING_ENTRIES) {
    const value = s[key];
    if (value === undefined || key === 'port' || key === 'host') continue;
    let node: Record<string, unknown> | undefined = config;
    for (const name of path.slice(0, -1)) node = node?.[name] as Record<string, unknown> | undefined;
    // Undefined: the setting of a target that is not configured (filters without brokers).
    if (node) node[path[path.length - 1]!] = value;
  }
  return { config: config as ExporterConfig, port, host: s.host ?? '0.0.0.0' };
}
