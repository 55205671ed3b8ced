import type { Span, SpanContext } from '@opentelemetry/api';
import { LABEL } from '@eda-harness/semconv';
import type { MessagingSystem } from '@eda-harness/semconv';
import type { MessagingMetrics, MetricLabels } from './metrics';
import { errorType, failSpan } from './tap';
import type { Tap } from './tap';

/** How an operation (a send, a publish, a process, a get) ended. */
export interface Outcome {
  /** What it failed with, recorded on the span (status, exception, error.type); undefined on success. */
  readonly error?: unknown;
  /** error.type when it is not the error's class name. Without `error` it labels the metrics only. */
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

/** Records the outcome's error on the span (if any) and ends it. Returns the outcome's error.type. */
export function endSpan(span: Span, outcome: Outcome): string | undefined {
  const { error } = outcome;
  const type = error === undefined ? outcome.type : (outcome.type ?? errorType(error));
  if (error !== undefined) failSpan(span, error, type);
  span.end();
  return type;
}

/**
 * Ends an operation the one way every wrapper does: the span gets the outcome and ends, then
 * `record` counts the outcome and observes the duration, guarded by the tap (never throwing).
 */
export function finishOperation(tap: Tap, span: Span, startedPerf: number, outcome: Outcome, record: (m: MessagingMetrics, finished: Finished) => void): Finished {
  const type = endSpan(span, outcome);
  const finished: Finished = { type, seconds: (performance.now() - startedPerf) / 1000, spanContext: span.spanContext() };
  tap.record((m) => record(m, finished));
  return finished;
}

/** `labels` plus error.type, without copying on the (usual) success path. */
function withError(labels: MetricLabels, type: string | undefined): MetricLabels {
  return type === undefined ? labels : { ...labels, [LABEL.ERROR_TYPE]: type };
}

/** Producer side: `count` messages sent to `destination` by one operation, and its duration. */
export function countSent(m: MessagingMetrics, system: MessagingSystem, destination: string, operationName: string, count: number, finished: Finished): void {
  const labels: MetricLabels = { [LABEL.MESSAGING_SYSTEM]: system, [LABEL.MESSAGING_DESTINATION_NAME]: destination, [LABEL.ERROR_TYPE]: finished.type };
  m.inc('SENT_MESSAGES', labels, count);
  m.observe('OPERATION_DURATION', { ...labels, [LABEL.MESSAGING_OPERATION_NAME]: operationName }, finished.seconds, finished.spanContext);
}

/** Consumer side, at the start of processing: `count` messages in flight, `redeliveries` of them seen before. */
export function countReceived(m: MessagingMetrics, labels: MetricLabels, count: number, redeliveries: number): void {
  m.add('IN_FLIGHT', labels, count);
  if (redeliveries > 0) m.inc('REDELIVERIES', labels, redeliveries);
}

/**
 * Consumer side, at the end of processing: `count` messages leave flight and are consumed with the
 * outcome, in one process operation. One duration per operation: a batch's per-message durations
 * would all be the batch's.
 */
export function countProcessed(m: MessagingMetrics, labels: MetricLabels, count: number, finished: Finished): void {
  const outcome = withError(labels, finished.type);
  m.add('IN_FLIGHT', labels, -count);
  m.inc('CONSUMED_MESSAGES', outcome, count);
  m.observe('PROCESS_DURATION', outcome, finished.seconds, finished.spanContext);
}

/**
 * Calls `fn` and tells `settle` how it ended (a synchronous throw, a rejection or a value) without
 * changing that: the same value or reason comes back, as a promise. `settle` must not throw.
 */
export function observeSettled(fn: () => unknown, settle: (err: unknown) => void): Promise<unknown> {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    settle(err);
    throw err;
  }
  return Promise.resolve(result).then(
    (value) => {
      settle(undefined);
      return value;
    },
    (err: unknown) => {
      settle(err);
      throw err;
    },
  );
}
