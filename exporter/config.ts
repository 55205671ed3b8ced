import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '@eda-harness/core';
import { checkList, checkValue, LIST_RULES, MAX_TIMER_SECONDS, parseList, parseNumber, RULES, shown } from './setting-rules';
import type { ListRule, ValueRule } from './setting-rules';
import type { ExporterConfig, KafkaTargetConfig, RabbitMqTargetConfig } from './types';

export { splitList } from './setting-rules';

/**
 * Exporter settings come from three layers, highest first: command-line flags, environment
 * variables, a JSON file (`--config` / EDA_EXPORTER_CONFIG), then defaults. Every layer is turned
 * into the same flat shape and merged field by field, so "the file sets the filters, the flag
 * overrides the port" works without surprises. Each layer checks its own values (setting-rules.ts)
 * and names a bad one the way that layer spells it: `--kafka-brokers`, `KAFKA_BROKERS`, or
 * `file.json: kafka.brokers`. Pure functions apart from reading the file.
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

export type ExporterSettingKey = keyof ExporterSettings;

export const DEFAULT_PORT = 9464;
export const DEFAULT_HOST = '0.0.0.0';

/** Lists are comma-separated in flags and variables, string arrays in the file. */
type Typed = { readonly kind: 'number'; readonly rule: ValueRule<number> } | { readonly kind: 'string'; readonly rule: ValueRule<string> } | { readonly kind: 'list'; readonly rule: ListRule };

type Setting = Typed & {
  readonly env: string;
  /**
   * Where the setting sits in the JSON file, which is also where it goes in {@link ExporterConfig}
   * (`port` and `host` are the file's own).
   */
  readonly path: readonly string[];
  /** The command-line flag (without `--`); list flags other than the brokers may be repeated. */
  readonly flag?: string;
};

const list = (rule: ListRule): Typed => ({ kind: 'list', rule });
const num = (rule: ValueRule<number>): Typed => ({ kind: 'number', rule });
const str = (rule: ValueRule<string>): Typed => ({ kind: 'string', rule });

/** Every setting: its type and rule, environment variable, place in the file (and the config), and flag. */
const SETTINGS: { readonly [K in ExporterSettingKey]-?: Setting } = {
  kafkaBrokers: { ...list(LIST_RULES.brokers), env: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], flag: 'kafka-brokers' },
  amqpUrl: { ...str(RULES.amqpUrl), env: 'AMQP_URL', path: ['rabbitmq', 'amqpUrl'], flag: 'amqp-url' },
  managementUrl: { ...str(RULES.managementUrl), env: 'RABBITMQ_MANAGEMENT_URL', path: ['rabbitmq', 'managementUrl'], flag: 'rabbitmq-management-url' },
  managementUser: { ...str(RULES.nonEmpty), env: 'RABBITMQ_MANAGEMENT_USER', path: ['rabbitmq', 'managementUser'] },
  managementPassword: { ...str(RULES.anyText), env: 'RABBITMQ_MANAGEMENT_PASSWORD', path: ['rabbitmq', 'managementPassword'] },
  vhost: { ...str(RULES.nonEmpty), env: 'EDA_EXPORTER_VHOST', path: ['rabbitmq', 'vhost'], flag: 'vhost' },
  port: { ...num(RULES.port), env: 'EDA_EXPORTER_PORT', path: ['port'], flag: 'port' },
  host: { ...str(RULES.host), env: 'EDA_EXPORTER_HOST', path: ['host'], flag: 'host' },
  intervalSeconds: { ...num(RULES.intervalSeconds), env: 'EDA_EXPORTER_INTERVAL_SECONDS', path: ['intervalSeconds'], flag: 'interval' },
  granularity: { ...str(RULES.granularity), env: 'EDA_EXPORTER_GRANULARITY', path: ['granularity'], flag: 'granularity' },
  statusWindowSeconds: { ...num(RULES.statusWindowSeconds), env: 'EDA_EXPORTER_STATUS_WINDOW_SECONDS', path: ['kafka', 'statusWindowSeconds'], flag: 'status-window' },
  groupAllow: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_GROUP_ALLOW', path: ['kafka', 'groups', 'allow'], flag: 'group-allow' },
  groupDeny: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_GROUP_DENY', path: ['kafka', 'groups', 'deny'], flag: 'group-deny' },
  topicAllow: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_TOPIC_ALLOW', path: ['kafka', 'topics', 'allow'], flag: 'topic-allow' },
  topicDeny: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_TOPIC_DENY', path: ['kafka', 'topics', 'deny'], flag: 'topic-deny' },
  queueAllow: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_QUEUE_ALLOW', path: ['rabbitmq', 'queues', 'allow'], flag: 'queue-allow' },
  queueDeny: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_QUEUE_DENY', path: ['rabbitmq', 'queues', 'deny'], flag: 'queue-deny' },
  kafkaDlqPatterns: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_KAFKA_DLQ_PATTERNS', path: ['kafka', 'dlqPatterns'], flag: 'kafka-dlq-pattern' },
  rabbitmqDlqPatterns: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_RABBITMQ_DLQ_PATTERNS', path: ['rabbitmq', 'dlqPatterns'], flag: 'rabbitmq-dlq-pattern' },
};

