import { ROOT_CONTEXT, TraceFlags, createContextKey, createTraceState, isSpanContextValid, propagation, trace } from './otel-api';
import type { Context, SpanContext, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { withSpan } from './span-overlay';
import { HEADER, MAX_HEADER_KEYS_SCANNED, MAX_HEADER_VALUE_BYTES as MAX_VALUE_BYTES } from './vocabulary';

const PRODUCED_AT: string = HEADER.PRODUCED_AT;
/** fastInject's object literal spells the key out: this stops compiling if the header is renamed. */
const PRODUCED_AT_LITERAL: 'eda-produced-at' = HEADER.PRODUCED_AT;
void PRODUCED_AT_LITERAL;
const MAX_HEADER_VALUE_BYTES: number = MAX_VALUE_BYTES;

/**
 * Message headers <-> trace context, for Kafka and AMQP alike.
 *
 * Headers come from the network and from other people's clients, so every read assumes garbage:
 * kafkajs gives strings, Buffers and arrays (repeated keys); amqplib gives strings, numbers,
 * Buffers (AMQP byte arrays, which W3C propagators ignore unless decoded) and nested tables. A
 * header object may even be a (revoked) Proxy whose every operation throws. Nothing here throws,
 * and nothing here writes to an object it was given: injection returns a fresh copy, or the
 * caller's object untouched when it cannot be read. Reads never list the keys of a header object.
 */

/** Largest number of repeated values considered for one key. */
const MAX_REPEATED_VALUES = 16;

type Carrier = Record<string, unknown>;

/** `value` as a header object, or undefined; even `Array.isArray` throws on a revoked Proxy. */
function asCarrier(value: unknown): Carrier | undefined {
  try {
    return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) ? (value as Carrier) : undefined;
  } catch {
    return undefined;
  }
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
  const c = asCarrier(carrier);
  if (!c) return [];
  try {
    return Object.keys(c);
  } catch {
    return [];
  }
}

/** Spellings of well-known names that no rule derives from the lower-case form. */
const CAMEL_CASE: Readonly<Record<string, string>> = { traceparent: 'TraceParent', tracestate: 'TraceState' };
/** Variants are cached for the few names propagators ask for; beyond that they are computed per call. */
const MAX_CACHED_VARIANTS = 64;
const variantCache = new Map<string, readonly string[]>();

/**
 * The other spellings of `key` that are looked up when it is not found exactly: lower case,
 * Capitalised, Title-Case per `-`/`_` segment, UPPER CASE and the camel case of W3C names. A fixed
 * handful of hash lookups, never a listing of the keys: a message can carry 100k headers.
 */
function caseVariants(key: string): readonly string[] {
  const cached = variantCache.get(key);
  if (cached) return cached;
  const lower = key.toLowerCase();
  const candidates = [
    lower,
    lower.charAt(0).toUpperCase() + lower.slice(1),
    lower.replace(/(^|[-_])([a-z])/g, (_m: string, sep: string, c: string) => sep + c.toUpperCase()),
    key.toUpperCase(),
    CAMEL_CASE[lower],
  ];
  const variants: string[] = [];
  for (const c of candidates) if (c !== undefined && c !== key && !variants.includes(c)) variants.push(c);
  if (variantCache.size < MAX_CACHED_VARIANTS) variantCache.set(key, variants);
  return variants;
}

/** The raw value of `key`, matched exactly first, then by its common case variants. */
function rawHeader(carrier: unknown, key: string): unknown {
  const c = asCarrier(carrier);
  if (!c) return undefined;
  try {
    const exact = ownValue(c, key);
    if (exact !== undefined) return exact;
    const variants = caseVariants(key);
    for (let i = 0; i < variants.length; i++) {
      const v = ownValue(c, variants[i] as string);
      if (v !== undefined) return v;
    }
  } catch {
    /* a throwing getter or Proxy trap: no such header */
  }
  return undefined;
}

function ownValue(carrier: Carrier, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(carrier, key) ? carrier[key] : undefined;
}

/** Whether the caller set `key` at all (own key, exact or a common case variant), whatever its value. */
function hasHeader(carrier: Carrier, key: string): boolean {
  return hasSpelling(carrier, key, caseVariants(key));
}

