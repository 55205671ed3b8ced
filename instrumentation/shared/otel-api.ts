/**
 * The OpenTelemetry API values the wrappers use, as plain module constants.
 *
 * Compiled to CommonJS, a package's `export { x } from` gives every name a getter, and the hot
 * paths read these names per message (`trace`, `context`, `SpanKind`, `TraceFlags`...): through the
 * getters that was a measurable share of a delivery's cost (see shared/vocabulary.ts for the
 * figures). The API's values are singletons and frozen enums, so reading them once here changes
 * nothing: `trace` and `context` still delegate to whatever provider and context manager are
 * registered when they are called.
 */
import * as api from '@opentelemetry/api';

export const trace = api.trace;
export const context = api.context;
export const propagation = api.propagation;
export const diag = api.diag;
export const SpanKind = api.SpanKind;
export const SpanStatusCode = api.SpanStatusCode;
export const TraceFlags = api.TraceFlags;
export const ROOT_CONTEXT = api.ROOT_CONTEXT;
export const INVALID_SPAN_CONTEXT = api.INVALID_SPAN_CONTEXT;
export const createContextKey = api.createContextKey;
export const createTraceState = api.createTraceState;
export const isSpanContextValid = api.isSpanContextValid;
