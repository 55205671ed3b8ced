import { INVALID_SPAN_CONTEXT } from '../shared/otel-api';
import type { Span } from '@opentelemetry/api';
import { ATTR, DLQ_REASON, ERROR_TYPE, LABEL, MESSAGING_SYSTEM } from '../shared/vocabulary';
import { countProcessed, countSettled, endSpan, leaveFlight } from '../shared/operation';
import type { Finished, Outcome } from '../shared/operation';
import { perfNow, wallMs } from '../shared/clock';
import { errorType, recordE2e } from '../shared/tap';
import type { AmqpRuntime, ChannelState, Pending, Settlement } from './runtime';

/*
 * The life of an unsettled AMQP delivery, and the rule that counts each one exactly once.
 *
 * consume: at delivery it is in flight (+1) and consumed, and its process span opens. Then:
 * - ack / nack / reject / ackAll / nackAll, or the handler returning under noAck: the span ends
 *   with the settlement; the delivery is counted processed (in flight -1) with its outcome: ack
 *   and noAck succeed (and observe e2e stage=processed), nack is `nacked`, reject `rejected`.
 * - the handler throws or rejects (with anything, or nothing): the span ends with the error and the
 *   delivery is counted processed with that error. It stays tracked, spanless, so that a later
 *   nack(requeue=false) still counts its dead-letter event; that settle is not counted again.
 * - not settled within settleTimeoutMs (default 30 minutes, RabbitMQ's consumer_timeout): only the
 *   SPAN ends, with error.type=timeout, because a trace cannot wait for ever. The metrics wait for
 *   the real outcome: the delivery is still unacknowledged at the broker, so it stays in flight, and
 *   a late settle is counted then with its real outcome and duration. A timeout is therefore never
 *   an error in the metrics, and nothing is counted twice.
 * - its channel closes first (RabbitMQ closes the channel of a delivery past consumer_timeout):
 *   counted processed with channel_closed (and the span, if still open, ends with it).
 * - more than maxPendingDeliveries unsettled on one channel: the oldest is given up, counted
 *   processed with `timeout`, and forgotten (memory stays bounded); a settle of it is then ignored.
 * - uninstrument: open spans end without an error and the deliveries leave the in-flight gauge,
 *   without an outcome (nobody knows it).
 *
 * get: the receive span has ended by the time the message is returned. Its settle is counted
 * processed (operation `receive`) by the same rules, without in-flight gauge or duration.
 */

const OK: Outcome = {};

/** Keeps an unsettled delivery until it is settled or its channel closes. */
export function track(rt: AmqpRuntime, state: ChannelState, p: Pending): void {
  if (state.pending.size >= rt.maxPendingDeliveries) {
    const oldest = state.pending.values().next().value;
    if (oldest) abandon(rt, state, oldest, ERROR_TYPE.TIMEOUT);
  }
  state.pending.set(p.deliveryTag, p);
  if (rt.sweeper.timer === undefined) startSweeper(rt);
}

