import { readFileSync } from 'node:fs';
import { ConfigError, checkKafkaSecuritySettings, errorMessage, kafkaClientSecurity } from '@eda-harness/core';
import { LABEL, RESOURCE_LABEL } from '@eda-harness/semconv';
import { checkAllowances, checkList, checkValue, LIST_RULES, parseAllowances, parseList, parseNumber, RULES, shown } from './setting-rules';
import type { LagAllowance, ListRule, ValueRule } from './setting-rules';
import { DEFAULT_STATUS_WINDOW_SECONDS } from './kafka/consumer-status';
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
export interface ExporterSettings extends FlatSettings {
  /** More clusters and servers: only the config file lists them (`kafkaClusters`, `rabbitmqServers`). */
  readonly kafkaClusters?: readonly KafkaTargetConfig[];
  readonly rabbitmqServers?: readonly RabbitMqTargetConfig[];
}

/** The settings that have a flag or variable, one value each. */
export interface FlatSettings
  extends Pick<ExporterConfig, 'intervalSeconds' | 'granularity' | 'collectTimeoutSeconds'>,
    Pick<KafkaTargetConfig, 'statusWindowSeconds'>,
    Pick<RabbitMqTargetConfig, 'amqpUrl' | 'managementUrl' | 'managementUser' | 'managementPassword' | 'vhost' | 'managementPageSize' | 'managementCaFile' | 'prometheusUrl'> {
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
  readonly managementPasswordFile?: string;
  readonly clusterLabel?: string;
  readonly kafkaClusterName?: string;
  readonly rabbitmqServerName?: string;
  readonly kafkaSecurityProtocol?: string;
  readonly kafkaTlsCaFile?: string;
  readonly kafkaTlsCertFile?: string;
  readonly kafkaTlsKeyFile?: string;
  readonly kafkaTlsServername?: string;
  readonly kafkaSaslMechanism?: string;
  readonly kafkaSaslUsername?: string;
  readonly kafkaSaslPassword?: string;
  readonly kafkaSaslPasswordFile?: string;
  readonly kafkaSaslTokenCommand?: string;
  readonly kafkaSaslTokenFile?: string;
  readonly kafkaClientId?: string;
  readonly kafkaConcurrency?: number;
  readonly kafkaRequestTimeoutMs?: number;
  readonly kafkaAllowedLag?: readonly LagAllowance[];
  readonly rabbitmqRequestTimeoutMs?: number;
  readonly rabbitmqDlqDeny?: readonly string[];
  readonly rabbitmqRetryQueuePatterns?: readonly string[];
}

export type ExporterSettingKey = keyof FlatSettings;

export const DEFAULT_PORT = 9464;
export const DEFAULT_HOST = '0.0.0.0';

/**
 * Lists are comma-separated in flags and variables, string arrays in the file. Allowances (of lag,
 * per group glob) are `glob=messages` items in flags and variables, `{ groups, messages }` objects
 * in the file (the shape of {@link KafkaTargetConfig.allowedLag}).
 */
type Typed =
  | { readonly kind: 'number'; readonly rule: ValueRule<number> }
  | { readonly kind: 'string'; readonly rule: ValueRule<string> }
  | { readonly kind: 'list'; readonly rule: ListRule }
  | { readonly kind: 'allowances' };

type Setting = Typed & {
  readonly env: string;
  /**
   * Where the setting sits in the JSON file, which is also where it goes in {@link ExporterConfig}
   * (`port` and `host` are the file's own).
   */
  readonly path: readonly string[];
  /** The command-line flag (without `--`); list flags other than the brokers may be repeated. */
  readonly flag?: string;
  /** Its line in `--help`: the section, the value's placeholder and what it does (defaults included). */
  readonly help: Help;
};

/** The sections of `eda-harness exporter --help`, in order. */
export const HELP_SECTIONS = ['Targets', 'Options', 'Kafka', 'RabbitMQ', 'Kafka security', 'Several clusters'] as const;
export type HelpSection = (typeof HELP_SECTIONS)[number];
interface Help {
  readonly section: HelpSection;
  readonly arg: string;
  readonly text: string;
}
const help = (section: HelpSection, arg: string, text: string): { help: Help } => ({ help: { section, arg, text } });

const list = (rule: ListRule): Typed => ({ kind: 'list', rule });
const num = (rule: ValueRule<number>): Typed => ({ kind: 'number', rule });
const str = (rule: ValueRule<string>): Typed => ({ kind: 'string', rule });
const allowances: Typed = { kind: 'allowances' };

