import { ROOT_CONTEXT, SpanStatusCode, diag, trace } from './otel-api';
import type { Context, Exception, Link, Span, SpanContext, SpanOptions, Tracer } from '@opentelemetry/api';
import { ATTR, E2E_STAGE, ERROR_TYPE, LABEL } from './vocabulary';
import type { CommonInstrumentationOptions, ErrorMessageMode, ProcessContextMode } from '../types';
import { createGuard } from './guard';
import type { Guard } from './guard';
import { messagingMetrics } from './metrics';
import type { MessagingMetrics, MetricLabels } from './metrics';
import { packageVersionSafe } from './version';
import { unsampledChild } from './unsampled-child';

/**
 * What every wrapper needs, built once per instrument*() call from its options: a tracer, the
 * metrics (or none), a guard for telemetry code, and the small decisions shared by Kafka and AMQP.
 */
export interface Tap {
  readonly tracer: Tracer;
  readonly metrics: MessagingMetrics | undefined;
  readonly guard: Guard;
  readonly processContext: ProcessContextMode;
  /** See {@link CommonInstrumentationOptions.followParentSampling}. */
  readonly followParentSampling: boolean;
  /** See {@link CommonInstrumentationOptions.linkProducerParent}. */
  readonly linkProducerParent: boolean;
  /** How failed spans describe their error (the errorMessages option); pass it to failSpan / endSpan. */
  readonly describeError: ErrorDescriber;
  /**
   * `tracer.startSpan` for the spans a send starts (publish, Kafka send, create and transaction):
   * with followParentSampling, a child of an unsampled parent is made without the SDK, as a
   * ParentBased sampler would have it (see unsampledChild).
   */
  startSendSpan(name: string, options: SpanOptions, parent: Context): Span;
  /** Records a metric, never throwing. */
  record(fn: (m: MessagingMetrics) => void): void;
}

const TRACER_NAME = 'eda-harness';

export function createTap(options: CommonInstrumentationOptions): Tap {
  let metrics: MessagingMetrics | undefined;
  const guard = createGuard(options.logger, (hook) => {
    try {
      metrics?.inc('INSTRUMENTATION_ERRORS', { [LABEL.HOOK]: hook });
    } catch {
      /* counting a failure must not fail */
    }
  });
  if (options.metrics !== false) {
    metrics = guard.run('metrics.create', () =>
      messagingMetrics({
        ...(options.registry ? { registry: options.registry } : {}),
        ...(options.exemplars !== undefined ? { exemplars: options.exemplars } : {}),
        ...(options.maxSeriesPerMetric !== undefined ? { maxSeriesPerMetric: options.maxSeriesPerMetric } : {}),
      }),
    );
  }
  const provider = options.tracerProvider;
  // The global provider is a proxy: a tracer taken now follows an SDK registered later.
  const tracer = (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, packageVersionSafe());
  return {
    tracer,
    metrics,
    guard,
    processContext: options.processContext ?? 'auto',
    followParentSampling: options.followParentSampling === true,
    linkProducerParent: options.linkProducerParent !== false,
    describeError: errorDescriber(options.errorMessages, guard),
    startSendSpan:
      options.followParentSampling === true
        ? (name, spanOptions, parent) => unsampledChild(parent) ?? tracer.startSpan(name, spanOptions, parent)
        : (name, spanOptions, parent) => tracer.startSpan(name, spanOptions, parent),
    record(fn) {
      if (!metrics) return;
      const m = metrics;
      guard.run('metrics.record', () => fn(m));
    },
  };
}

/**
 * `error.type` for a thrown value: its class name, or _OTHER. Never throws, whatever was thrown
 * (a revoked Proxy, an Error whose `constructor` or `name` getter throws...).
 */
export function errorType(err: unknown): string {
  if (!isError(err)) return ERROR_TYPE.OTHER;
  const name = readString(() => (err.constructor as { name?: unknown } | undefined)?.name) ?? readString(() => err.name);
  return name && name !== 'Object' ? name : ERROR_TYPE.OTHER;
}

/** Status description of a failure without a reason (`Promise.reject()`, `throw undefined`, `throw null`). */
export const NO_REASON_DESCRIPTION = 'failed without a reason';

/**
 * How a failed span describes its error, resolved once per instrument*() call from the
 * errorMessages option: handler error messages often quote payload text (personal data).
 */
export interface ErrorDescriber {
  /** Text for the span status and exception.message; undefined to omit it (the status then says error.type). */
  message(err: unknown): string | undefined;
  /** Whether the exception event may carry the stack trace (its first line repeats the raw message). */
  readonly stack: boolean;
}

/** errorMessages: 'record' (the default). */
export const RECORD_ERROR_MESSAGES: ErrorDescriber = { message: rawMessage, stack: true };
const OMIT_ERROR_MESSAGES: ErrorDescriber = { message: () => undefined, stack: false };