/** {@link hasHeader} with the variants already at hand (the fast paths' fixed names: no cache lookup). */
function hasSpelling(carrier: Carrier, key: string, variants: readonly string[]): boolean {
  const own = Object.prototype.hasOwnProperty;
  if (own.call(carrier, key)) return true;
  for (let i = 0; i < variants.length; i++) if (own.call(carrier, variants[i] as string)) return true;
  return false;
}

/** Reads Kafka and AMQP header objects for any TextMapPropagator. Never throws. */
const headerGetter: TextMapGetter<unknown> = {
  // Only propagators that enumerate (Jaeger's baggage prefix) call this; W3C ones never do.
  keys: (carrier) => safeKeys(carrier).slice(0, MAX_HEADER_KEYS_SCANNED),
  get: (carrier, key) => decodeHeaderValue(rawHeader(carrier, key)),
};

const BAGGAGE = 'baggage';
// The names the fast paths test on every message, with their spellings computed once.
const TRACEPARENT_SPELLINGS = caseVariants('traceparent');
const TRACESTATE_SPELLINGS = caseVariants('tracestate');
const BAGGAGE_SPELLINGS = caseVariants(BAGGAGE);
const PRODUCED_AT_SPELLINGS = caseVariants(PRODUCED_AT);

/**
 * Writes what the propagator injects into the copy. A caller key is only ever replaced by a value
 * written here (its case variants go with it, so the message does not carry two contexts), and the
 * caller's own baggage is never replaced: application baggage is the application's.
 */
const copySetter: TextMapSetter<Carrier> = {
  set: (carrier, key, value) => {
    if ((key === BAGGAGE || key.toLowerCase() === BAGGAGE) && hasHeader(carrier, BAGGAGE)) return;
    deleteVariants(carrier, key);
    // A new traceparent starts a new trace for this message: a tracestate the caller carried
    // belongs to the one it replaces (W3C: discard it). The propagator writes its own next, if any.
    if (key.toLowerCase() === 'traceparent') {
      if (Object.prototype.hasOwnProperty.call(carrier, 'tracestate')) delete carrier['tracestate'];
      deleteVariants(carrier, 'tracestate');
    }
    defineHeader(carrier, key, value);
  },
};

/** Removes the other spellings of `key` (not `key` itself). */
function deleteVariants(carrier: Carrier, key: string): void {
  const variants = caseVariants(key);
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i] as string;
    if (Object.prototype.hasOwnProperty.call(carrier, v)) delete carrier[v];
  }
}