/** ack / nack / reject of one tracked delivery, after amqplib accepted it. */
export function settle(rt: AmqpRuntime, state: ChannelState, p: Pending, how: 'ack' | 'nack' | 'reject', requeue: boolean | undefined): void {
  state.pending.delete(p.deliveryTag);
  const type = how === 'ack' ? undefined : how === 'nack' ? ERROR_TYPE.NACKED : ERROR_TYPE.REJECTED;
  const dlx = requeue === false ? rt.destinations.deadLetterOf(p.queue) : undefined;
  if (dlx !== undefined) {
    // The source as the delivery's labels name it: a temporary queue's placeholder, not its name.
    const source = p.labels[LABEL.MESSAGING_DESTINATION_NAME] ?? p.queue;
    // The group as the delivery's consumed metric names it (none for AMQP today), so the ratio of
    // dead letters to consumption matches per group.
    const group = p.labels[LABEL.MESSAGING_CONSUMER_GROUP_NAME];
    rt.tap.record((m) =>
      m.inc('DLQ_MESSAGES', { [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ, [LABEL.SOURCE]: source, [LABEL.DLQ]: dlx, [LABEL.REASON]: DLQ_REASON.REJECTED, [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: group }),
    );
  }
  const span = takeSpan(p);
  if (span) {
    if (type === undefined) {
      // Acked: nothing to describe but the settlement, and only on a span that records.
      try {
        if (span.isRecording()) span.setAttribute(ATTR.EDA_SETTLEMENT, how);
        span.end();
      } catch (err) {
        rt.tap.guard.report('span.end', err);
      }
    } else {
      describe(span, how, requeue, dlx);
      endSpan(span, { error: new Error(`message ${type} by the consumer`), type }, rt.tap.describeError);
    }
  }
  count(rt, p, type, how === 'ack');
}

/** noAck: the handler returned (or resolved), so amqplib's automatic ack stands. */
export function settledAutomatically(rt: AmqpRuntime, p: Pending): void {
  const span = takeSpan(p);
  if (span) {
    describe(span, 'auto', undefined, undefined);
    endSpan(span, OK, rt.tap.describeError);
  }
  count(rt, p, undefined, true);
}

/** The handler threw or rejected, with `err` whatever it is (undefined included). */
export function handlerFailed(rt: AmqpRuntime, p: Pending, err: unknown): void {
  const span = takeSpan(p);
  const type = span ? endSpan(span, { error: err, failed: true }, rt.tap.describeError) : errorType(err);
  count(rt, p, type, false);
}

/** Given up: its channel closed (channel_closed) or too many were unsettled (timeout). Counted and forgotten. */
export function abandon(rt: AmqpRuntime, state: ChannelState, p: Pending, type: string): void {
  state.pending.delete(p.deliveryTag);
  const span = takeSpan(p);
  if (span) {
    describe(span, 'none', undefined, undefined);
    endSpan(span, { error: new Error(`delivery not settled: ${type}`), type }, rt.tap.describeError);
  }
  count(rt, p, type, false);
}

/** Uninstrumented: the span ends without an outcome, and the delivery leaves the in-flight gauge. */
export function release(rt: AmqpRuntime, state: ChannelState, p: Pending): void {
  state.pending.delete(p.deliveryTag);
  const span = takeSpan(p);
  if (span) {
    describe(span, 'none', undefined, undefined);
    endSpan(span, OK, rt.tap.describeError);
  }
  if (p.counted) return;
  p.counted = true;
  if (p.operation === 'process') rt.tap.record((m) => leaveFlight(m, p.labels, 1));
}

/** The settle timeout passed: the span ends with error.type=timeout; the metrics wait for the settle. */
function timedOut(rt: AmqpRuntime, p: Pending): void {
  const span = takeSpan(p);
  if (!span) return;
  describe(span, 'none', undefined, undefined);
  endSpan(span, { error: new Error(`delivery not settled within ${rt.settleTimeoutMs} ms`), type: ERROR_TYPE.TIMEOUT }, rt.tap.describeError);
}

function takeSpan(p: Pending): Span | undefined {
  const span = p.span;
  p.span = undefined;
  return span;
}

/** Settlement attributes; a broken span implementation must not keep the span from ending. */
function describe(span: Span, how: Settlement, requeue: boolean | undefined, dlx: string | undefined): void {
  try {
    span.setAttribute(ATTR.EDA_SETTLEMENT, how);
    if (requeue !== undefined) span.setAttribute(ATTR.EDA_REQUEUE, requeue);
    if (dlx !== undefined) span.setAttribute(ATTR.EDA_DEAD_LETTER_EXCHANGE, dlx);
  } catch {
    /* the span still ends */
  }
}

/** Counts the delivery's outcome once (see the rules above). */
function count(rt: AmqpRuntime, p: Pending, type: string | undefined, success: boolean): void {
  if (p.counted) return;
  p.counted = true;
  const cells = p.cells;
  if (cells !== undefined && type === undefined && success) {
    // The hot path: bound series, one clock read.
    const endPerf = perfNow();
    cells.processed((endPerf - p.startedPerf) / 1000, p.producedAt, wallMs(endPerf), p.exemplar);
    return;
  }
  const spanContext = p.spanContext ?? INVALID_SPAN_CONTEXT;
  if (p.operation === 'process') {
    const finished: Finished = { type, seconds: (perfNow() - p.startedPerf) / 1000, spanContext };
    rt.tap.record((m) => countProcessed(m, p.labels, 1, finished));
  } else {
    rt.tap.record((m) => countSettled(m, p.labels, 1, type));
  }
  if (success) recordE2e(rt.tap, p.labels, p.producedAt, 'processed', Date.now(), spanContext);
}

function startSweeper(rt: AmqpRuntime): void {
  const every = Math.max(50, Math.min(rt.settleTimeoutMs / 2, 30_000));
  // Unref'd: it never keeps the process alive; it stops itself once nothing is tracked.
  const timer = setInterval(() => rt.tap.guard.run('amqp.sweep', () => sweep(rt)), every);
  timer.unref();
  rt.sweeper.timer = timer;
}

export function stopSweeper(rt: AmqpRuntime): void {
  if (rt.sweeper.timer !== undefined) clearInterval(rt.sweeper.timer);
  rt.sweeper.timer = undefined;
}

/** Ends the spans of deliveries unsettled past the timeout, on every live channel. */
export function sweep(rt: AmqpRuntime): void {
  const cutoff = Date.now() - rt.settleTimeoutMs;
  let tracked = 0;
  rt.channels.forEach((state) => {
    tracked += state.pending.size;
    for (const p of state.pending.values()) if (p.span && p.startedMs <= cutoff) timedOut(rt, p);
  });
  if (tracked === 0) stopSweeper(rt);
}