/** Every setting: its type and rule, environment variable, place in the file (and the config), and flag. */
const SETTINGS: { readonly [K in ExporterSettingKey]-?: Setting } = {
  kafkaBrokers: { ...list(LIST_RULES.brokers), env: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], flag: 'kafka-brokers', ...help('Targets', '<list>', 'Kafka bootstrap brokers, host:port,…') },
  amqpUrl: { ...str(RULES.amqpUrl), env: 'AMQP_URL', path: ['rabbitmq', 'amqpUrl'], flag: 'amqp-url', ...help('Targets', '<url>', 'amqp://… used when the management API is unavailable') },
  managementUrl: { ...str(RULES.managementUrl), env: 'RABBITMQ_MANAGEMENT_URL', path: ['rabbitmq', 'managementUrl'], flag: 'rabbitmq-management-url', ...help('Targets', '<url>', 'http(s)://user:pass@host:15672') },
  managementUser: { ...str(RULES.nonEmpty), env: 'RABBITMQ_MANAGEMENT_USER', path: ['rabbitmq', 'managementUser'], ...help('Targets', '<user>', 'management API user (default: from the URL, else guest)') },
  managementPassword: { ...str(RULES.anyText), env: 'RABBITMQ_MANAGEMENT_PASSWORD', path: ['rabbitmq', 'managementPassword'], ...help('Targets', '<password>', 'management API password (default: from the URL, else guest)') },
  managementPasswordFile: {
    ...str(RULES.file),
    env: 'RABBITMQ_MANAGEMENT_PASSWORD_FILE',
    path: ['rabbitmq', 'managementPasswordFile'],
    flag: 'rabbitmq-management-password-file',
    ...help('Targets', '<file>', 'file holding only the management password'),
  },
  vhost: { ...str(RULES.nonEmpty), env: 'EDA_EXPORTER_VHOST', path: ['rabbitmq', 'vhost'], flag: 'vhost', ...help('RabbitMQ', '<name>', 'only this RabbitMQ vhost') },
  port: { ...num(RULES.port), env: 'EDA_EXPORTER_PORT', path: ['port'], flag: 'port', ...help('Options', '<n>', 'HTTP port (default 9464)') },
  host: { ...str(RULES.host), env: 'EDA_EXPORTER_HOST', path: ['host'], flag: 'host', ...help('Options', '<addr>', 'listen address (default 0.0.0.0)') },
  intervalSeconds: { ...num(RULES.intervalSeconds), env: 'EDA_EXPORTER_INTERVAL_SECONDS', path: ['intervalSeconds'], flag: 'interval', ...help('Options', '<s>', 'seconds between collections (default 15)') },
  granularity: { ...str(RULES.granularity), env: 'EDA_EXPORTER_GRANULARITY', path: ['granularity'], flag: 'granularity', ...help('Options', '<partition|topic>', 'series per partition (default) or per topic') },
  statusWindowSeconds: { ...num(RULES.statusWindowSeconds), env: 'EDA_EXPORTER_STATUS_WINDOW_SECONDS', path: ['kafka', 'statusWindowSeconds'], flag: 'status-window', ...help('Kafka', '<s>', `consumer status window in seconds (default ${DEFAULT_STATUS_WINDOW_SECONDS})`) },
  groupAllow: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_GROUP_ALLOW', path: ['kafka', 'groups', 'allow'], flag: 'group-allow', ...help('Kafka', '<glob>', 'consumer groups to include (repeatable, * wildcard)') },
  groupDeny: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_GROUP_DENY', path: ['kafka', 'groups', 'deny'], flag: 'group-deny', ...help('Kafka', '<glob>', 'consumer groups to exclude (repeatable)') },
  topicAllow: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_TOPIC_ALLOW', path: ['kafka', 'topics', 'allow'], flag: 'topic-allow', ...help('Kafka', '<glob>', 'topics to include (repeatable)') },
  topicDeny: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_TOPIC_DENY', path: ['kafka', 'topics', 'deny'], flag: 'topic-deny', ...help('Kafka', '<glob>', 'topics to exclude (repeatable)') },
  queueAllow: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_QUEUE_ALLOW', path: ['rabbitmq', 'queues', 'allow'], flag: 'queue-allow', ...help('RabbitMQ', '<glob>', 'queues to include (literal names are also what AMQP checks)') },
  queueDeny: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_QUEUE_DENY', path: ['rabbitmq', 'queues', 'deny'], flag: 'queue-deny', ...help('RabbitMQ', '<glob>', 'queues to exclude (repeatable)') },
  kafkaDlqPatterns: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_KAFKA_DLQ_PATTERNS', path: ['kafka', 'dlqPatterns'], flag: 'kafka-dlq-pattern', ...help('Kafka', '<glob>', 'dead-letter topic pattern (repeatable; default *.dlq *-dlq dlq.* *.DLT)') },
  rabbitmqDlqPatterns: { ...list(LIST_RULES.globs), env: 'EDA_EXPORTER_RABBITMQ_DLQ_PATTERNS', path: ['rabbitmq', 'dlqPatterns'], flag: 'rabbitmq-dlq-pattern', ...help('RabbitMQ', '<glob>', 'dead-letter queue name pattern (besides x-dead-letter-exchange topology)') },
  clusterLabel: { ...str(RULES.labelName), env: 'EDA_EXPORTER_CLUSTER_LABEL', path: ['clusterLabel'], flag: 'cluster-label', ...help('Several clusters', '<label>', 'name of the label carrying the names (default "cluster")') },
  kafkaClusterName: { ...str(RULES.nonEmpty), env: 'KAFKA_CLUSTER_NAME', path: ['kafka', 'name'], flag: 'kafka-cluster-name', ...help('Several clusters', '<name>', 'value of the cluster label on this cluster\'s series (default "default")') },
  rabbitmqServerName: { ...str(RULES.nonEmpty), env: 'RABBITMQ_SERVER_NAME', path: ['rabbitmq', 'name'], flag: 'rabbitmq-server-name', ...help('Several clusters', '<name>', 'the same for the RabbitMQ server (default "default")') },
  kafkaSecurityProtocol: { ...str(RULES.securityProtocol), env: 'KAFKA_SECURITY_PROTOCOL', path: ['kafka', 'securityProtocol'], flag: 'kafka-security-protocol', ...help('Kafka security', '<p>', 'plaintext, ssl, sasl_plaintext or sasl_ssl (default: from the settings below)') },
  kafkaTlsCaFile: { ...str(RULES.file), env: 'KAFKA_TLS_CA_FILE', path: ['kafka', 'tls', 'caFile'], flag: 'kafka-tls-ca-file', ...help('Kafka security', '<file>', 'PEM CA of the broker certificates') },
  kafkaTlsCertFile: { ...str(RULES.file), env: 'KAFKA_TLS_CERT_FILE', path: ['kafka', 'tls', 'certFile'], flag: 'kafka-tls-cert-file', ...help('Kafka security', '<file>', 'PEM client certificate, for mTLS') },
  kafkaTlsKeyFile: { ...str(RULES.file), env: 'KAFKA_TLS_KEY_FILE', path: ['kafka', 'tls', 'keyFile'], flag: 'kafka-tls-key-file', ...help('Kafka security', '<file>', 'its PEM private key') },
  kafkaTlsServername: { ...str(RULES.host), env: 'KAFKA_TLS_SERVERNAME', path: ['kafka', 'tls', 'servername'], flag: 'kafka-tls-servername', ...help('Kafka security', '<host>', 'name the broker certificates are checked against') },
  kafkaSaslMechanism: { ...str(RULES.saslMechanism), env: 'KAFKA_SASL_MECHANISM', path: ['kafka', 'sasl', 'mechanism'], flag: 'kafka-sasl-mechanism', ...help('Kafka security', '<m>', 'plain, scram-sha-256, scram-sha-512 or oauthbearer') },
  kafkaSaslUsername: { ...str(RULES.nonEmpty), env: 'KAFKA_SASL_USERNAME', path: ['kafka', 'sasl', 'username'], flag: 'kafka-sasl-username', ...help('Kafka security', '<user>', 'PLAIN / SCRAM user') },
  // No flag: a password on the command line is readable by every user of the machine (ps).
  kafkaSaslPassword: { ...str(RULES.nonEmpty), env: 'KAFKA_SASL_PASSWORD', path: ['kafka', 'sasl', 'password'], ...help('Kafka security', '<password>', 'PLAIN / SCRAM password (never a flag: ps shows flags)') },
  kafkaSaslPasswordFile: { ...str(RULES.file), env: 'KAFKA_SASL_PASSWORD_FILE', path: ['kafka', 'sasl', 'passwordFile'], flag: 'kafka-sasl-password-file', ...help('Kafka security', '<file>', 'file holding only the password') },
  kafkaSaslTokenCommand: { ...str(RULES.nonEmpty), env: 'KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND', path: ['kafka', 'sasl', 'tokenCommand'], flag: 'kafka-sasl-token-command', ...help('Kafka security', '<cmd>', 'OAUTHBEARER: shell command printing a token (or JSON with access_token)') },
  kafkaSaslTokenFile: { ...str(RULES.file), env: 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', path: ['kafka', 'sasl', 'tokenFile'], flag: 'kafka-sasl-token-file', ...help('Kafka security', '<file>', 'OAUTHBEARER token, re-read at each authentication') },
  collectTimeoutSeconds: { ...num(RULES.collectTimeoutSeconds), env: 'EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS', path: ['collectTimeoutSeconds'], flag: 'collect-timeout', ...help('Options', '<s>', 'a longer collection is abandoned and failed (default: the interval, at least 5)') },
  kafkaClientId: { ...str(RULES.nonEmpty), env: 'KAFKA_CLIENT_ID', path: ['kafka', 'clientId'], flag: 'kafka-client-id', ...help('Kafka', '<id>', 'client id the brokers see (default eda-harness-exporter)') },
  kafkaConcurrency: { ...num(RULES.kafkaConcurrency), env: 'KAFKA_CONCURRENCY', path: ['kafka', 'concurrency'], flag: 'kafka-concurrency', ...help('Kafka', '<n>', 'groups whose offsets are read at once (default 16)') },
  kafkaRequestTimeoutMs: { ...num(RULES.requestTimeoutMs), env: 'KAFKA_REQUEST_TIMEOUT_MS', path: ['kafka', 'requestTimeoutMs'], flag: 'kafka-request-timeout-ms', ...help('Kafka', '<ms>', 'per-request timeout (default 10000)') },
  kafkaAllowedLag: { ...allowances, env: 'KAFKA_ALLOWED_LAG', path: ['kafka', 'allowedLag'], flag: 'kafka-allowed-lag', ...help('Kafka', '<glob=n>', 'lag in messages a group may carry and be OK, e.g. \'etl-*=100000\' (repeatable)') },
  rabbitmqRequestTimeoutMs: { ...num(RULES.requestTimeoutMs), env: 'RABBITMQ_REQUEST_TIMEOUT_MS', path: ['rabbitmq', 'requestTimeoutMs'], flag: 'rabbitmq-request-timeout-ms', ...help('RabbitMQ', '<ms>', 'per HTTP or AMQP request (default 5000)') },
  rabbitmqDlqDeny: { ...list(LIST_RULES.globs), env: 'RABBITMQ_DLQ_DENY', path: ['rabbitmq', 'dlqDeny'], flag: 'rabbitmq-dlq-deny', ...help('RabbitMQ', '<glob>', 'queues never reported as dead-letter queues (repeatable)') },
  rabbitmqRetryQueuePatterns: { ...list(LIST_RULES.globs), env: 'RABBITMQ_RETRY_QUEUE_PATTERNS', path: ['rabbitmq', 'retryQueuePatterns'], flag: 'rabbitmq-retry-queue-pattern', ...help('RabbitMQ', '<glob>', 'retry queues, never DLQs (repeatable; default *.retry *-retry retry.* *.retry.*)') },
  managementPageSize: { ...num(RULES.managementPageSize), env: 'RABBITMQ_MANAGEMENT_PAGE_SIZE', path: ['rabbitmq', 'managementPageSize'], flag: 'rabbitmq-management-page-size', ...help('RabbitMQ', '<n>', 'queues per management API page (default 500, the most)') },
  managementCaFile: { ...str(RULES.file), env: 'RABBITMQ_MANAGEMENT_CA_FILE', path: ['rabbitmq', 'managementCaFile'], flag: 'rabbitmq-management-ca-file', ...help('RabbitMQ', '<file>', 'PEM CA of an https management API') },
  prometheusUrl: { ...str(RULES.prometheusUrl), env: 'RABBITMQ_PROMETHEUS_URL', path: ['rabbitmq', 'prometheusUrl'], flag: 'rabbitmq-prometheus-url', ...help('RabbitMQ', '<url>', 'rabbitmq_prometheus endpoint (http://host:15692), read when statistics are off') },
};