function errorDescriber(mode: ErrorMessageMode | undefined, guard: Guard): ErrorDescriber {
  if (mode === 'omit') return OMIT_ERROR_MESSAGES;
  if (typeof mode !== 'function') return RECORD_ERROR_MESSAGES;
  return {
    stack: false,
    message(err) {
      // The user's redaction: anything but a string (or a throw) means omit, never the raw text.
      const text = guard.run('errorMessages', () => mode(err));
      return typeof text === 'string' ? text : undefined;
    },
  };
}

/**
 * Marks `span` failed with `err`: error.type, an exception event for Error values, status ERROR
 * with a description per `describer`. Never throws, whatever `err` is; does not end the span.
 */
export function failSpan(span: Span, err: unknown, type = errorType(err), describer: ErrorDescriber = RECORD_ERROR_MESSAGES): void {
  try {
    span.setAttribute(ATTR.ERROR_TYPE, type);
    const message = err === undefined || err === null ? NO_REASON_DESCRIPTION : describer.message(err);
    if (isError(err)) span.recordException(exceptionOf(err, type, message, describer.stack));
    span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? type });
  } catch (failure) {
    // Only a broken Span implementation gets here; the caller still ends the span.
    diag.error('eda-harness instrumentation: recording an error on a span failed', failure);
  }
}

/** `err instanceof Error`, false for a value that throws when asked (a revoked Proxy). */
function isError(err: unknown): err is Error {
  try {
    return err instanceof Error;
  } catch {
    return false;
  }
}

/** A non-empty string from `read`, or undefined when it is not one or throws. */
function readString(read: () => unknown): string | undefined {
  try {
    const v = read();
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The thrown value's own message: an Error's message, anything else as a string (if it can be one). */
function rawMessage(err: unknown): string | undefined {
  if (isError(err)) return readString(() => err.message);
  return readString(() => String(err));
}

/**
 * A plain copy of what the SDK's recordException reads (code, name, message, stack), each read
 * guarded: the SDK would read the thrown Error's getters itself, and they may throw.
 */
function exceptionOf(err: Error, type: string, message: string | undefined, stack: boolean): Exception {
  // Like the SDK: a Node system error's code (ECONNREFUSED) is its exception.type, else its name.
  const name = readString(() => {
    const code: unknown = (err as { code?: unknown }).code;
    return typeof code === 'number' && code !== 0 ? String(code) : code;
  }) ?? readString(() => err.name) ?? type;
  const exception: { name: string; message?: string; stack?: string } = { name };
  if (message !== undefined) exception.message = message;
  if (stack) {
    const stackTrace = readString(() => err.stack);
    if (stackTrace !== undefined) exception.stack = stackTrace;
  }
  return exception;
}

/**
 * Parent and links for a process span, per {@link ProcessContextMode}. `producer` is the context
 * extracted from the message; `ambient` is whatever is active where the handler is called.
 */
export function processParent(mode: ProcessContextMode, producer: Context, ambient: Context, linkParent = true): { parent: Context; links: Link[] } {
  const producerSc = trace.getSpanContext(producer);
  const ambientSc = trace.getSpanContext(ambient);
  const links: Link[] = [];
  const link = (sc: SpanContext | undefined) => {
    if (sc && trace.isSpanContextValid(sc)) links.push({ context: sc });
  };
  const hasProducer = producerSc !== undefined && trace.isSpanContextValid(producerSc);
  const hasAmbient = ambientSc !== undefined && trace.isSpanContextValid(ambientSc);
  if (mode === 'link' || (mode === 'auto' && hasAmbient) || !hasProducer) {
    link(producerSc);
    return { parent: hasAmbient ? ambient : ROOT_CONTEXT, links };
  }
  // Parent on the producer's context (carrying its baggage too); keep the link the conventions ask for
  // (unless linkProducerParent is off: the parent says the same).
  if (linkParent) link(producerSc);
  if (mode === 'parent') link(ambientSc);
  return { parent: producer, links };
}

const stageLabels = new WeakMap<MetricLabels, { received: MetricLabels; processed: MetricLabels }>();

/** `labels` + stage, built once per label object (callers reuse theirs per topic / queue). */
export function withStage(labels: MetricLabels, stage: 'received' | 'processed'): MetricLabels {
  let pair = stageLabels.get(labels);
  if (!pair) {
    pair = { received: Object.freeze({ ...labels, [LABEL.STAGE]: E2E_STAGE.RECEIVED }), processed: Object.freeze({ ...labels, [LABEL.STAGE]: E2E_STAGE.PROCESSED }) };
    stageLabels.set(labels, pair);
  }
  return pair[stage];
}

/** Records produced-at → now in the e2e histogram, or counts it as negative (clock skew). */
export function recordE2e(tap: Tap, labels: MetricLabels, producedAtMs: number | undefined, stage: 'received' | 'processed', nowMs: number, exemplar?: SpanContext): void {
  if (producedAtMs === undefined) return;
  const seconds = (nowMs - producedAtMs) / 1000;
  tap.record((m) => {
    if (seconds < 0) {
      if (stage === E2E_STAGE.RECEIVED) m.inc('E2E_NEGATIVE_LATENCY', labels);
      return;
    }
    m.observe('E2E_LATENCY', withStage(labels, stage), seconds, exemplar);
  });
}