const SETTING_ENTRIES = Object.entries(SETTINGS) as [ExporterSettingKey, Setting][];

/** Environment variable → setting. */
export const EXPORTER_ENV: Readonly<Record<string, ExporterSettingKey>> = Object.fromEntries(SETTING_ENTRIES.map(([key, s]) => [s.env, key]));

export interface ExporterFlagSpec {
  readonly setting: ExporterSettingKey;
  /** Lists are comma-separated (and may also be repeated, see `repeatable`). */
  readonly kind: 'list' | 'number' | 'string';
  /** A list flag that may be given more than once (every list but the brokers). */
  readonly repeatable: boolean;
}

/** Command-line flag (without `--`) → setting. */
export const EXPORTER_FLAGS: Readonly<Record<string, ExporterFlagSpec>> = Object.fromEntries(
  SETTING_ENTRIES.filter(([, s]) => s.flag !== undefined).map(([key, s]) => [s.flag!, { setting: key, kind: s.kind, repeatable: s.kind === 'list' && key !== 'kafkaBrokers' }]),
);

/** Where a layer of settings comes from; it decides how a setting is named in messages. */
export type SettingsSource = 'flags' | 'env' | { readonly file: string };

/** How the user spells a setting in one layer: `--kafka-brokers`, `KAFKA_BROKERS`, `c.json: kafka.brokers`. */
export function settingName(key: ExporterSettingKey, source: SettingsSource): string {
  const s = SETTINGS[key];
  if (source === 'flags') return s.flag === undefined ? s.env : `--${s.flag}`;
  if (source === 'env') return s.env;
  return `${source.file}: ${s.path.join('.')}`;
}

/** Every spelling of a setting, for messages about merged settings: `kafka.brokers (--kafka-brokers, KAFKA_BROKERS)`. */
export function settingDescription(key: ExporterSettingKey): string {
  const s = SETTINGS[key];
  return `${s.path.join('.')} (${[s.flag === undefined ? undefined : `--${s.flag}`, s.env].filter(Boolean).join(', ')})`;
}

function checkTyped(setting: Setting, value: unknown, name: string): unknown {
  if (setting.kind === 'list') return checkList(setting.rule, value as readonly string[], name);
  if (setting.kind === 'number') return checkValue(setting.rule, value as number, name);
  return checkValue(setting.rule, value as string, name);
}

/**
 * Settings given as text (flags, environment variables), each parsed and checked: numbers must be
 * decimal numbers in range, lists are comma-separated and may not be empty. A repeatable flag's
 * occurrences come as an array, each one parsed.
 */
export function settingsFromStrings(values: Readonly<Partial<Record<ExporterSettingKey, string | readonly string[]>>>, source: SettingsSource): ExporterSettings {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of SETTING_ENTRIES) {
    const raw = values[key];
    if (raw === undefined) continue;
    const name = settingName(key, source);
    if (setting.kind === 'list') out[key] = (typeof raw === 'string' ? [raw] : raw).flatMap((r) => parseList(setting.rule, r, name));
    else if (typeof raw !== 'string') throw new ConfigError(`${name} may be given only once`);
    else if (setting.kind === 'number') out[key] = parseNumber(setting.rule, raw, name);
    else out[key] = checkValue(setting.rule, raw, name);
  }
  return out as ExporterSettings;
}

/** Environment variables (see the command's help): lists are comma-separated; an empty variable is unset. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): ExporterSettings {
  const values: Partial<Record<ExporterSettingKey, string>> = {};
  for (const [key, setting] of SETTING_ENTRIES) {
    const raw = env[setting.env];
    if (raw !== undefined && raw !== '') values[key] = raw;
  }
  return settingsFromStrings(values, 'env');
}

/** Known keys of each object of the file, by dotted path ('' is the top level). */
const FILE_KEYS: ReadonlyMap<string, readonly string[]> = (() => {
  const keys = new Map<string, string[]>();
  for (const [, { path }] of SETTING_ENTRIES) {
    for (let i = 0; i < path.length; i++) {
      const parent = path.slice(0, i).join('.');
      const known = keys.get(parent) ?? [];
      if (!known.includes(path[i]!)) known.push(path[i]!);
      keys.set(parent, known);
    }
  }
  return keys;
})();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Unknown keys anywhere in the file, as dotted paths: a misspelt filter must not widen what is exported. */
function checkKnownKeys(json: Record<string, unknown>, origin: string): void {
  const unknown: { path: string; parent: string }[] = [];
  const visit = (node: Record<string, unknown>, parent: string): void => {
    const known = FILE_KEYS.get(parent) ?? [];
    for (const [k, v] of Object.entries(node)) {
      const path = parent === '' ? k : `${parent}.${k}`;
      if (!known.includes(k)) unknown.push({ path, parent });
      else if (FILE_KEYS.has(path) && isObject(v)) visit(v, path);
    }
  };
  visit(json, '');
  if (unknown.length === 0) return;
  const parents = [...new Set(unknown.map((u) => u.parent))];
  throw new ConfigError(`${origin}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => u.path).join(', ')}`, {
    hint: parents.map((p) => `${p === '' ? 'Known top-level keys' : `Known keys of ${p}`}: ${FILE_KEYS.get(p)!.join(', ')}`).join('. '),
  });
}