/** Own data property even for keys like `__proto__`, so a copy cannot gain a prototype. */
function defineHeader(carrier: Carrier, key: string, value: unknown): void {
  Object.defineProperty(carrier, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * {@link defineHeader} for an object whose prototype is Object.prototype: there a plain assignment
 * creates the same own data property (no inherited setter but `__proto__`'s), and is much cheaper.
 */
function setPlainHeader(carrier: Carrier, key: string, value: unknown): void {
  if (key === '__proto__') defineHeader(carrier, key, value);
  else carrier[key] = value;
}

/** The decoded value of one header, first one when repeated. */
export function readHeader(headers: unknown, key: string): string | undefined {
  const v = decodeHeaderValue(rawHeader(headers, key));
  return Array.isArray(v) ? v[0] : v;
}

/**
 * What the global propagator is, decided once per registered propagator object: the W3C fast
 * paths below apply only to OpenTelemetry's own W3C trace-context propagator, alone or composed
 * with its W3C baggage propagator (the SDK's default), and to the API's no-op one. Anything else
 * (B3, Jaeger, a custom or wrapped propagator) goes through the propagation API.
 */
const enum PropagatorKind {
  Other,
  Noop,
  TraceContext,
  TraceContextAndBaggage,
}

let knownPropagator: unknown = null;
let knownKind: PropagatorKind = PropagatorKind.Other;

function className(value: unknown): string | undefined {
  const name: unknown = (value as { constructor?: { name?: unknown } } | null | undefined)?.constructor?.name;
  return typeof name === 'string' ? name : undefined;
}

function classifyPropagator(p: unknown): PropagatorKind {
  const name = className(p);
  if (name === 'NoopTextMapPropagator') return PropagatorKind.Noop;
  if (name === 'W3CTraceContextPropagator') return PropagatorKind.TraceContext;
  if (name !== 'CompositePropagator') return PropagatorKind.Other;
  const list: unknown = (p as { _propagators?: unknown })._propagators;
  if (!Array.isArray(list)) return PropagatorKind.Other;
  let trace = 0;
  let baggage = 0;
  for (const item of list) {
    const n = className(item);
    if (n === 'W3CTraceContextPropagator') trace++;
    else if (n === 'W3CBaggagePropagator') baggage++;
    else return PropagatorKind.Other;
  }
  if (trace === 1 && baggage === 0) return PropagatorKind.TraceContext;
  return trace === 1 && baggage === 1 ? PropagatorKind.TraceContextAndBaggage : PropagatorKind.Other;
}

/** The kind of the propagator registered now (one call and one comparison when it has not changed). */
export function propagatorKind(): PropagatorKind {
  try {
    const api = propagation as unknown as { _getGlobalPropagator?: () => unknown };
    const p = typeof api._getGlobalPropagator === 'function' ? api._getGlobalPropagator() : undefined;
    if (p === undefined) return PropagatorKind.Other;
    if (p !== knownPropagator) {
      knownKind = classifyPropagator(p);
      // The fields must be W3C's too (a subclass or an impostor with other fields is not taken).
      if (knownKind === PropagatorKind.TraceContext || knownKind === PropagatorKind.TraceContextAndBaggage) {
        const fields = propagation.fields().join(',');
        if (fields !== 'traceparent,tracestate' && fields !== 'traceparent,tracestate,baggage') knownKind = PropagatorKind.Other;
      }
      knownPropagator = p;
    }
    return knownKind;
  } catch {
    return PropagatorKind.Other;
  }
}

/** One header value given as a string or bytes, as text; undefined for anything else (the slow path decides). */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_HEADER_VALUE_BYTES ? value : undefined;
  if (value instanceof Uint8Array && value.byteLength <= MAX_HEADER_VALUE_BYTES) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return undefined;
}

/** {@link fastSpanContext}'s answer when the message carries no trace context (the base context stands). */
const NO_CONTEXT = null;

/**
 * extractContext without the propagation API, for the usual message (W3C propagator, an exact
 * `traceparent` key holding one string or byte value, no tracestate or baggage header in any
 * spelling): the span context the W3C propagator would put into the base context (valid, remote),
 * null when it would return the base context itself, undefined to take the API path.
 */
function fastSpanContext(carrier: Carrier, kind: PropagatorKind): SpanContext | null | undefined {
  if (kind === PropagatorKind.Noop) return NO_CONTEXT;
  if (kind === PropagatorKind.Other) return undefined;
  if (kind === PropagatorKind.TraceContextAndBaggage && hasSpelling(carrier, BAGGAGE, BAGGAGE_SPELLINGS)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(carrier, 'traceparent')) return hasSpelling(carrier, 'traceparent', TRACEPARENT_SPELLINGS) ? undefined : NO_CONTEXT;
  if (hasSpelling(carrier, 'tracestate', TRACESTATE_SPELLINGS)) return undefined;
  const value = carrier['traceparent'];
  // Kafka's usual case: the bytes a W3C propagator wrote, checked and cut without decoding them first.
  if (Buffer.isBuffer(value)) {
    const exact = parseVersion00Bytes(value);
    if (exact !== undefined) {
      lastFastContext = exact;
      return exact;
    }
  }
  const text = scalarText(value);
  if (text === undefined) return undefined;
  const exact = parseVersion00(text);
  if (exact !== undefined) {
    lastFastContext = exact;
    return exact;
  }
  const m = TRACEPARENT.exec(text);
  if (!m || (m[1] === '00' && m[5])) return NO_CONTEXT;
  return { traceId: m[2] as string, spanId: m[3] as string, traceFlags: parseInt(m[4] as string, 16), isRemote: true };
}

/**
 * True when the producer context {@link extractParent} gives for `headers` is absent or unsampled,
 * told from the usual traceparent bytes alone: their layout and flags, without checking the ids
 * (invalid ids give no context, which is not a sampled one either) and without looking at
 * tracestate or baggage (a W3C propagator takes neither into the flags or the ids). False when
 * only extractParent can tell: another propagator, text, any other layout, or a sampled flag.
 */
export function unsampledProducer(headers: unknown): boolean {
  const carrier = asCarrier(headers);
  if (!carrier) return false;
  try {
    const kind = propagatorKind();
    if (kind !== PropagatorKind.TraceContext && kind !== PropagatorKind.TraceContextAndBaggage) return false;
    // The getter reads the exact key first; a case variant is only read when it is absent.
    if (!Object.prototype.hasOwnProperty.call(carrier, 'traceparent')) return false;
    const b = carrier['traceparent'];
    if (!Buffer.isBuffer(b) || b.length !== 55 || b[0] !== 48 || b[1] !== 48 || b[2] !== 45 || b[35] !== 45 || b[52] !== 45) return false;
    // Flags that are not two lower-case hex digits make the whole header invalid: no context.
    const hi = HEX_VALUE[b[53] as number] as number;
    const lo = HEX_VALUE[b[54] as number] as number;
    return hi < 0 || lo < 0 || (lo & 1) === 0;
  } catch {
    return false;
  }
}

/** The span context the fast path parsed last: valid by construction (see {@link isFastExtracted}). */
let lastFastContext: SpanContext | undefined;

/**
 * True when `sc` is the span context extractContext just parsed on its fast path, whose ids were
 * checked there (lower-case hex, not all zeros): callers skip validating it again.
 */
export function isFastExtracted(sc: SpanContext): boolean {
  return sc === lastFastContext;
}

/** The span context unsampledChild made last: valid by construction (see {@link markMadeValid}). */
let lastMadeContext: SpanContext | undefined;

/**
 * Records that `sc` is valid by construction (unsampledChild builds it from a validated parent
 * and a non-zero random id): injecting it then skips validating it again.
 */
export function markMadeValid(sc: SpanContext): void {
  lastMadeContext = sc;
}

/** The value of each byte or char code as one lower-case hex digit, -1 for anything else. */
const HEX_VALUE = ((): Int8Array => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 48; c <= 57; c++) t[c] = c - 48;
  for (let c = 97; c <= 102; c++) t[c] = c - 87;
  return t;
})();