/** The file's lists of targets, each item shaped like the `kafka` / `rabbitmq` object. */
const TARGET_LISTS = { kafkaClusters: 'kafka', rabbitmqServers: 'rabbitmq' } as const;
type TargetListKey = keyof typeof TARGET_LISTS;

/** The label carrying each target's name, unless `clusterLabel` renames it. */
export const DEFAULT_CLUSTER_LABEL = RESOURCE_LABEL.CLUSTER;
/** A target's name when it is the only one of its kind and none is given. */
export const DEFAULT_CLUSTER_NAME = 'default';

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
  SETTING_ENTRIES.filter(([, s]) => s.flag !== undefined).map(([key, s]) => {
    // Allowances are comma-separated `glob=messages` items: a list, as far as the command line goes.
    const kind = s.kind === 'allowances' ? 'list' : s.kind;
    return [s.flag!, { setting: key, kind, repeatable: kind === 'list' && key !== 'kafkaBrokers' }];
  }),
);

/** Placeholder and text lines are aligned at this column, as far as the flag leaves room. */
const HELP_COLUMN = 36;
/** Wider lines put the variable on a line of its own. */
const HELP_WIDTH = 110;

/**
 * The settings part of `eda-harness exporter --help`, generated from the table: one line per flag
 * in its section with what it does and its variable, then the settings only a variable sets (never
 * a flag: a secret on a command line is visible to every user of the machine). `extra` adds lines
 * the command owns (`--config`, `--once`) at the top of a section.
 */