function typeName(kind: Setting['kind']): string {
  return kind === 'list' ? 'a list of strings' : kind === 'number' ? 'a number' : 'a string';
}

function hasKind(kind: Setting['kind'], value: unknown): boolean {
  if (kind === 'list') return Array.isArray(value) && value.every((v) => typeof v === 'string');
  return typeof value === kind;
}

/**
 * Reads the settings out of an object shaped like the file (or like {@link ExporterConfig}), each
 * value type-checked and checked against its rule, named by its dotted path.
 */
function settingsFromTree(json: Record<string, unknown>, origin: string, keys: readonly ExporterSettingKey[]): ExporterSettings {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const setting = SETTINGS[key];
    let node: Record<string, unknown> = json;
    for (const [i, name] of setting.path.slice(0, -1).entries()) {
      const value = node[name];
      if (value === undefined) {
        node = {};
        break;
      }
      if (!isObject(value)) throw new ConfigError(`${origin}: ${setting.path.slice(0, i + 1).join('.')} must be an object (got ${shown(value)})`);
      node = value;
    }
    const value = node[setting.path[setting.path.length - 1]!];
    if (value === undefined) continue;
    const name = `${origin}: ${setting.path.join('.')}`;
    if (!hasKind(setting.kind, value)) throw new ConfigError(`${name} must be ${typeName(setting.kind)} (got ${shown(value)})`);
    out[key] = checkTyped(setting, value, name);
  }
  return out as ExporterSettings;
}

/** The JSON file format: the nested {@link ExporterConfig} shape plus `port` and `host`; unknown keys are refused. */
export function settingsFromFileText(text: string, origin = 'exporter config file'): ExporterSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${origin} is not valid JSON: ${errorMessage(err)}`);
  }
  if (!isObject(json)) throw new ConfigError(`${origin} must hold a JSON object (got ${shown(json)})`);
  checkKnownKeys(json, origin);
  return settingsFromTree(json, origin, SETTING_ENTRIES.map(([key]) => key));
}

/** @param via how the file was named (`--config`, `EDA_EXPORTER_CONFIG`), for the message when it cannot be read. */
export function settingsFromFile(path: string, via?: string): ExporterSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new ConfigError(`cannot read the exporter config file ${path}${via ? ` (${via})` : ''}: ${typeof code === 'string' ? code : errorMessage(err)}`, {
      hint: 'Give a readable JSON file (see docs/exporter.md, "Configuration file").',
    });
  }
  return settingsFromFileText(text, path);
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

/**
 * Validates merged settings and builds the exporter configuration. The layers have checked their
 * values already; settings built in code are checked here, named by every spelling of the setting.
 */
export function toExporterConfig(s: ExporterSettings): ResolvedExporterSettings {
  for (const [key, setting] of SETTING_ENTRIES) {
    const value = s[key];
    if (value === undefined) continue;
    const name = settingDescription(key);
    if (!hasKind(setting.kind, value)) throw new ConfigError(`${name} must be ${typeName(setting.kind)} (got ${shown(value)})`);
    checkTyped(setting, value, name);
  }
  const hasKafka = (s.kafkaBrokers?.length ?? 0) > 0;
  const hasRabbit = s.amqpUrl !== undefined || s.managementUrl !== undefined;
  if (!hasKafka && !hasRabbit) {
    throw new ConfigError('nothing to export: no Kafka brokers and no RabbitMQ URL', {
      hint:
        'Pass --kafka-brokers and/or --rabbitmq-management-url / --amqp-url (or KAFKA_BROKERS, RABBITMQ_MANAGEMENT_URL, AMQP_URL; ' +
        'kafka.brokers, rabbitmq.managementUrl, rabbitmq.amqpUrl in the config file).',
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
  return { config: config as ExporterConfig, port: s.port ?? DEFAULT_PORT, host: s.host ?? DEFAULT_HOST };
}

/**
 * Checks an embedded configuration ({@link createExporter}): the settings the file also has, by
 * their dotted paths, and the collection timeout, which must fit Node's timers too. Keys the file
 * does not have (clientId, concurrency, …) are the embedding program's business and not checked.
 */
export function checkExporterConfig(config: ExporterConfig, origin = 'exporter config'): void {
  const tree: unknown = config;
  if (!isObject(tree)) throw new ConfigError(`${origin} must be an object (got ${shown(tree)})`);
  settingsFromTree(tree, origin, SETTING_ENTRIES.map(([key]) => key).filter((k) => k !== 'port' && k !== 'host'));
  const timeout = config.collectTimeoutSeconds;
  if (timeout !== undefined) {
    const rule = { expect: `a positive number of seconds up to ${MAX_TIMER_SECONDS}`, valid: (v: number) => Number.isFinite(v) && v > 0 && v <= MAX_TIMER_SECONDS };
    checkValue(rule, timeout, `${origin}: collectTimeoutSeconds`);
  }
}