/** Value of one lower-case hex digit, or -1. */
function hexDigit(c: number): number {
  return c < 256 ? (HEX_VALUE[c] as number) : -1;
}

/** True when text[from, to) is lower-case hex and not all zeros. */
function hexNotZero(text: string, from: number, to: number): boolean {
  let any = 0;
  for (let i = from; i < to; i++) {
    const d = hexDigit(text.charCodeAt(i));
    if (d < 0) return false;
    any |= d;
  }
  return any !== 0;
}

/** True when bytes[from, to) are lower-case hex digits, not all zeros. */
function hexBytesNotZero(bytes: Buffer, from: number, to: number): boolean {
  let any = 0;
  for (let i = from; i < to; i++) {
    const d = HEX_VALUE[bytes[i] as number] as number;
    if (d < 0) return false;
    any |= d;
  }
  return any !== 0;
}

/*
 * The ids as strings straight from the bytes, once they are known to be hex: one fromCharCode call
 * each, cheaper than Buffer#toString's encoding dispatch and native slice (about 60 against 120 ns
 * for both here).
 */
function traceIdText(b: Buffer): string {
  return String.fromCharCode(
    b[3] as number, b[4] as number, b[5] as number, b[6] as number, b[7] as number, b[8] as number, b[9] as number, b[10] as number,
    b[11] as number, b[12] as number, b[13] as number, b[14] as number, b[15] as number, b[16] as number, b[17] as number, b[18] as number,
    b[19] as number, b[20] as number, b[21] as number, b[22] as number, b[23] as number, b[24] as number, b[25] as number, b[26] as number,
    b[27] as number, b[28] as number, b[29] as number, b[30] as number, b[31] as number, b[32] as number, b[33] as number, b[34] as number,
  );
}

function spanIdText(b: Buffer): string {
  return String.fromCharCode(
    b[36] as number, b[37] as number, b[38] as number, b[39] as number, b[40] as number, b[41] as number, b[42] as number, b[43] as number,
    b[44] as number, b[45] as number, b[46] as number, b[47] as number, b[48] as number, b[49] as number, b[50] as number, b[51] as number,
  );
}

/**
 * {@link parseVersion00} on the header's bytes: ASCII only, so the ids are cut as latin1 (what
 * UTF-8 decoding gives for ASCII) into strings of their own. Undefined for anything else, which
 * then takes the text path.
 */
