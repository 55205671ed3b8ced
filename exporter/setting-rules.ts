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
  host: { expect: 'a host name or IP address', valid: isHostName, hint: 'For example 0.0.0.0 (every interface, the default), 127.0.0.1 or ::1.' },
  granularity: { expect: '"partition" or "topic"', valid: (v: string) => v === 'partition' || v === 'topic' },
  managementUrl: { expect: 'an http:// or https:// URL', valid: (v: string) => urlWithProtocol(v, ['http:', 'https:']), hint: 'For example http://guest:guest@localhost:15672' },
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