export function exporterOptionsHelp(extra: Partial<Record<HelpSection, readonly string[]>> = {}): string {
  const line = (left: string, text: string): string => `  ${left.padEnd(HELP_COLUMN - 2)}${left.length >= HELP_COLUMN - 2 ? '  ' : ''}${text}`;
  const sections = HELP_SECTIONS.map((section) => {
    const flagged = SETTING_ENTRIES.filter(([, s]) => s.help.section === section && s.flag !== undefined);
    const flagLine = (s: Setting): string => {
      const one = line(`--${s.flag} ${s.help.arg}`, `${s.help.text} (env ${s.env})`);
      // Too wide for a terminal: the variable goes under the text.
      return one.length <= HELP_WIDTH ? one : `${line(`--${s.flag} ${s.help.arg}`, s.help.text)}\n${line('', `(env ${s.env})`)}`;
    };
    const lines = [...(extra[section] ?? []), ...flagged.map(([, s]) => flagLine(s))];
    const heading = section === 'Targets' ? 'Targets (at least one)' : section === 'Several clusters' ? 'Several clusters (the config file lists more in kafkaClusters / rabbitmqServers)' : section;
    return lines.length === 0 ? '' : `${heading}:\n${lines.join('\n')}`;
  });
  const envOnly = SETTING_ENTRIES.filter(([, s]) => s.flag === undefined).map(([, s]) => line(s.env, s.help.text));
  return [...sections.filter((t) => t !== ''), `Environment variables only:\n${envOnly.join('\n')}`].join('\n\n');
}

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
  if (setting.kind === 'allowances') return checkAllowances(value, name);
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
    if (setting.kind === 'allowances') out[key] = (typeof raw === 'string' ? [raw] : raw).flatMap((r) => parseAllowances(r, name));
    else if (setting.kind === 'list') out[key] = (typeof raw === 'string' ? [raw] : raw).flatMap((r) => parseList(setting.rule, r, name));
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
  keys.get('')!.push(...Object.keys(TARGET_LISTS));
  return keys;
})();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Unknown keys anywhere in the file, as dotted paths: a misspelt filter must not widen what is
 * exported. Items of `kafkaClusters` / `rabbitmqServers` have the keys of `kafka` / `rabbitmq`.
 */
