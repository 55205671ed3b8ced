import { ROOT_CONTEXT, propagation } from '@opentelemetry/api';
import type { Context, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { HEADER, MAX_HEADER_KEYS_SCANNED, MAX_HEADER_VALUE_BYTES } from '@eda-harness/semconv';

/**
 * Message headers <-> trace context, for Kafka and AMQP alike.
 *
 * Headers come from the network and from other people's clients, so every read assumes garbage:
 * kafkajs gives strings, Buffers and arrays (repeated keys); amqplib gives strings, numbers,
 * Buffers (AMQP byte arrays, which W3C propagators ignore unless decoded) and nested tables. A
 * header object may even be a Proxy whose getters throw. Nothing here throws, and nothing here
 * writes to an object it was given: injection always returns a fresh copy.
 */

/** Largest number of repeated values considered for one key. */
const MAX_REPEATED_VALUES = 16;

type Carrier = Record<string, unknown>;

function isObjectCarrier(value: unknown): value is Carrier {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** One header value as text, or undefined when it has no safe text form. */
function decodeScalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_HEADER_VALUE_BYTES ? value : undefined;
  if (value instanceof Uint8Array) {
    if (value.byteLength > MAX_HEADER_VALUE_BYTES) return undefined;
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

/** A header value as the propagation API wants it: a string, or a list for repeated keys. */
export function decodeHeaderValue(value: unknown): string | string[] | undefined {
  try {
    if (!Array.isArray(value)) return decodeScalar(value);
    const out: string[] = [];
    const n = Math.min(value.length, MAX_REPEATED_VALUES);
    for (let i = 0; i < n; i++) {
      const decoded = decodeScalar(value[i]);
      if (decoded !== undefined) out.push(decoded);
    }
    if (out.length === 0) return undefined;
    return out.length === 1 ? out[0] : out;
  } catch {
    return undefined;
  }
}

function safeKeys(carrier: unknown): string[] {
  if (!isObjectCarrier(carrier)) return [];
  try {
    return Object.keys(carrier);
  } catch {
    return [];
  }
}

function safeGet(carrier: Carrier, key: string): unknown {
  try {
    return Object.prototype.hasOwnProperty.call(carrier, key) ? carrier[key] : undefined;
  } catch {
    return undefined;
  }
}

/** The raw value of `key`, matched exactly first, then case-insensitively (bounded scan). */
function rawHeader(carrier: unknown, key: string): unknown {
  if (!isObjectCarrier(carrier)) return undefined;
  const exact = safeGet(carrier, key);
  if (exact !== undefined) return exact;
  const wanted = key.toLowerCase();
  const keys = safeKeys(carrier);
  const n = Math.min(keys.length, MAX_HEADER_KEYS_SCANNED);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    // Length first: most keys differ in length, and that costs no lower-casing allocation.
    if (k !== undefined && k.length === key.length && k !== key && k.toLowerCase() === wanted) return safeGet(carrier, k);
  }
  return undefined;
}

/** Reads Kafka and AMQP header objects for any TextMapPropagator. Never throws. */
const headerGetter: TextMapGetter<unknown> = {
  keys: (carrier) => safeKeys(carrier).slice(0, MAX_HEADER_KEYS_SCANNED),
  get: (carrier, key) => decodeHeaderValue(rawHeader(carrier, key)),
};

const stringSetter: TextMapSetter<Carrier> = {
  set: (carrier, key, value) => defineHeader(carrier, key, value),
};

/** Own data property even for keys like `__proto__`, so a copy cannot gain a prototype. */
function defineHeader(carrier: Carrier, key: string, value: unknown): void {
  Object.defineProperty(carrier, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The decoded value of one header, first one when repeated. */
export function readHeader(headers: unknown, key: string): string | undefined {
  const v = decodeHeaderValue(rawHeader(headers, key));
  return Array.isArray(v) ? v[0] : v;
}

/** The producer's context from message headers; `base` (default ROOT) when absent or malformed. */
export function extractContext(headers: unknown, base: Context = ROOT_CONTEXT): Context {
  if (!isObjectCarrier(headers)) return base;
  try {
    return propagation.extract(base, headers, headerGetter);
  } catch {
    return base;
  }
}

/** The produced-at header in epoch milliseconds, or undefined when absent or not a sane number. */
export function readProducedAt(headers: unknown): number | undefined {
  const text = readHeader(headers, HEADER.PRODUCED_AT);
  if (text === undefined || text.length > 20) return undefined;
  const ms = Number(text.trim());
  // Before 2001 or not an integer: somebody else's header, not ours.
  return Number.isSafeInteger(ms) && ms > 978_307_200_000 ? ms : undefined;
}

/**
 * The header names injection writes (the propagator's fields and produced-at), lower-cased.
 * Producers compute it once per send call and pass it to {@link injectHeaders} for every message.
 */
export function injectedFields(): ReadonlySet<string> {
  const fields = new Set<string>([HEADER.PRODUCED_AT]);
  try {
    for (const f of propagation.fields()) fields.add(f.toLowerCase());
  } catch {
    /* a broken propagator: carry on without replacing */
  }
  return fields;
}

/**
 * A copy of `headers` with the trace context of `ctx` and the produced-at timestamp added.
 * Returns `headers` itself, untouched, when it is neither absent nor an object (the client will
 * reject or encode it as it always did; the instrumentation must not change that). Existing
 * headers that the propagator is about to set, in any letter case, are replaced in the copy.
 */
export function injectHeaders(headers: unknown, ctx: Context, producedAtMs: number, fields: ReadonlySet<string> = injectedFields()): unknown {
  if (headers !== undefined && headers !== null && !isObjectCarrier(headers)) return headers;
  const copy: Carrier = {};
  for (const key of safeKeys(headers)) {
    if (fields.has(key.toLowerCase())) continue;
    defineHeader(copy, key, safeGet(headers as Carrier, key));
  }
  try {
    propagation.inject(ctx, copy, stringSetter);
  } catch {
    /* the message still goes out, only untraced */
  }
  defineHeader(copy, HEADER.PRODUCED_AT, String(Math.trunc(producedAtMs)));
  return copy;
}
