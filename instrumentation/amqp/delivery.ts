import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { ConsumeMessage, Message, Options } from 'amqplib';
import { AMQP_DEFAULT_EXCHANGE, ATTR, DLQ_REASON, ERROR_TYPE, LABEL, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME, isAnonymousQueue } from '@eda-harness/semconv';
import { extractContext, readProducedAt } from '../shared/header-codec';
import type { MetricLabels } from '../shared/metrics';
import { countProcessed, countReceived, finishOperation } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { errorType, failSpan, processParent, recordE2e } from '../shared/tap';
import { channelSpanAttributes } from './runtime';
import type { AmqpRuntime, ChannelState, Pending, Settlement } from './runtime';

const DEFAULT_MAX_PENDING = 10_000;

function queueLabel(queue: string): string {
  return isAnonymousQueue(queue) ? '(anonymous)' : queue;
}

const labelsByQueue = new Map<string, MetricLabels>();

/** Per-queue label object, reused for every delivery (the metrics layer caches by identity too). */
export function consumeLabels(queue: string): MetricLabels {
  let labels = labelsByQueue.get(queue);
  if (!labels) {
    if (labelsByQueue.size >= 10_000) labelsByQueue.clear();
    labels = Object.freeze({ [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ, [LABEL.MESSAGING_DESTINATION_NAME]: queueLabel(queue) });
    labelsByQueue.set(queue, labels);
  }
  return labels;
}

/** Span attributes of a message taken from `queue`, by consume (process) or get (receive). */
export function deliveryAttributes(queue: string, msg: Message, state: ChannelState, operation: 'process' | 'receive'): Attributes {
  const { fields, properties } = msg;
  const exchange = fields.exchange === '' ? AMQP_DEFAULT_EXCHANGE : fields.exchange;
  const a = channelSpanAttributes(
    state,
    operation === 'process' ? OPERATION_NAME.RABBITMQ_PROCESS : OPERATION_NAME.RABBITMQ_RECEIVE,
    operation === 'process' ? OPERATION_TYPE.PROCESS : OPERATION_TYPE.RECEIVE,
    // Consumer-side destination per the conventions: {exchange}:{routing key}:{queue}.
    `${exchange}:${fields.routingKey}:${queue}`,
  );
  a[ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG] = fields.deliveryTag;
  a[ATTR.EDA_REDELIVERED] = fields.redelivered === true;
  if (isAnonymousQueue(queue)) a[ATTR.MESSAGING_DESTINATION_ANONYMOUS] = true;
  if (fields.routingKey) a[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = fields.routingKey;
  if (typeof properties?.messageId === 'string') a[ATTR.MESSAGING_MESSAGE_ID] = properties.messageId;
  if (typeof properties?.correlationId === 'string') a[ATTR.MESSAGING_MESSAGE_CONVERSATION_ID] = properties.correlationId;
  return a;
}

/**
 * consume: a process span per message, which ends when the application settles the message
 * (ack / nack / reject / ackAll / nackAll), when the handler fails, or, with noAck, when it returns.
 */
export function getConsumePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedConsume(this: unknown, ...args: unknown[]): unknown {
    const [queue, onMessage, options] = args;
    if (typeof queue !== 'string' || typeof onMessage !== 'function') return original.apply(this, args);
    const noAck = (options as Options.Consume | undefined)?.noAck === true;
    const wrapped = function tracedOnMessage(this: unknown, msg: ConsumeMessage | null): unknown {
      if (msg === null) return (onMessage as AnyFunction).call(this, msg); // consumer cancelled by the broker
      const pending = rt.tap.guard.run('amqp.consume.start', () => startDelivery(rt, state, queue, msg, noAck));
      if (!pending) return (onMessage as AnyFunction).call(this, msg);
      const spanCtx = pending.span ? trace.setSpan(pending.parent, pending.span) : pending.parent;
      let result: unknown;
      try {
        result = context.with(spanCtx, () => (onMessage as AnyFunction).call(this, msg));
      } catch (err) {
        rt.tap.guard.run('amqp.consume.error', () => handlerFailed(rt, pending.record, err));
        throw err; // unchanged, to amqplib (its 'handler-error' event or the connection)
      }
      if (isThenable(result)) {
        // Observe without swallowing: amqplib ignores the handler's promise, so its rejection was
        // unhandled before we came; rethrowing keeps it unhandled, with the same reason.
        // Promise.resolve: a foreign thenable cannot call back (and throw) synchronously into us.
        void Promise.resolve(result).then(
          () => {
            if (noAck) rt.tap.guard.run('amqp.consume.end', () => finishDelivery(rt, pending.record, 'auto', undefined, undefined));
          },
          (err: unknown) => {
            rt.tap.guard.run('amqp.consume.error', () => handlerFailed(rt, pending.record, err));
            throw err;
          },
        );
      } else if (noAck) {
        rt.tap.guard.run('amqp.consume.end', () => finishDelivery(rt, pending.record, 'auto', undefined, undefined));
      }
      return result;
    };
    return original.apply(this, [queue, wrapped, ...args.slice(2)]);
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function startDelivery(rt: AmqpRuntime, state: ChannelState, queue: string, msg: ConsumeMessage, noAck: boolean): { record: Pending; parent: Context; span: Span | undefined } {
  const now = Date.now();
  const headers = msg.properties?.headers;
  const producer = extractContext(headers);
  // Push delivery: the context amqplib's socket callbacks carry (whatever was active at connect())
  // is not the message's; only the producer's context counts.
  const { parent, links } = processParent(rt.tap.processContext, producer, ROOT_CONTEXT);
  const attributes = deliveryAttributes(queue, msg, state, 'process');
  const producedAt = readProducedAt(headers);
  if (producedAt !== undefined) attributes[ATTR.EDA_E2E_LATENCY_MS] = now - producedAt;
  const span = rt.tap.tracer.startSpan(SPAN_NAME.amqpProcess(queue), { kind: SpanKind.CONSUMER, attributes, links }, parent);
  if (rt.options.consumeHook) {
    const hook = rt.options.consumeHook;
    rt.tap.guard.run('amqp.consumeHook', () => hook(span, { queue, deliveryTag: msg.fields.deliveryTag }));
  }
  const labels = consumeLabels(queue);
  const record: Pending = { deliveryTag: msg.fields.deliveryTag, queue, labels, startedPerf: performance.now(), startedMs: now, producedAt, span, finished: false };
  rt.tap.record((m) => countReceived(m, labels, 1, msg.fields.redelivered ? 1 : 0));
  recordE2e(rt.tap, labels, producedAt, 'received', now, span.spanContext());
  if (!noAck) track(rt, state, record);
  return { record, parent, span };
}

/** Keeps an unsettled delivery until it is settled, swept or its channel closes. */
export function track(rt: AmqpRuntime, state: ChannelState, record: Pending): void {
  const max = rt.options.maxPendingDeliveries ?? DEFAULT_MAX_PENDING;
  if (state.pending.size >= max) {
    // Bounded memory: the oldest unsettled delivery is given up on.
    const oldest = state.pending.values().next().value;
    if (oldest) giveUp(rt, state, oldest, ERROR_TYPE.TIMEOUT);
  }
  state.pending.set(record.deliveryTag, record);
}

/** Ends a delivery nobody settled (timeout, channel closed, or instrumentation removed) and forgets it. */
export function giveUp(rt: AmqpRuntime, state: ChannelState, record: Pending, type: string | undefined): void {
  finishDelivery(rt, record, 'none', type, undefined);
  state.pending.delete(record.deliveryTag);
}

/**
 * The handler threw or rejected: its span and metrics end now. The delivery may still be
 * unsettled at the broker, so its record stays pending (spanless) and a later nack still counts.
 */
function handlerFailed(rt: AmqpRuntime, record: Pending, err: unknown): void {
  if (record.finished) return;
  if (record.span) failSpan(record.span, err);
  endRecord(rt, record, 'none', errorType(err));
}

/** Ends the span and records the metrics of a delivery, once. */
function endRecord(rt: AmqpRuntime, record: Pending, how: Settlement, type: string | undefined): void {
  if (record.finished) return;
  record.finished = true;
  const span = record.span;
  record.span = undefined;
  if (!span) return; // `get`: its receive span is long gone and counted already
  span.setAttribute(ATTR.EDA_SETTLEMENT, how);
  const finished = finishOperation(rt.tap, span, record.startedPerf, { error: settlementError(how, type), type }, (m, f) => countProcessed(m, record.labels, 1, f));
  if (how === 'ack' || how === 'auto') recordE2e(rt.tap, record.labels, record.producedAt, 'processed', Date.now(), finished.spanContext);
}

/**
 * The error a settlement puts on the span: a nack or reject, or a delivery nobody settled. A
 * handler error is on the span already (handlerFailed), so it labels the metrics only.
 */
function settlementError(how: Settlement, type: string | undefined): Error | undefined {
  if (type === undefined) return undefined;
  if (how === 'nack' || how === 'reject') return new Error(`message ${how === 'nack' ? 'nacked' : 'rejected'} by the consumer`);
  if (type === ERROR_TYPE.TIMEOUT || type === ERROR_TYPE.CHANNEL_CLOSED) return new Error(`delivery not settled: ${type}`);
  return undefined;
}

/** Settles a delivery: span end, metrics, and a DLQ event when it was dead-lettered. */
function finishDelivery(rt: AmqpRuntime, record: Pending, how: Settlement, type: string | undefined, requeue: boolean | undefined): void {
  if (requeue !== undefined && record.span) record.span.setAttribute(ATTR.EDA_REQUEUE, requeue);
  if ((how === 'nack' || how === 'reject') && requeue === false) {
    const dlq = rt.deadLetter.get(record.queue);
    if (dlq !== undefined) {
      record.span?.setAttribute(ATTR.EDA_DEAD_LETTER_EXCHANGE, dlq);
      rt.tap.record((m) => m.inc('DLQ_MESSAGES', { [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ, [LABEL.SOURCE]: record.queue, [LABEL.DLQ]: dlq, [LABEL.REASON]: DLQ_REASON.REJECTED }));
    }
  }
  endRecord(rt, record, how, type);
}

/** ack / nack / reject: amqplib first (if it throws, nothing was settled and the error is the caller's). */
export function getSettlePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack' | 'reject'): AnyFunction {
  return function tracedSettle(this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    rt.tap.guard.run(`amqp.${how}`, () => {
      const message = args[0] as Message | undefined;
      const tag = message?.fields?.deliveryTag;
      if (typeof tag !== 'number') return;
      const allUpTo = how !== 'reject' && args[1] === true;
      // amqplib's defaults: nack(msg, allUpTo=false, requeue=true), reject(msg, requeue=true).
      const requeueArg = how === 'nack' ? args[2] : how === 'reject' ? args[1] : undefined;
      const requeue = how === 'ack' ? undefined : requeueArg !== false;
      const targets = allUpTo ? [...state.pending.values()].filter((p) => p.deliveryTag <= tag) : [state.pending.get(tag)].filter((p): p is Pending => p !== undefined);
      for (const p of targets) settleOne(rt, state, p, how, requeue);
    });
    return result;
  };
}

/** ackAll / nackAll: every delivery this channel still tracks. */
export function getSettleAllPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack'): AnyFunction {
  return function tracedSettleAll(this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    rt.tap.guard.run(`amqp.${how}All`, () => {
      const requeue = how === 'ack' ? undefined : args[0] !== false;
      for (const p of [...state.pending.values()]) settleOne(rt, state, p, how, requeue);
    });
    return result;
  };
}

function settleOne(rt: AmqpRuntime, state: ChannelState, p: Pending, how: 'ack' | 'nack' | 'reject', requeue: boolean | undefined): void {
  state.pending.delete(p.deliveryTag);
  const type = how === 'ack' ? undefined : how === 'nack' ? ERROR_TYPE.NACKED : ERROR_TYPE.REJECTED;
  finishDelivery(rt, p, how, type, requeue);
}
