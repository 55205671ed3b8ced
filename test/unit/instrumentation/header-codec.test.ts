import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, propagation, trace, TraceFlags } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator, suppressTracing } from '@opentelemetry/core';
import { performance } from 'node:perf_hooks';
import {
  decodeHeaderValue,
  existingCreationContext,
  extractContext,
  injectHeaders,
  injectedFields,
  readHeader,
  readProducedAt,
} from '../../../instrumentation/shared/header-codec';
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

/** Whether the caller set header `name` (in one of the spellings the codec matches), whatever its value. */
function callerSet(headers: unknown, name: string): boolean {
  if (typeof headers !== 'object' || headers === null) return false;
  const title = name.replace(/(^|-)([a-z])/g, (_m: string, sep: string, c: string) => sep + c.toUpperCase());
  return [name, name.toUpperCase(), title].some((k) => Object.prototype.hasOwnProperty.call(headers, k));
}

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
          // A valid creation context the caller set is kept; otherwise ours reads back, whatever garbage was there.
          const theirs = existingCreationContext(headers);
          expect(trace.getSpanContext(extractContext(out))?.spanId).toBe(theirs ? theirs.spanId : SPAN_ID);
          expect(readProducedAt(out)).toBe(callerSet(headers, HEADER.PRODUCED_AT) ? readProducedAt(headers) : at);
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

  it('injects into a copy, replaces invalid trace headers in any letter case, keeps the others', () => {
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

const BAGGAGE_CTX = (): Context => propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ ours: { value: '1' } }));
const OUR_SPAN_ID = '1111111111111111';
const withOurSpan = (base: Context = ROOT_CONTEXT): Context =>
  trace.setSpan(base, trace.wrapSpanContext({ traceId: TRACE_ID.replace(/^0a/, 'ff'), spanId: OUR_SPAN_ID, traceFlags: TraceFlags.SAMPLED }));
const CALLER = { traceparent: TRACEPARENT, tracestate: 'vendor=abc', baggage: 'app=keep', other: 'x' };

/** A Proxy that has been revoked: every operation on it, even Array.isArray, throws. */
function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

