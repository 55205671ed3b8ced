import { ROOT_CONTEXT, createContextKey, propagation, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import fc from 'fast-check';
import { withSpan } from '../../../instrumentation/shared/span-overlay';

// withSpan stands for trace.setSpan(parent, span) (plus one value) on the hot path: it must be the
// same context in every way the API and the SDK can observe.

const span = (n: number) => trace.wrapSpanContext({ traceId: n.toString(16).padStart(32, 'a'), spanId: n.toString(16).padStart(16, 'b'), traceFlags: n % 2 });
const keys = [createContextKey('overlay test a'), createContextKey('overlay test b'), createContextKey('overlay test c')];

/** What a context holds under the keys the test uses, the span and suppression. */
function observe(ctx: Context): unknown[] {
  return [trace.getSpan(ctx), isTracingSuppressed(ctx), propagation.getBaggage(ctx), ...keys.map((k) => ctx.getValue(k))];
}

type Step = { op: 'set'; key: number; value: number } | { op: 'delete'; key: number } | { op: 'span'; n: number } | { op: 'deleteSpan' } | { op: 'suppress' };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fc.nat(2), value: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), key: fc.nat(2) }),
  fc.record({ op: fc.constant('span' as const), n: fc.integer({ min: 1, max: 99 }) }),
  fc.constant({ op: 'deleteSpan' as const }),
  fc.constant({ op: 'suppress' as const }),
);

function apply(ctx: Context, s: Step): Context {
  switch (s.op) {
    case 'set':
      return ctx.setValue(keys[s.key]!, s.value);
    case 'delete':
      return ctx.deleteValue(keys[s.key]!);
    case 'span':
      return trace.setSpan(ctx, span(s.n));
    case 'deleteSpan':
      return trace.deleteSpan(ctx);
    case 'suppress':
      return suppressTracing(ctx);
  }
}

describe('withSpan (one object for a span and a value)', () => {
  it('reads, and every context derived from it, are those of trace.setSpan(parent, span).setValue(key, value)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 4 }), fc.option(fc.integer({ min: 1, max: 99 }), { nil: undefined }), fc.option(fc.tuple(fc.nat(2), fc.integer()), { nil: undefined }), fc.array(step, { maxLength: 4 }), (before, n, extra, after) => {
        const parent = before.reduce(apply, ROOT_CONTEXT);
        const s = n === undefined ? undefined : span(n);
        const overlay = withSpan(parent, s, extra && keys[extra[0]], extra?.[1]);
        let reference = s === undefined ? parent : trace.setSpan(parent, s);
        if (extra) reference = reference.setValue(keys[extra[0]]!, extra[1]);
        expect(observe(overlay)).toEqual(observe(reference));
        expect(observe(after.reduce(apply, overlay))).toEqual(observe(after.reduce(apply, reference)));
      }),
      { numRuns: 300 },
    );
  });

  it('without a span or a value it is the parent itself', () => {
    const parent = ROOT_CONTEXT.setValue(keys[0]!, 1);
    expect(withSpan(parent, undefined)).toBe(parent);
  });
});
