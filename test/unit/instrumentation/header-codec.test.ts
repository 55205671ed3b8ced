import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { ROOT_CONTEXT, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { decodeHeaderValue, extractContext, injectHeaders, readHeader, readProducedAt } from '../../../instrumentation/shared/header-codec';
import { HEADER, MAX_HEADER_VALUE_BYTES } from '../../../semconv/index';
import { useOtel } from './otel-fixture';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

useOtel();

/** Structural copy that keeps Buffers as Buffers, to compare the input after the call. */
function snapshot(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(snapshot);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
    for (const k of Reflect.ownKeys(value)) {
      const d = Object.getOwnPropertyDescriptor(value, k);
      if (d && 'value' in d) Object.defineProperty(out, k, { ...d, value: snapshot(d.value) });
    }
    return out;
  }
  return value;
}

/** Freezes objects and arrays (typed arrays cannot be frozen; the snapshot comparison covers them). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const k of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[k]);
    Object.freeze(value);
  }
  return value;
}

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const traceparentLike = fc.oneof(
  fc.constant(TRACEPARENT),
  fc.tuple(hex(32), hex(16)).map(([t, s]) => `00-${t}-${s}-01`),
  fc.string(),
);
const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  traceparentLike,
  traceparentLike.map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 64 }),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(Buffer.alloc(MAX_HEADER_VALUE_BYTES + 1, 0x41)),
  fc.constant('x'.repeat(MAX_HEADER_VALUE_BYTES + 1)),
);
const headerValue = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string(), scalar, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.anything() },
);
const headerKey = fc.oneof(fc.constantFrom('traceparent', 'TraceParent', 'tracestate', 'baggage', 'Baggage', HEADER.PRODUCED_AT, '__proto__', 'constructor', 'toString'), fc.string());
/** Kafka-ish and AMQP-ish header objects, plus plain garbage where a header object should be. */
const headerSet = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(headerKey, headerValue, { maxKeys: 12 }) },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'traceparent', 42, Buffer.from(TRACEPARENT), [TRACEPARENT]) },
);

describe('header codec (property-based)', () => {
  it('never throws and never mutates when reading 10,000 generated header sets', () => {
    fc.assert(
      fc.property(headerSet, (headers) => {
        const before = snapshot(headers);
        deepFreeze(headers);
        const ctx = extractContext(headers);
        readProducedAt(headers);
        readHeader(headers, 'traceparent');
        expect(ctx).toBeDefined();
        expect(isDeepStrictEqual(headers, before)).toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });

  it('never throws, never mutates, and always yields a readable copy when injecting into 10,000 generated header sets', () => {
    const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    fc.assert(
      fc.property(headerSet, fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), (headers, at) => {
        const before = snapshot(headers);
        deepFreeze(headers);
        const out = injectHeaders(headers, ctx, at);
        expect(isDeepStrictEqual(headers, before)).toBe(true);
        const isObject = typeof headers === 'object' && headers !== null && !Array.isArray(headers) && !ArrayBuffer.isView(headers);
        if (headers === undefined || headers === null || isObject) {
          expect(out).not.toBe(headers);
          // What we wrote reads back, whatever garbage was there before.
          expect(trace.getSpanContext(extractContext(out))?.spanId).toBe(SPAN_ID);
          expect(readProducedAt(out)).toBe(at);
        } else {
          expect(out).toBe(headers); // not ours to fix: passed through untouched
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('survives header objects whose getters and key enumeration throw', () => {
    const hostile = new Proxy({}, {
      get: () => {
        throw new Error('boom');
      },
      ownKeys: () => {
        throw new Error('boom');
      },
      getOwnPropertyDescriptor: () => {
        throw new Error('boom');
      },
    });
    expect(extractContext(hostile)).toBe(ROOT_CONTEXT);
    expect(() => injectHeaders(hostile, ROOT_CONTEXT, Date.now())).not.toThrow();
  });
});

describe('header codec (examples)', () => {
  it('extracts a traceparent that arrives as a Buffer (AMQP byte array / Kafka value)', () => {
    const sc = trace.getSpanContext(extractContext({ traceparent: Buffer.from(TRACEPARENT) }));
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, isRemote: true });
  });

  it('matches header names case-insensitively and takes the first of repeated values', () => {
    expect(trace.getSpanContext(extractContext({ TraceParent: TRACEPARENT }))?.traceId).toBe(TRACE_ID);
    expect(trace.getSpanContext(extractContext({ traceparent: [Buffer.from(TRACEPARENT), 'garbage'] }))?.spanId).toBe(SPAN_ID);
  });

  it('joins repeated baggage headers and reads numbers (AMQP) as text', () => {
    const ctx = extractContext({ traceparent: TRACEPARENT, baggage: ['a=1', Buffer.from('b=2')] });
    const bag = propagation.getBaggage(ctx);
    expect(bag?.getEntry('a')?.value).toBe('1');
    expect(bag?.getEntry('b')?.value).toBe('2');
    expect(decodeHeaderValue(1700000000000)).toBe('1700000000000');
    expect(decodeHeaderValue(Number.NaN)).toBeUndefined();
    expect(decodeHeaderValue({ nested: 'table' })).toBeUndefined();
  });

  it('ignores oversized values instead of decoding megabytes', () => {
    expect(decodeHeaderValue(Buffer.alloc(MAX_HEADER_VALUE_BYTES + 1))).toBeUndefined();
    expect(decodeHeaderValue('y'.repeat(MAX_HEADER_VALUE_BYTES + 1))).toBeUndefined();
  });

  it('reads produced-at from strings, Buffers and numbers, rejecting nonsense', () => {
    expect(readProducedAt({ [HEADER.PRODUCED_AT]: '1700000000123' })).toBe(1700000000123);
    expect(readProducedAt({ [HEADER.PRODUCED_AT]: Buffer.from('1700000000123') })).toBe(1700000000123);
    expect(readProducedAt({ [HEADER.PRODUCED_AT]: 1700000000123 })).toBe(1700000000123);
    expect(readProducedAt({ [HEADER.PRODUCED_AT]: 'soon' })).toBeUndefined();
    expect(readProducedAt({ [HEADER.PRODUCED_AT]: '42' })).toBeUndefined();
  });

  it('injects into a copy, replaces stale trace headers in any letter case, keeps the others', () => {
    const original = { TraceParent: 'stale', keep: Buffer.from('me'), list: ['a', 'b'] };
    const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    const out = injectHeaders(original, trace.setSpan(ROOT_CONTEXT, span), 1700000000000) as Record<string, unknown>;
    expect(original).toEqual({ TraceParent: 'stale', keep: Buffer.from('me'), list: ['a', 'b'] });
    expect(out['TraceParent']).toBeUndefined();
    expect(out['traceparent']).toBe(TRACEPARENT);
    expect(out['keep']).toBe(original.keep);
    expect(out[HEADER.PRODUCED_AT]).toBe('1700000000000');
  });

  it('does not let a __proto__ header change the copy\'s prototype', () => {
    const headers = JSON.parse('{"__proto__": {"polluted": true}, "a": "b"}') as Record<string, unknown>;
    const out = injectHeaders(headers, ROOT_CONTEXT, Date.now()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