describe('header codec: the caller\'s headers survive injection', () => {
  it('keeps the caller\'s traceparent, tracestate and baggage when nothing replaces them (no SDK registered)', () => {
    const headers = { ...CALLER, traceparent: 'not-a-traceparent' };
    const expected = { traceparent: 'not-a-traceparent', tracestate: 'vendor=abc', baggage: 'app=keep', other: 'x' };
    // No tracer provider: the send span is a no-op span with an invalid context, which propagators skip.
    const noopSpan = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
    expect(injectHeaders(headers, noopSpan, 1700000000000, injectedFields())).toMatchObject(expected);
    // No propagator either, with the field list a producer computed before (as the Kafka producer does per send).
    const fields = injectedFields();
    propagation.disable();
    try {
      expect(injectHeaders(headers, withOurSpan(BAGGAGE_CTX()), 1700000000000, fields)).toMatchObject(expected);
    } finally {
      propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    }
  });

  it('keeps them under suppressTracing and when the context has neither span nor baggage', () => {
    const headers = { ...CALLER, traceparent: 'stale' };
    for (const ctx of [suppressTracing(withOurSpan(BAGGAGE_CTX())), ROOT_CONTEXT]) {
      const out = injectHeaders(headers, ctx, 1700000000000) as Record<string, unknown>;
      expect(out).toMatchObject({ traceparent: 'stale', tracestate: 'vendor=abc', baggage: 'app=keep', other: 'x' });
    }
  });

  it('keeps a valid creation context exactly as given, in any header-name case, and does not inject ours', () => {
    for (const [tp, ts] of [['traceparent', 'tracestate'], ['Traceparent', 'Tracestate'], ['TRACEPARENT', 'TRACESTATE'], ['TraceParent', 'TraceState']] as const) {
      const out = injectHeaders({ [tp]: TRACEPARENT, [ts]: 'vendor=abc' }, withOurSpan(), 1700000000000) as Record<string, unknown>;
      expect(out[tp]).toBe(TRACEPARENT);
      expect(out[ts]).toBe('vendor=abc');
      expect(Object.keys(out).filter((k) => /^trace/i.test(k))).toEqual([tp, ts]);
      expect(trace.getSpanContext(extractContext(out))?.spanId).toBe(SPAN_ID);
    }
    // Still the caller's when it arrives as a Buffer (a forwarder copying Kafka headers as they came).
    const asBuffer = Buffer.from(TRACEPARENT);
    expect((injectHeaders({ traceparent: asBuffer }, withOurSpan(), 1) as Record<string, unknown>)['traceparent']).toBe(asBuffer);
  });

  it('drops the caller\'s tracestate with the invalid traceparent that ours replaces', () => {
    for (const [tp, ts] of [['traceparent', 'tracestate'], ['TraceParent', 'TraceState']] as const) {
      const out = injectHeaders({ [tp]: 'not-a-traceparent', [ts]: 'vendor=abc', other: 'x' }, withOurSpan(), 1700000000000) as Record<string, unknown>;
      expect(out['traceparent']).toMatch(new RegExp(`-${OUR_SPAN_ID}-`));
      expect(Object.keys(out).filter((k) => /^tracestate$/i.test(k))).toEqual([]);
      expect(out['other']).toBe('x');
    }
  });

  it('never drops the caller\'s baggage, and adds ours only when the caller has none', () => {
    const kept = injectHeaders({ Baggage: 'app=keep' }, withOurSpan(BAGGAGE_CTX()), 1700000000000) as Record<string, unknown>;
    expect(kept['Baggage']).toBe('app=keep');
    expect(kept['baggage']).toBeUndefined();
    expect(kept['traceparent']).toMatch(new RegExp(`-${OUR_SPAN_ID}-`));
    const added = injectHeaders({ traceparent: TRACEPARENT }, withOurSpan(BAGGAGE_CTX()), 1700000000000) as Record<string, unknown>;
    expect(added['baggage']).toBe('ours=1');
    expect(added['traceparent']).toBe(TRACEPARENT);
  });

  it('keeps the caller\'s produced-at (a relay keeps the origin time) and writes none when told not to', () => {
    const relayed = injectHeaders({ [HEADER.PRODUCED_AT]: '1600000000000' }, withOurSpan(), 1700000000000) as Record<string, unknown>;
    expect(relayed[HEADER.PRODUCED_AT]).toBe('1600000000000');
    const upper = injectHeaders({ 'EDA-PRODUCED-AT': '1600000000000' }, withOurSpan(), 1700000000000) as Record<string, unknown>;
    expect(upper).toEqual({ 'EDA-PRODUCED-AT': '1600000000000', traceparent: expect.any(String) });
    const none = injectHeaders({ a: 'b' }, withOurSpan(), undefined) as Record<string, unknown>;
    expect(none[HEADER.PRODUCED_AT]).toBeUndefined();
    expect(none['traceparent']).toMatch(new RegExp(`-${OUR_SPAN_ID}-`));
  });

  it('keeps the prototype, so a client that reads inherited keys (amqplib\'s for-in) sends what it did before', () => {
    const proto = { inherited: 'yes' };
    const headers = Object.create(proto) as Record<string, unknown>;
    headers['own'] = 'o';
    const out = injectHeaders(headers, withOurSpan(), 1700000000000) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(proto);
    const forIn: string[] = [];
    for (const k in out) forIn.push(k);
    expect(forIn.sort()).toEqual(['eda-produced-at', 'inherited', 'own', 'traceparent']);
    expect(Object.keys(out).sort()).toEqual(['eda-produced-at', 'own', 'traceparent']);
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 'b' });
    expect(Object.getPrototypeOf(injectHeaders(bare, withOurSpan(), 1))).toBeNull();
  });
});