function checkKnownKeys(json: Record<string, unknown>, origin: string): void {
  const unknown: { path: string; parent: string }[] = [];
  const visit = (node: Record<string, unknown>, parent: string, shownParent: string): void => {
    const known = FILE_KEYS.get(parent) ?? [];
    for (const [k, v] of Object.entries(node)) {
      const path = parent === '' ? k : `${parent}.${k}`;
      const shownPath = shownParent === '' ? k : `${shownParent}.${k}`;
      if (!known.includes(k)) unknown.push({ path: shownPath, parent });
      else if (FILE_KEYS.has(path) && isObject(v)) visit(v, path, shownPath);
      else if (parent === '' && k in TARGET_LISTS && Array.isArray(v)) {
        v.forEach((item, i) => isObject(item) && visit(item, TARGET_LISTS[k as TargetListKey], `${k}[${i}]`));
      }
    }
  };
  visit(json, '', '');
  if (unknown.length === 0) return;
  const parents = [...new Set(unknown.map((u) => u.parent))];
  throw new ConfigError(`${origin}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => u.path).join(', ')}`, {
    hint: parents.map((p) => `${p === '' ? 'Known top-level keys' : `Known keys of ${p}`}: ${FILE_KEYS.get(p)!.join(', ')}`).join('. '),
  });
}

function typeName(kind: Setting['kind']): string {
  if (kind === 'allowances') return 'a list of { "groups": glob, "messages": count }';
  return kind === 'list' ? 'a list of strings' : kind === 'number' ? 'a number' : 'a string';
}

function hasKind(kind: Setting['kind'], value: unknown): boolean {
  // Allowances are checked item by item (checkAllowances), with a message naming the item.
  if (kind === 'allowances') return true;
  if (kind === 'list') return Array.isArray(value) && value.every((v) => typeof v === 'string');
  return typeof value === kind;
}

/**
 * Reads the settings out of an object shaped like the file (or like {@link ExporterConfig}), each
 * value type-checked and checked against its rule, named by its dotted path. `root` reads an item
 * of a target list: the settings under `root.kind` (`kafka`) are looked up in the item itself and
 * named `root.shown` (`kafkaClusters[1]`) instead.
 */
