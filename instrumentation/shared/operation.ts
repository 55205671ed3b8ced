import { INVALID_SPAN_CONTEXT, diag } from './otel-api';
import type { Span, SpanContext } from '@opentelemetry/api';
import { ERROR_TYPE, LABEL } from './vocabulary';
import type { MessagingSystem } from '@eda-harness/semconv';
import type { MessagingMetrics, MetricLabels } from './metrics';
import { RECORD_ERROR_MESSAGES, errorType, failSpan } from './tap';
import type { ErrorDescriber, Tap } from './tap';
import { perfNow } from './clock';

/** How an operation (a send, a publish, a process, a get) ended. */
export interface Outcome {
  /** What it failed with, recorded on the span (status, exception, error.type); undefined on success. */
  readonly error?: unknown;
  /**
   * True when it failed even though `error` is undefined: a handler that rejected with no reason
   * (`Promise.reject()`, `throw undefined`). The span gets error.type `_OTHER` and status ERROR.
   */
  readonly failed?: boolean;
  /** error.type when it is not the error's class name. Without `error` (and `failed`) it labels the metrics only. */
  readonly type?: string | undefined;
}

/** What {@link finishOperation} hands to the metrics it records. */
export interface Finished {
  /** error.type of the outcome; undefined on success. */
  readonly type: string | undefined;
  /** Seconds from the operation's start to the end of its span. */
  readonly seconds: number;
  /** The ended span's context: the exemplar of duration histograms. */
  readonly spanContext: SpanContext;
}

/** True when the outcome is to be recorded on the span as a failure. */
function isFailure(outcome: Outcome): boolean {
  return outcome.failed === true || outcome.error !== undefined;
}

/** The outcome's error.type, computed without anything that can throw. */
function outcomeType(outcome: Outcome, failed: boolean): string | undefined {
  if (!failed) return outcome.type;
  return outcome.type ?? (outcome.error === undefined ? ERROR_TYPE.OTHER : errorType(outcome.error));
}

/** Records the failure (if any) and ends the span; the span ends even if recording throws. */
function closeSpan(span: Span, outcome: Outcome, failed: boolean, type: string | undefined, describer: ErrorDescriber): void {
  try {
    if (failed) failSpan(span, outcome.error, type, describer);
  } finally {
    span.end();
  }
}

/**
 * Records the outcome's error on the span (if any) and ends it. Returns the outcome's error.type.
 * Never throws, whatever the error is; `describer` is the tap's {@link Tap.describeError}.
 */
export function endSpan(span: Span, outcome: Outcome, describer: ErrorDescriber = RECORD_ERROR_MESSAGES): string | undefined {
  const failed = isFailure(outcome);
  const type = outcomeType(outcome, failed);
  try {
    closeSpan(span, outcome, failed, type, describer);
  } catch (err) {
    diag.error('eda-harness instrumentation: ending a span failed', err);
  }
  return type;
}

/**
 * The span half of {@link finishOperation} without allocating an outcome: records the failure (if
 * any) and ends the span, a failure of that reported as `span.end`. Returns error.type (undefined:
 * success). Never throws.
 */
export function closeOperationSpan(tap: Tap, span: Span | undefined, error: unknown, failed: boolean, typeOverride?: string): string | undefined {
  const isFailed = failed || error !== undefined;
  const type = isFailed ? (typeOverride ?? (error === undefined ? ERROR_TYPE.OTHER : errorType(error))) : typeOverride;
  if (span === undefined) return type;
  try {
    if (isFailed) {
      try {
        failSpan(span, error, type, tap.describeError);
      } finally {
        span.end();
      }
    } else {
      span.end();
    }
  } catch (err) {
    tap.guard.report('span.end', err);
  }
  return type;
}

/**
 * Ends an operation the one way every wrapper does: the span gets the outcome and ends, then
 * `record` counts the outcome and observes the duration, guarded by the tap. Never throws, and
 * `record` runs whatever happened to the span: an in-flight gauge must always come back down.
 */
