import { TraceFlags, trace } from './otel-api';
import type { Context, Span, SpanContext } from '@opentelemetry/api';
import { SUPPRESS_TRACING_KEY, isFastExtracted, markMadeValid } from './header-codec';

/** Two hex digits per byte value. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16));

/** A random span id: 16 lower-case hex digits, never all zero (as the SDK's RandomIdGenerator gives). */
export function randomSpanId(): string {
  const hi = (Math.random() * 0x1_0000_0000) >>> 0;
  let lo = (Math.random() * 0x1_0000_0000) >>> 0;
  if (hi === 0 && lo === 0) lo = 1;
  return (
    HEX_BYTE[hi >>> 24]! + HEX_BYTE[(hi >>> 16) & 255]! + HEX_BYTE[(hi >>> 8) & 255]! + HEX_BYTE[hi & 255]! +
    HEX_BYTE[lo >>> 24]! + HEX_BYTE[(lo >>> 16) & 255]! + HEX_BYTE[(lo >>> 8) & 255]! + HEX_BYTE[lo & 255]!
  );
}

/**
 * For followParentSampling on the send paths: the span a ParentBased sampler (with its default
 * AlwaysOff for unsampled parents) makes the SDK return for a child of `parent` when that parent
 * is valid and unsampled, made without the SDK: a non-recording span in the parent's trace, with
 * a new span id, unsampled flags and the parent's trace state. What it carries downstream is what
 * the SDK's would; the sampler, the id generator, the attribute copy and the span limits are
 * skipped. undefined whenever the SDK must decide: no parent, an invalid or sampled one, or
 * tracing suppressed (the SDK then returns a span with no valid context).
 */
export function unsampledChild(parent: Context): Span | undefined {
  const sc = trace.getSpanContext(parent);
  if (sc === undefined || (sc.traceFlags & TraceFlags.SAMPLED) !== 0) return undefined;
  if (parent.getValue(SUPPRESS_TRACING_KEY) === true) return undefined;
  if (sc !== lastValidParent && !isFastExtracted(sc)) {
    if (!trace.isSpanContextValid(sc)) return undefined;
    // A handler often sends several messages under one parent: validated once.
    lastValidParent = sc;
  }
  const child: SpanContext = sc.traceState === undefined ? { traceId: sc.traceId, spanId: randomSpanId(), traceFlags: TraceFlags.NONE } : { traceId: sc.traceId, spanId: randomSpanId(), traceFlags: TraceFlags.NONE, traceState: sc.traceState };
  markMadeValid(child);
  return trace.wrapSpanContext(child);
}

/** The parent span context unsampledChild validated last. */
let lastValidParent: SpanContext | undefined;