function settingsFromTree(
  json: Record<string, unknown>,
  origin: string,
  keys: readonly ExporterSettingKey[],
  root?: { readonly kind: string; readonly shown: string },
): FlatSettings {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const setting = SETTINGS[key];
    if (root && setting.path[0] !== root.kind) continue;
    const path = root ? setting.path.slice(1) : setting.path;
    const shownPath = (upTo: number): string => [...(root ? [root.shown] : []), ...path.slice(0, upTo)].join('.');
    let node: Record<string, unknown> = json;
    for (const [i, name] of path.slice(0, -1).entries()) {
      const value = node[name];
      if (value === undefined) {
        node = {};
        break;
      }
      if (!isObject(value)) throw new ConfigError(`${origin}: ${shownPath(i + 1)} must be an object (got ${shown(value)})`);
      node = value;
    }
    const value = node[path[path.length - 1]!];
    if (value === undefined) continue;
    const name = `${origin}: ${shownPath(path.length)}`;
    if (!hasKind(setting.kind, value)) throw new ConfigError(`${name} must be ${typeName(setting.kind)} (got ${shown(value)})`);
    out[key] = checkTyped(setting, value, name);
  }
  return out as FlatSettings;
}

/** Puts each setting where the file has it (all but port and host); settings of an absent target are dropped. */
function placeSettings(s: FlatSettings, config: Record<string, unknown>): void {
  for (const [key, { path }] of SETTING_ENTRIES) {
    const value = s[key];
    if (value === undefined || key === 'port' || key === 'host') continue;
    let node: Record<string, unknown> | undefined = config;
    for (const name of path.slice(0, -1)) {
      // The tls and sasl objects exist only when one of their settings is given.
      if (node !== undefined && node[name] === undefined && node !== config) node[name] = {};
      node = node?.[name] as Record<string, unknown> | undefined;
    }
    // Undefined: the setting of a target that is not configured (filters without brokers).
    if (node) node[path[path.length - 1]!] = value;
  }
}

/** The items of `kafkaClusters` or `rabbitmqServers`, each read like the `kafka` / `rabbitmq` object. */
function targetsFromTree(json: Record<string, unknown>, origin: string, list: TargetListKey): unknown[] | undefined {
  const items = json[list];
  if (items === undefined) return undefined;
  if (!Array.isArray(items) || items.length === 0) throw new ConfigError(`${origin}: ${list} must be a non-empty list of objects (got ${shown(items)})`);
  const kind = TARGET_LISTS[list];
  return items.map((item, i) => {
    const itemName = `${list}[${i}]`;
    if (!isObject(item)) throw new ConfigError(`${origin}: ${itemName} must be an object (got ${shown(item)})`);
    const settings = settingsFromTree(item, origin, SETTING_ENTRIES.map(([key]) => key), { kind, shown: itemName });
    const config: Record<string, unknown> = kind === 'kafka' ? { kafka: { groups: {}, topics: {} } } : { rabbitmq: { queues: {} } };
    placeSettings(settings, config);
    return config[kind];
  });
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
  const kafkaClusters = targetsFromTree(json, origin, 'kafkaClusters') as KafkaTargetConfig[] | undefined;
  const rabbitmqServers = targetsFromTree(json, origin, 'rabbitmqServers') as RabbitMqTargetConfig[] | undefined;
  return {
    ...settingsFromTree(json, origin, SETTING_ENTRIES.map(([key]) => key)),
    ...(kafkaClusters ? { kafkaClusters } : {}),
    ...(rabbitmqServers ? { rabbitmqServers } : {}),
  };
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
 * Settings that only make sense together (a SASL mechanism and its user, a certificate and its
 * key) are checked here too, and the secret files are read once so a missing one stops the start.
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
  if (!hasKafka && !hasRabbit && s.kafkaClusters === undefined && s.rabbitmqServers === undefined) {
    throw new ConfigError('nothing to export: no Kafka brokers and no RabbitMQ URL', {
      hint:
        'Pass --kafka-brokers and/or --rabbitmq-management-url / --amqp-url (or KAFKA_BROKERS, RABBITMQ_MANAGEMENT_URL, AMQP_URL; ' +
        'kafka.brokers, rabbitmq.managementUrl, rabbitmq.amqpUrl, kafkaClusters, rabbitmqServers in the config file).',
    });
  }
  // Each setting goes where the file has it (but port and host); a target's filters are always set.
  const config: Record<string, unknown> = {
    ...(hasKafka ? { kafka: { groups: {}, topics: {} } } : {}),
    ...(hasRabbit ? { rabbitmq: { queues: {} } } : {}),
    ...(s.kafkaClusters ? { kafkaClusters: s.kafkaClusters } : {}),
    ...(s.rabbitmqServers ? { rabbitmqServers: s.rabbitmqServers } : {}),
  };
  placeSettings(s, config);
  const resolved = config as ExporterConfig;
  checkTargets(resolved, (target, field) => {
    if (target.list === undefined) {
      const key = SETTING_ENTRIES.find(([, { path }]) => path.join('.') === `${target.kind}.${field}`)?.[0];
      return key === undefined ? `${target.kind}.${field}` : settingDescription(key);
    }
    return `${target.list}[${target.index}].${field}`;
  });
  return { config: resolved, port: s.port ?? DEFAULT_PORT, host: s.host ?? DEFAULT_HOST };
}

