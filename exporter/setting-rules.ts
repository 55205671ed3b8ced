import { isIP } from 'node:net';
import { ConfigError } from '@eda-harness/core';

/**
 * What a valid value of each exporter setting looks like. Every layer (flags, environment, config
 * file, the embedded configuration) checks its values with these rules, naming the setting the way
 * the user wrote it (`--kafka-brokers`, `KAFKA_BROKERS`, `config.json: kafka.brokers`), so a bad
 * value is refused at startup with one clear line instead of failing later inside a client library.
 */
export interface ValueRule<T> {
  /** "an integer from 0 to 65535": completes "<name> must be …". */
  readonly expect: string;
  readonly valid: (value: T) => boolean;
  readonly hint?: string;
}

/** A list setting: each item is checked; an explicitly given empty list is refused. */
export interface ListRule {
  readonly item: ValueRule<string>;
  /** "one or more host:port, comma-separated": what an empty value should have held. */
  readonly expectList: string;
}

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;
export const SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;

/** Node's timers hold at most 2^31-1 ms (24.8 days); a longer delay fires after 1 ms. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
export const INTERVAL_SECONDS = { min: 0.1, max: 86_400 } as const;
export const STATUS_WINDOW_SECONDS = { min: 1, max: 604_800 } as const;
/** Groups whose offsets are fetched at once: beyond a few hundred only the coordinators suffer. */
export const KAFKA_CONCURRENCY = { min: 1, max: 1_000 } as const;
/** A request timeout in milliseconds: at least 100 ms, at most what Node's timers hold. */
export const REQUEST_TIMEOUT_MS = { min: 100, max: MAX_TIMER_SECONDS * 1000 } as const;
/** RabbitMQ serves at most 500 items per management API page. */
export const MANAGEMENT_PAGE_SIZE = { min: 1, max: 500 } as const;

const integer = (range: { readonly min: number; readonly max: number }, unit = ''): ValueRule<number> => ({
  expect: `an integer${unit} from ${range.min} to ${range.max}`,
  valid: (v) => Number.isInteger(v) && v >= range.min && v <= range.max,
});

const seconds = (range: { readonly min: number; readonly max: number }): ValueRule<number> => ({
  expect: `a number of seconds from ${range.min} to ${range.max}`,
  valid: (v) => Number.isFinite(v) && v >= range.min && v <= range.max,
});

/** A host name (letters, digits, `-`, `_`, dot-separated labels) or an IPv4 address. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export const isHostName = (host: string): boolean => HOST_NAME.test(host) || isIP(host) !== 0;

/**
 * host:port as kafkajs reads a bootstrap broker (it splits on ':', so IPv6 literals and a missing
 * port would become port NaN at the first connection).
 */
export function isBroker(value: string): boolean {
  const m = /^([^:]+):(\d{1,5})$/.exec(value);
  if (!m) return false;
  const port = Number(m[2]);
  return (HOST_NAME.test(m[1]!) || isIP(m[1]!) === 4) && port >= 1 && port <= 65535;
}

function urlWithProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