function parseVersion00Bytes(bytes: Buffer): SpanContext | undefined {
  if (!isVersion00Bytes(bytes)) return undefined;
  const flags = (HEX_VALUE[bytes[53] as number] as number) * 16 + (HEX_VALUE[bytes[54] as number] as number);
  return { traceId: traceIdText(bytes), spanId: spanIdText(bytes), traceFlags: flags, isRemote: true };
}

/** True when `bytes` are exactly a valid version-00 traceparent, `00-{32 hex}-{16 hex}-{2 hex}`, ids not all zeros. */
function isVersion00Bytes(bytes: Buffer): boolean {
  if (bytes.length !== 55 || bytes[0] !== 48 || bytes[1] !== 48) return false;
  if (bytes[2] !== 45 || bytes[35] !== 45 || bytes[52] !== 45) return false;
  if (!hexBytesNotZero(bytes, 3, 35) || !hexBytesNotZero(bytes, 36, 52)) return false;
  return (HEX_VALUE[bytes[53] as number] as number) >= 0 && (HEX_VALUE[bytes[54] as number] as number) >= 0;
}

/**
 * The usual traceparent (exactly `00-{32 hex}-{16 hex}-{2 hex}`, what every W3C propagator
 * writes) without a regular expression; undefined for anything else, which the regular expression
 * (the W3C propagator's own) then judges. Same result as the propagator for the accepted strings.
 */
function parseVersion00(text: string): SpanContext | undefined {
  if (text.length !== 55 || text.charCodeAt(0) !== 48 || text.charCodeAt(1) !== 48) return undefined;
  if (text.charCodeAt(2) !== 45 || text.charCodeAt(35) !== 45 || text.charCodeAt(52) !== 45) return undefined;
  if (!hexNotZero(text, 3, 35) || !hexNotZero(text, 36, 52)) return undefined;
  const hi = hexDigit(text.charCodeAt(53));
  const lo = hexDigit(text.charCodeAt(54));
  if (hi < 0 || lo < 0) return undefined;
  return { traceId: text.slice(3, 35), spanId: text.slice(36, 52), traceFlags: hi * 16 + lo, isRemote: true };
}

/** The producer's context from message headers; `base` (default ROOT) when absent or malformed. */
export function extractContext(headers: unknown, base: Context = ROOT_CONTEXT): Context {
  const carrier = asCarrier(headers);
  if (!carrier) return base;
  try {
    const fast = fastSpanContext(carrier, propagatorKind());
    if (fast === NO_CONTEXT) return base;
    if (fast !== undefined) return withSpan(base, trace.wrapSpanContext(fast));
  } catch {
    /* a throwing getter or Proxy trap: the API path below copes (or gives up) in its own way */
  }
  try {
    return propagation.extract(base, carrier, headerGetter);
  } catch {
    return base;
  }
}

/**
 * The producer of one message without building a Context when the fast path applies: its span
 * context (valid, remote, as the W3C propagator would extract it), null when the message carries
 * none, or, when the propagation API had to decide, the Context {@link extractContext} returns.
 * {@link parentContext} turns any of these into that same Context.
 */
export function extractParent(headers: unknown): SpanContext | Context | null {
  const carrier = asCarrier(headers);
  if (!carrier) return NO_CONTEXT;
  try {
    const fast = fastSpanContext(carrier, propagatorKind());
    if (fast !== undefined) return fast;
  } catch {
    /* the API path below */
  }
  return extractContext(carrier);
}

/** True when `parent` (from {@link extractParent}) is a span context, not a Context. */
export function isSpanContext(parent: SpanContext | Context | null): parent is SpanContext {
  return parent !== null && typeof (parent as Partial<Context>).getValue !== 'function';
}

/** The Context extractContext would have returned for the same headers, from {@link extractParent}'s answer. */
export function parentContext(parent: SpanContext | Context | null, base: Context = ROOT_CONTEXT): Context {
  if (parent === null) return base;
  return isSpanContext(parent) ? withSpan(base, trace.wrapSpanContext(parent)) : parent;
}

const EARLIEST_PRODUCED_AT = 978_307_200_000;