describe('existingCreationContext', () => {
  it('returns the caller\'s valid remote span context, tracestate included', () => {
    const sc = existingCreationContext({ TraceParent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    expect(sc?.traceState?.get('vendor')).toBe('abc');
    expect(existingCreationContext({ traceparent: [Buffer.from(TRACEPARENT)] })?.spanId).toBe(SPAN_ID);
  });

  it('returns undefined for absent, invalid and hostile input', () => {
    const zeros = `00-${'0'.repeat(32)}-${SPAN_ID}-01`;
    for (const h of [undefined, null, 'x', {}, { traceparent: 'stale' }, { traceparent: zeros }, { traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01` }, { traceparent: `${TRACEPARENT}-extra` }, revoked(), { traceparent: revoked() }]) {
      expect(existingCreationContext(h)).toBeUndefined();
    }
  });
});

describe('header codec: hostile input', () => {
  it('returns a revoked Proxy untouched and never throws on one, as headers or as a value', () => {
    const proxy = revoked();
    expect(injectHeaders(proxy, withOurSpan(), 1)).toBe(proxy);
    expect(extractContext(proxy)).toBe(ROOT_CONTEXT);
    expect(readHeader(proxy, 'traceparent')).toBeUndefined();
    expect(readProducedAt(proxy)).toBeUndefined();
    const value = revoked();
    const out = injectHeaders({ traceparent: value, other: value }, withOurSpan(), 1) as Record<string, unknown>;
    expect(out['other']).toBe(value);
    expect(() => extractContext({ traceparent: value, baggage: value })).not.toThrow();
  });

  it('returns the headers untouched when reading them throws (a getter), instead of sending a changed copy', () => {
    const headers = Object.defineProperty({ a: 'b' }, 'bad', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(injectHeaders(headers, withOurSpan(), 1)).toBe(headers);
  });

  it('looks headers up without listing the keys: a 100k-header message costs microseconds per lookup', () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 100_000; i++) big[`k${i}`] = 'v';
    let listed = 0;
    const counting = new Proxy(big, {
      ownKeys(target) {
        listed++;
        return Reflect.ownKeys(target);
      },
    });
    extractContext(counting);
    readProducedAt(counting);
    readHeader(counting, 'traceparent');
    existingCreationContext(counting);
    expect(listed).toBe(0);
    const start = performance.now();
    for (let i = 0; i < 1_000; i++) readHeader(big, 'traceparent');
    expect(performance.now() - start).toBeLessThan(100);
  });

  it('finds the common case variants of a header name', () => {
    for (const k of ['Traceparent', 'TRACEPARENT', 'TraceParent']) expect(readHeader({ [k]: TRACEPARENT }, 'traceparent')).toBe(TRACEPARENT);
    for (const k of ['Eda-Produced-At', 'EDA-PRODUCED-AT']) expect(readProducedAt({ [k]: '1700000000123' })).toBe(1700000000123);
  });
});

class AppHeaders {
  constructor(
    public readonly id: string,
    public readonly traceparent?: string,
  ) {}
  get derived(): string {
    return `${this.id}!`;
  }
}

/** Header objects as applications build them: plain, class instances, null-prototype, frozen, getters, Maps as values. */
const appHeaders = fc
  .tuple(
    fc.dictionary(headerKey, fc.oneof(headerValue, fc.constant(new Map([['a', 'b']])), traceparentLike), { maxKeys: 8 }),
    fc.constantFrom('plain', 'class', 'null-proto', 'frozen', 'getter'),
  )
  .map(([entries, shape]) => {
    let h: Record<string, unknown>;
    if (shape === 'class') h = new AppHeaders('id-1', TRACEPARENT) as unknown as Record<string, unknown>;
    else if (shape === 'null-proto') h = Object.create(null) as Record<string, unknown>;
    else h = {};
    for (const [k, v] of Object.entries(entries)) {
      if (shape === 'getter') Object.defineProperty(h, k, { get: () => v, enumerable: true, configurable: true });
      else Object.defineProperty(h, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return shape === 'frozen' ? Object.freeze(h) : h;
  });

describe('header codec: caller keys survive injection (property-based)', () => {
  it('never throws, and every caller key keeps its value unless it is a field the propagator wrote', () => {
    const contexts = [withOurSpan(BAGGAGE_CTX()), withOurSpan(), ROOT_CONTEXT, BAGGAGE_CTX(), suppressTracing(withOurSpan(BAGGAGE_CTX()))];
    fc.assert(
      fc.property(appHeaders, fc.constantFrom(...contexts), fc.option(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), { nil: undefined }), (headers, ctx, at) => {
        const written: Record<string, string> = {};
        propagation.inject(ctx, written);
        const out = injectHeaders(headers, ctx, at) as Record<string, unknown>;
        expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(headers));
        for (const k of Object.keys(headers)) {
          if (Object.is(out[k], headers[k])) continue;
          const field = k.toLowerCase();
          // A caller tracestate goes with the caller traceparent that ours replaced (W3C).
          expect(field in written || (field === 'tracestate' && 'traceparent' in written)).toBe(true);
          // Only what the propagator wrote replaces a caller key, and never a valid creation context or baggage.
          expect(field).not.toBe('baggage');
          if (field === 'traceparent' || field === 'tracestate') expect(existingCreationContext(headers)).toBeUndefined();
        }
        // The caller's produced-at (even an odd value) stays; none is added when told not to.
        if (!callerSet(headers, HEADER.PRODUCED_AT)) expect(readProducedAt(out)).toBe(at);
      }),
      { numRuns: 5_000 },
    );
  });
});