export function finishOperation(tap: Tap, span: Span, startedPerf: number, outcome: Outcome, record: (m: MessagingMetrics, finished: Finished) => void): Finished {
  const failed = isFailure(outcome);
  const type = outcomeType(outcome, failed);
  try {
    closeSpan(span, outcome, failed, type, tap.describeError);
  } catch (err) {
    tap.guard.report('span.end', err);
  }
  let spanContext: SpanContext;
  try {
    spanContext = span.spanContext();
  } catch {
    spanContext = INVALID_SPAN_CONTEXT;
  }
  const finished: Finished = { type, seconds: (perfNow() - startedPerf) / 1000, spanContext };
  tap.record((m) => record(m, finished));
  return finished;
}

/** `labels` plus error.type, without copying on the (usual) success path. */
function withError(labels: MetricLabels, type: string | undefined): MetricLabels {
  return type === undefined ? labels : { ...labels, [LABEL.ERROR_TYPE]: type };
}

/** Producer side: `count` messages sent to `destination` by one operation, and its duration. */
export function countSent(m: MessagingMetrics, system: MessagingSystem, destination: string, operationName: string, count: number, finished: Finished): void {
  const labels: MetricLabels = {
    [LABEL.MESSAGING_SYSTEM]: system,
    [LABEL.MESSAGING_OPERATION_NAME]: operationName,
    [LABEL.MESSAGING_DESTINATION_NAME]: destination,
    [LABEL.ERROR_TYPE]: finished.type,
  };
  m.inc('SENT_MESSAGES', labels, count);
  m.observe('OPERATION_DURATION', labels, finished.seconds, finished.spanContext);
}

/**
 * Consumer side, at delivery: `count` messages in flight and consumed (semconv counts consumed
 * messages when the client receives them, whatever their processing does), `redeliveries` of them
 * seen before.
 */
export function countReceived(m: MessagingMetrics, labels: MetricLabels, count: number, redeliveries: number): void {
  m.add('IN_FLIGHT', labels, count);
  m.inc('CONSUMED_MESSAGES', labels, count);
  if (redeliveries > 0) m.inc('REDELIVERIES', labels, redeliveries);
}

/**
 * Consumer side, at the end of one process operation: `count` messages leave flight and are
 * processed with its outcome. One duration per operation: a batch's per-message durations would
 * all be the batch's.
 */
export function countProcessed(m: MessagingMetrics, labels: MetricLabels, count: number, finished: Finished): void {
  const outcome = withError(labels, finished.type);
  m.add('IN_FLIGHT', labels, -count);
  m.inc('MESSAGES_PROCESSED', outcome, count);
  m.observe('PROCESS_DURATION', outcome, finished.seconds, finished.spanContext);
}

/**
 * `count` messages processed with outcome `type` (undefined: success), counted only: the
 * per-message outcomes inside a batch, whose flight and duration the batch accounts for.
 */
export function countSettled(m: MessagingMetrics, labels: MetricLabels, count: number, type: string | undefined): void {
  m.inc('MESSAGES_PROCESSED', withError(labels, type), count);
}

/** `count` messages leave flight, nothing else counted (their outcomes are counted elsewhere). */
export function leaveFlight(m: MessagingMetrics, labels: MetricLabels, count: number): void {
  m.add('IN_FLIGHT', labels, -count);
}

/** The process operation's duration only, labelled with its outcome. */
export function observeProcess(m: MessagingMetrics, labels: MetricLabels, finished: Finished): void {
  m.observe('PROCESS_DURATION', withError(labels, finished.type), finished.seconds, finished.spanContext);
}

/**
 * Calls `fn` and tells `settle` how it ended without changing that: the same value or reason
 * comes back, as a promise. `failed` is true for a synchronous throw or a rejection, whatever the
 * reason (`Promise.reject()` and `throw undefined` fail too). `settle` must not throw.
 */
export function observeSettled(fn: () => unknown, settle: (err: unknown, failed: boolean) => void): Promise<unknown> {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    settle(err, true);
    throw err;
  }
  return Promise.resolve(result).then(
    (value) => {
      settle(undefined, false);
      return value;
    },
    (err: unknown) => {
      settle(err, true);
      throw err;
    },
  );
}