/**
 * Checks an embedded configuration ({@link createExporter}): the settings the file also has, by
 * their dotted paths. Keys the file does not have (fallbackQueues, …) are the embedding program's
 * business and not checked.
 */
export function checkExporterConfig(config: ExporterConfig, origin = 'exporter config'): void {
  const tree: unknown = config;
  if (!isObject(tree)) throw new ConfigError(`${origin} must be an object (got ${shown(tree)})`);
  settingsFromTree(tree, origin, SETTING_ENTRIES.map(([key]) => key).filter((k) => k !== 'port' && k !== 'host'));
  for (const list of Object.keys(TARGET_LISTS) as TargetListKey[]) {
    const items = tree[list];
    if (items === undefined) continue;
    if (!Array.isArray(items)) throw new ConfigError(`${origin}: ${list} must be a list (got ${shown(items)})`);
    items.forEach((item, i) => {
      if (!isObject(item)) throw new ConfigError(`${origin}: ${list}[${i}] must be an object (got ${shown(item)})`);
      settingsFromTree(item, origin, SETTING_ENTRIES.map(([key]) => key), { kind: TARGET_LISTS[list], shown: `${list}[${i}]` });
    });
  }
  checkTargets(config, (target, field) => `${origin}: ${target.list === undefined ? target.kind : `${target.list}[${target.index}]`}.${field}`);
}

// ---------------------------------------------------------------------------------------------
// Targets: names and the Kafka security settings, checked across settings
// ---------------------------------------------------------------------------------------------

/** Where a target sits: the single `kafka` / `rabbitmq` object, or an item of a target list. */
interface TargetPlace {
  readonly kind: 'kafka' | 'rabbitmq';
  readonly list?: TargetListKey;
  readonly index?: number;
}
/** How a field of a target (`sasl.username`) is named to the user. */
type FieldNamer = (target: TargetPlace, field: string) => string;

/** A RabbitMQ server's settings with the management password read from its file, if one is named. */
export function withManagementPassword(config: RabbitMqTargetConfig): RabbitMqTargetConfig {
  const { managementPasswordFile, ...rest } = config;
  if (managementPasswordFile === undefined) return config;
  return { ...rest, managementPassword: readSecretFile(managementPasswordFile, 'the RabbitMQ management password file') };
}

/** One configured target with its name as exported. */
export interface NamedTarget<C> {
  readonly name: string;
  readonly config: C;
}

/**
 * Every Kafka cluster and RabbitMQ server of a configuration, named: the single `kafka` /
 * `rabbitmq` object first (named `default` unless it has a name), then the lists.
 */
export function configuredTargets(config: ExporterConfig): { kafka: NamedTarget<KafkaTargetConfig>[]; rabbitmq: NamedTarget<RabbitMqTargetConfig>[] } {
  const named = <C extends { readonly name?: string }>(single: C | undefined, list: readonly C[] | undefined): NamedTarget<C>[] => [
    ...(single ? [{ name: single.name ?? DEFAULT_CLUSTER_NAME, config: single }] : []),
    ...(list ?? []).map((c) => ({ name: c.name ?? DEFAULT_CLUSTER_NAME, config: c })),
  ];
  return { kafka: named(config.kafka, config.kafkaClusters), rabbitmq: named(config.rabbitmq, config.rabbitmqServers) };
}

/** The exporter's own label names: a cluster label spelt like one of them would overwrite it. */
const RESERVED_LABELS: ReadonlySet<string> = new Set(Object.values(LABEL));