/** Epoch milliseconds from the produced-at bytes, when they are plain digits (else undefined: the slow path decides). */
function producedAtFromDigits(value: unknown): number | undefined {
  let ms = 0;
  if (value instanceof Uint8Array) {
    const n = value.byteLength;
    if (n < 12 || n > 16) return undefined;
    for (let i = 0; i < n; i++) {
      const d = (value[i] as number) - 48;
      if (d < 0 || d > 9) return undefined;
      ms = ms * 10 + d;
    }
  } else if (typeof value === 'string') {
    const n = value.length;
    if (n < 12 || n > 16) return undefined;
    for (let i = 0; i < n; i++) {
      const d = value.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      ms = ms * 10 + d;
    }
  } else {
    return undefined;
  }
  return ms > EARLIEST_PRODUCED_AT && Number.isSafeInteger(ms) ? ms : undefined;
}

/** The produced-at header in epoch milliseconds, or undefined when absent or not a sane number. */
export function readProducedAt(headers: unknown): number | undefined {
  const carrier = asCarrier(headers);
  if (!carrier) return undefined;
  try {
    // The usual case: our own header, exact key, digits only. Anything else takes the general path.
    if (Object.prototype.hasOwnProperty.call(carrier, PRODUCED_AT)) {
      const fast = producedAtFromDigits(carrier[PRODUCED_AT]);
      if (fast !== undefined) return fast;
    }
  } catch {
    /* a throwing getter or Proxy trap: the general path copes */
  }
  const text = readHeader(headers, PRODUCED_AT);
  if (text === undefined || text.length > 20) return undefined;
  const ms = Number(text.trim());
  // Before 2001 or not an integer: somebody else's header, not ours.
  return Number.isSafeInteger(ms) && ms > EARLIEST_PRODUCED_AT ? ms : undefined;
}

/** W3C traceparent, parsed exactly as OpenTelemetry's W3CTraceContextPropagator does. */
const TRACEPARENT = /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;

/**
 * The creation context the caller's headers already carry (a valid W3C `traceparent`, header name
 * in any common letter case, with its `tracestate`), or undefined. Injection keeps such a context
 * as it is, and the producer's send span links to it, as the messaging conventions say.
 */
export function existingCreationContext(headers: unknown): SpanContext | undefined {
  try {
    const traceparent = readHeader(headers, 'traceparent');
    if (traceparent === undefined) return undefined;
    const m = TRACEPARENT.exec(traceparent);
    if (!m || (m[1] === '00' && m[5])) return undefined;
    const state = decodeHeaderValue(rawHeader(headers, 'tracestate'));
    const sc: SpanContext = { traceId: m[2] as string, spanId: m[3] as string, traceFlags: parseInt(m[4] as string, 16), isRemote: true };
    if (!isSpanContextValid(sc)) return undefined;
    if (state !== undefined) sc.traceState = createTraceState(Array.isArray(state) ? state.join(',') : state);
    return sc;
  } catch {
    return undefined;
  }
}

/**
 * The header names injection writes (the propagator's fields and produced-at), lower-cased.
 * Producers compute it once per send call and pass it to {@link injectHeaders} for every message.
 */
export function injectedFields(): ReadonlySet<string> {
  const fields = new Set<string>([PRODUCED_AT]);
  try {
    for (const f of propagation.fields()) fields.add(f.toLowerCase());
  } catch {
    /* a broken propagator: carry on without replacing */
  }
  return fields;
}

/**
 * A copy of `headers` with the trace context of `ctx` and the produced-at timestamp added.
 *
 * Returns `headers` itself, untouched, when it is neither absent nor an object, or when reading it
 * throws (the client will reject or encode it as it always did; the instrumentation must not change
 * that). In the copy, a caller header is only ever replaced by a value the propagator writes; a
 * valid creation context the caller set (relay, forwarder) is kept with its tracestate and ours is
 * not injected; the caller's baggage and produced-at are kept. `producedAtMs` undefined writes no
 * produced-at. The copy keeps the caller's prototype, so a client that also reads inherited keys
 * (amqplib's `for…in`) sends the same keys as before; kafkajs reads own keys only, as before.
 * `_fields` is accepted for callers of the earlier signature; what is replaced is now decided by
 * what the propagator actually writes.
 */