export const RULES = {
  port: { expect: 'an integer from 0 to 65535', valid: (v: number) => Number.isInteger(v) && v >= 0 && v <= 65535, hint: '0 picks a free port; the default is 9464.' },
  intervalSeconds: seconds(INTERVAL_SECONDS),
  statusWindowSeconds: seconds(STATUS_WINDOW_SECONDS),
  collectTimeoutSeconds: {
    expect: `a positive number of seconds up to ${MAX_TIMER_SECONDS}`,
    valid: (v: number) => Number.isFinite(v) && v > 0 && v <= MAX_TIMER_SECONDS,
    hint: 'A collection running longer is abandoned and counted as failed; the default is the interval, at least 5 s.',
  },
  kafkaConcurrency: integer(KAFKA_CONCURRENCY),
  requestTimeoutMs: integer(REQUEST_TIMEOUT_MS, ' number of milliseconds'),
  managementPageSize: { ...integer(MANAGEMENT_PAGE_SIZE), hint: 'RabbitMQ serves at most 500 items per page (the default).' },
  host: { expect: 'a host name or IP address', valid: isHostName, hint: 'For example 0.0.0.0 (every interface, the default), 127.0.0.1 or ::1.' },
  granularity: { expect: '"partition" or "topic"', valid: (v: string) => v === 'partition' || v === 'topic' },
  managementUrl: { expect: 'an http:// or https:// URL', valid: (v: string) => urlWithProtocol(v, ['http:', 'https:']), hint: 'For example http://guest:guest@localhost:15672' },
  prometheusUrl: {
    expect: 'an http:// or https:// URL',
    valid: (v: string) => urlWithProtocol(v, ['http:', 'https:']),
    hint: 'The rabbitmq_prometheus plugin, for example http://localhost:15692',
  },
  amqpUrl: { expect: 'an amqp:// or amqps:// URL', valid: (v: string) => urlWithProtocol(v, ['amqp:', 'amqps:']), hint: 'For example amqp://guest:guest@localhost:5672' },
  nonEmpty: { expect: 'a non-empty string', valid: (v: string) => v !== '' },
  file: { expect: 'a file name', valid: (v: string) => v.trim() !== '' },
  saslMechanism: {
    expect: 'one of plain, scram-sha-256, scram-sha-512, oauthbearer',
    valid: (v: string) => (SASL_MECHANISMS as readonly string[]).includes(v.toLowerCase()),
    hint: 'SCRAM-SHA-512 is what most managed Kafka services (MSK, Confluent Platform, Strimzi) set up for users.',
  },
  securityProtocol: {
    expect: 'one of plaintext, ssl, sasl_plaintext, sasl_ssl',
    valid: (v: string) => (SECURITY_PROTOCOLS as readonly string[]).includes(v.toLowerCase()),
    hint: "Kafka's security.protocol values; left unset it follows from the TLS and SASL settings given.",
  },
  labelName: {
    expect: 'a Prometheus label name (letters, digits and _, not starting with a digit or __)',
    valid: (v: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && !v.startsWith('__'),
  },
  anyText: { expect: 'a string', valid: () => true },
} as const satisfies Record<string, ValueRule<never>>;

export const LIST_RULES = {
  brokers: {
    item: { expect: 'host:port (for example localhost:9092)', valid: isBroker, hint: 'Give each Kafka broker as host:port, comma-separated: localhost:9092,kafka-2:9092' },
    expectList: 'one or more host:port, comma-separated',
  },
  globs: { item: { expect: 'a non-empty glob', valid: (v: string) => v !== '' }, expectList: 'one or more globs (`*` is the wildcard), comma-separated' },
} as const satisfies Record<string, ListRule>;

/** One per-group allowance of lag: groups matching the glob may be this many messages behind. */
export interface LagAllowance {
  readonly groups: string;
  readonly messages: number;
}

export const ALLOWANCE_EXAMPLE = 'etl-*=100000';
const ALLOWANCE_FILE_EXAMPLE = '[{ "groups": "etl-*", "messages": 100000 }]';

/** `glob=messages` (split at the last `=`, so a glob may hold one); undefined when it is not that. */
export function parseAllowance(text: string): LagAllowance | undefined {
  const eq = text.lastIndexOf('=');
  if (eq < 0) return undefined;
  const groups = text.slice(0, eq).trim();
  const count = text.slice(eq + 1).trim();
  if (groups === '' || !/^\d+$/.test(count) || !Number.isSafeInteger(Number(count))) return undefined;
  return { groups, messages: Number(count) };
}

/** Allowances given as text: `glob=messages`, comma-separated, never empty. */
export function parseAllowances(raw: string, name: string): readonly LagAllowance[] {
  const items = splitList(raw);
  if (items.length === 0) throw new ConfigError(`${name} is empty (got ${shown(raw)}): give one or more group-glob=messages, comma-separated (for example ${ALLOWANCE_EXAMPLE})`);
  return items.map((item) => {
    const allowance = parseAllowance(item);
    if (!allowance) {
      throw new ConfigError(`${name}: ${shown(item)} is not group-glob=messages`, {
        hint: `Give each allowance as a group name glob, "=" and a whole number of messages, comma-separated: ${ALLOWANCE_EXAMPLE},reporting=5000`,
      });
    }
    return allowance;
  });
}

/** Allowances given as a value of the file or the embedded config: a list of `{ groups, messages }`. */
export function checkAllowances(value: unknown, name: string): readonly LagAllowance[] {
  const hint = { hint: `In the config file: ${ALLOWANCE_FILE_EXAMPLE}; as a flag or variable: ${ALLOWANCE_EXAMPLE},reporting=5000` };
  if (!Array.isArray(value)) throw new ConfigError(`${name} must be a list of { "groups": glob, "messages": count } (got ${shown(value)})`, hint);
  value.forEach((item: unknown, i) => {
    const at = `${name}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ConfigError(`${at} must be an object { "groups": glob, "messages": count } (got ${shown(item)})`, hint);
    const extra = Object.keys(item).filter((k) => k !== 'groups' && k !== 'messages');
    if (extra.length > 0) throw new ConfigError(`${at}: unknown key${extra.length > 1 ? 's' : ''} ${extra.join(', ')}: an allowance has only groups and messages`, hint);
    const { groups, messages } = item as { groups?: unknown; messages?: unknown };
    if (typeof groups !== 'string' || groups.trim() === '') throw new ConfigError(`${at}.groups must be a non-empty glob (got ${shown(groups)})`, hint);
    if (typeof messages !== 'number' || !Number.isSafeInteger(messages) || messages < 0) {
      throw new ConfigError(`${at}.messages must be a whole number of messages, 0 or more (got ${shown(messages)})`, hint);
    }
  });
  return value as readonly LagAllowance[];
}

/** Splits "a, b,,c" into ["a", "b", "c"]. */
export function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** A value as the user wrote it, for a message: strings quoted, URL passwords masked. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactCredentials(value));
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** `scheme://user:secret@host` → `scheme://user:***@host`, also in text that is not a valid URL. */
export function redactCredentials(text: string): string {
  return text.replace(/(\/\/[^/@\s:]*:)[^/@]*@/g, '$1***@');
}

export function checkValue<T>(rule: ValueRule<T>, value: T, name: string): T {
  if (!rule.valid(value)) throw new ConfigError(`${name} must be ${rule.expect} (got ${shown(value)})`, rule.hint ? { hint: rule.hint } : {});
  return value;
}

export function checkList(rule: ListRule, values: readonly string[], name: string): readonly string[] {
  for (const v of values) {
    if (!rule.item.valid(v)) throw new ConfigError(`${name}: ${shown(v)} is not ${rule.item.expect}`, rule.item.hint ? { hint: rule.item.hint } : {});
  }
  return values;
}

/** A list given on the command line or in a variable: split on commas, each item checked, never empty. */
export function parseList(rule: ListRule, raw: string, name: string): readonly string[] {
  const nonEmpty = splitList(raw);
  if (nonEmpty.length === 0) throw new ConfigError(`${name} is empty (got ${shown(raw)}): give ${rule.expectList}`);
  return checkList(rule, nonEmpty, name);
}

/** A number given as text: decimal digits only (no "", "0x10", "1e3", " "), then the rule. */
export function parseNumber(rule: ValueRule<number>, raw: string, name: string): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) || !rule.valid(value)) throw new ConfigError(`${name} must be ${rule.expect} (got ${shown(raw)})`, rule.hint ? { hint: rule.hint } : {});
  return value;
}