function checkTargets(config: ExporterConfig, field: FieldNamer): void {
  const label = config.clusterLabel;
  if (label !== undefined && RESERVED_LABELS.has(label)) {
    throw new ConfigError(`clusterLabel (--cluster-label, EDA_EXPORTER_CLUSTER_LABEL) must not be a label the exporter already uses (got ${shown(label)})`, {
      hint: `Taken: ${[...RESERVED_LABELS].sort().join(', ')}. The default is ${DEFAULT_CLUSTER_LABEL}.`,
    });
  }
  for (const [list, kind] of Object.entries(TARGET_LISTS) as [TargetListKey, 'kafka' | 'rabbitmq'][]) {
    const items = (config[list] ?? []) as readonly { readonly name?: string; readonly brokers?: readonly string[]; readonly amqpUrl?: string; readonly managementUrl?: string }[];
    items.forEach((item, index) => {
      const place = { kind, list, index };
      if (item.name === undefined) throw new ConfigError(`${field(place, 'name')} is missing: every item of ${list} needs a name (the value of its cluster label)`);
      if (kind === 'kafka' && (item.brokers?.length ?? 0) === 0) throw new ConfigError(`${field(place, 'brokers')} is missing: give the cluster's bootstrap brokers`);
      if (kind === 'rabbitmq' && item.amqpUrl === undefined && item.managementUrl === undefined) {
        throw new ConfigError(`${field(place, 'managementUrl')} is missing: give the server's managementUrl and/or amqpUrl`);
      }
    });
  }
  const targets = configuredTargets(config);
  for (const [kind, list] of [['Kafka cluster', targets.kafka], ['RabbitMQ server', targets.rabbitmq]] as const) {
    const seen = new Set<string>();
    for (const t of list) {
      if (seen.has(t.name)) {
        throw new ConfigError(`two ${kind}s are named ${shown(t.name)}: their series would collide`, {
          hint: `Give each one its own name (kafka.name / --kafka-cluster-name, rabbitmq.name / --rabbitmq-server-name, or name in each item of the lists); the unnamed one is called ${DEFAULT_CLUSTER_NAME}.`,
        });
      }
      seen.add(t.name);
    }
  }
  for (const [place, server] of [
    [{ kind: 'rabbitmq' as const }, config.rabbitmq] as const,
    ...(config.rabbitmqServers ?? []).map((c, index) => [{ kind: 'rabbitmq' as const, list: 'rabbitmqServers' as const, index }, c] as const),
  ]) {
    if (server === undefined) continue;
    checkManagementTls(server, (f) => field(place, f));
    if (server.managementPasswordFile === undefined) continue;
    if (server.managementPassword !== undefined) {
      throw new ConfigError(`${field(place, 'managementPassword')} and ${field(place, 'managementPasswordFile')} are both set: give only one`);
    }
    readSecretFile(server.managementPasswordFile, field(place, 'managementPasswordFile'));
  }
  if (config.kafka) checkKafkaSecurity(config.kafka, (f) => field({ kind: 'kafka' }, f));
  config.kafkaClusters?.forEach((c, index) => checkKafkaSecurity(c, (f) => field({ kind: 'kafka', list: 'kafkaClusters', index }, f)));
}

/**
 * A CA file for the management API goes with an https management URL, and holds a PEM certificate
 * (read now, so a missing or wrong file stops the start instead of failing every collection).
 */
export function checkManagementTls(server: RabbitMqTargetConfig, field: (f: string) => string): void {
  const caFile = server.managementCaFile;
  if (caFile === undefined) return;
  const url = server.managementUrl;
  if (url === undefined) throw new ConfigError(`${field('managementCaFile')} is set but ${field('managementUrl')} is not: the CA file is for an https management URL`);
  if (new URL(url).protocol !== 'https:') {
    throw new ConfigError(`${field('managementCaFile')} is set but ${field('managementUrl')} ${shown(url)} is not https: the CA is only used over TLS`, {
      hint: 'Use the https:// management URL (RabbitMQ listens for it on management.ssl.port, often 15671), or drop the CA file.',
    });
  }
  if (!readSecretFile(caFile, field('managementCaFile')).includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${field('managementCaFile')} ${caFile} holds no PEM certificate`, {
      hint: 'Give the CA certificate that signed the management certificate, in PEM form (the file RabbitMQ has as management.ssl.cacertfile).',
    });
  }
}

/** The TLS and SASL settings of one cluster fit together, and every file they name can be read. */
export function checkKafkaSecurity(kafka: KafkaTargetConfig, field: (f: string) => string): void {
  // The same rules and file reads as every other Kafka client eda-harness builds (core).
  checkKafkaSecuritySettings(kafka, field);
  kafkaClientSecurity(kafka, { field });
  // The token file is read at each authentication; a missing one is a start-up error all the same.
  if (kafka.sasl?.tokenFile !== undefined) readSecretFile(kafka.sasl.tokenFile, field('sasl.tokenFile'));
}

/**
 * A secret or certificate file's text. Called at startup (so a missing file stops the exporter
 * with one line) and again at each connection (so a rotated secret is picked up). A trailing
 * newline, which editors and `echo` add, is not part of a password or token.
 */
export function readSecretFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : typeof code === 'string' ? code : errorMessage(err);
    throw new ConfigError(`cannot read ${name} ${path}: ${why}`, { hint: 'The file must exist and be readable by the user the exporter runs as.' });
  }
  const trimmed = text.replace(/\r?\n$/, '');
  if (trimmed.trim() === '') throw new ConfigError(`${name} ${path} is empty`);
  return trimmed;
}