export function injectHeaders(headers: unknown, ctx: Context, producedAtMs: number | undefined, _fields?: ReadonlySet<string>): unknown {
  const fast = fastInject(headers, ctx, producedAtMs);
  if (fast !== undefined) return fast;
  const carrier = asCarrier(headers);
  if (headers !== undefined && headers !== null && !carrier) return headers;
  let copy: Carrier;
  try {
    copy = copyOf(carrier);
  } catch {
    return headers;
  }
  // The caller's creation context stays: inject without our span, so only baggage can be added.
  const injectCtx = carrier && existingCreationContext(copy) ? trace.deleteSpan(ctx) : ctx;
  try {
    propagation.inject(injectCtx, copy, copySetter);
  } catch {
    /* the message still goes out, only untraced */
  }
  if (producedAtMs !== undefined && Number.isFinite(producedAtMs) && !hasHeader(copy, PRODUCED_AT)) {
    defineHeader(copy, PRODUCED_AT, String(Math.trunc(producedAtMs)));
  }
  return copy;
}

/** @opentelemetry/core's suppressTracing key (context keys are registered symbols, so this is the same one). */
export const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * injectHeaders without the propagation API, for the usual message (W3C propagator, no baggage in
 * the context, headers absent or a plain object without any trace-context, baggage or produced-at
 * header in any spelling): the copy the API path would produce, written directly. Undefined: take
 * the API path.
 */
function fastInject(headers: unknown, ctx: Context, producedAtMs: number | undefined): Carrier | undefined {
  const kind = propagatorKind();
  if (kind === PropagatorKind.Other) return undefined;
  let copy: Carrier | undefined;
  try {
    if (headers !== undefined && headers !== null) {
      const carrier = asCarrier(headers);
      if (!carrier || Object.getPrototypeOf(carrier) !== Object.prototype) return undefined;
      if (
        hasSpelling(carrier, 'traceparent', TRACEPARENT_SPELLINGS) ||
        hasSpelling(carrier, 'tracestate', TRACESTATE_SPELLINGS) ||
        hasSpelling(carrier, BAGGAGE, BAGGAGE_SPELLINGS) ||
        hasSpelling(carrier, PRODUCED_AT, PRODUCED_AT_SPELLINGS)
      )
        return undefined;
      copy = copyOf(carrier);
    }
  } catch {
    return undefined;
  }
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  if (kind !== PropagatorKind.Noop) {
    if (kind === PropagatorKind.TraceContextAndBaggage && propagation.getBaggage(ctx) !== undefined) return undefined;
    const sc = trace.getSpanContext(ctx);
    if (sc && (sc === lastMadeContext || isSpanContextValid(sc)) && ctx.getValue(SUPPRESS_TRACING_KEY) !== true) {
      traceparent = `00-${sc.traceId}-${sc.spanId}-${flagsText(sc.traceFlags)}`;
      if (sc.traceState) tracestate = sc.traceState.serialize();
    }
  }
  const producedAt = producedAtMs !== undefined && Number.isFinite(producedAtMs) ? String(Math.trunc(producedAtMs)) : undefined;
  // The usual publish (no headers of the caller's, no tracestate): one object literal, the keys in
  // the order the general path writes them.
  if (copy === undefined && tracestate === undefined && traceparent !== undefined && producedAt !== undefined) return { traceparent, 'eda-produced-at': producedAt };
  copy ??= {};
  if (traceparent !== undefined) setPlainHeader(copy, 'traceparent', traceparent);
  if (tracestate !== undefined) setPlainHeader(copy, 'tracestate', tracestate);
  if (producedAt !== undefined) setPlainHeader(copy, PRODUCED_AT, producedAt);
  return copy;
}

/** The traceparent's flags field: two lower-case hex digits (as the W3C propagator writes them). */
function flagsText(flags: number): string {
  if (flags === TraceFlags.NONE) return '00';
  if (flags === TraceFlags.SAMPLED) return '01';
  return '0' + Number(flags || 0).toString(16);
}

/** Own enumerable keys as data properties on an object with the same prototype. Throws if reading does. */
function copyOf(headers: Carrier | undefined): Carrier {
  if (!headers) return {};
  const proto: unknown = Object.getPrototypeOf(headers);
  const plain = proto === Object.prototype;
  const copy: Carrier = plain ? {} : (Object.create(proto as object | null) as Carrier);
  const keys = Object.keys(headers);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (plain) setPlainHeader(copy, key, headers[key]);
    else defineHeader(copy, key, headers[key]);
  }
  return copy;
}
