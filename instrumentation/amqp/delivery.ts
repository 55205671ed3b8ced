import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { ATTR, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME, rabbitMqConsumeDestination } from '@eda-harness/semconv';
import type { DestinationKind } from '@eda-harness/semconv';
import { extractContext, readProducedAt } from '../shared/header-codec';
import { countReceived } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { processParent, recordE2e } from '../shared/tap';
import { REPLY_TO_KEY, flagDestination } from './destinations';
import { channelSpanAttributes, isThenable } from './runtime';
import type { AmqpRuntime, ChannelState, Pending } from './runtime';
import { handlerFailed, settle, settledAutomatically, track } from './settle';

/**
 * Span attributes of a message taken from `queue`, by consume (process) or get (receive).
 * `messaging.destination.name` is the real one (semconv v1.44: `{exchange}:{routing key}:{queue}`,
 * empty parts omitted, routing key and queue once when equal); the span name and metric labels
 * use `kind`'s placeholder for temporary and anonymous queues.
 */
export function deliveryAttributes(queue: string, msg: Message, state: ChannelState, operation: 'process' | 'receive', kind: DestinationKind): Attributes {
  const { fields, properties } = msg;
  const exchange = typeof fields.exchange === 'string' ? fields.exchange : '';
  const routingKey = typeof fields.routingKey === 'string' ? fields.routingKey : '';
  const a = channelSpanAttributes(
    state,
    operation === 'process' ? OPERATION_NAME.RABBITMQ_PROCESS : OPERATION_NAME.RABBITMQ_RECEIVE,
    operation === 'process' ? OPERATION_TYPE.PROCESS : OPERATION_TYPE.RECEIVE,
  );
  const destination = rabbitMqConsumeDestination(exchange, routingKey, queue);
  if (destination !== '') a[ATTR.MESSAGING_DESTINATION_NAME] = destination;
  flagDestination(a, kind);
  a[ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG] = fields.deliveryTag;
  a[ATTR.EDA_REDELIVERED] = fields.redelivered === true;
  if (routingKey !== '') a[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = routingKey;
  if (typeof properties?.messageId === 'string') a[ATTR.MESSAGING_MESSAGE_ID] = properties.messageId;
  if (typeof properties?.correlationId === 'string') a[ATTR.MESSAGING_MESSAGE_CONVERSATION_ID] = properties.correlationId;
  return a;
}

/** `options.noAck`, read the way amqplib reads it (a throwing getter makes amqplib throw too, later). */
export function readNoAck(options: unknown): boolean {
  try {
    return (options as { noAck?: unknown } | null | undefined)?.noAck === true;
  } catch {
    return false;
  }
}

/**
 * consume: a process span per message, which ends when the application settles the message
 * (ack / nack / reject / ackAll / nackAll), when the handler fails, or, with noAck, when it returns.
 */
export function getConsumePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedConsume(this: unknown, ...args: unknown[]): unknown {
    const [queue, onMessage, options] = args;
    if (typeof queue !== 'string' || typeof onMessage !== 'function') return original.apply(this, args);
    const noAck = readNoAck(options);
    const handler = onMessage as AnyFunction;
    const wrapped = function tracedOnMessage(this: unknown, msg: Message | null): unknown {
      if (msg === null || typeof msg !== 'object') return handler.call(this, msg); // null: consumer cancelled by the broker
      const started = rt.tap.guard.run('amqp.consume.start', () => startDelivery(rt, state, queue, msg, noAck));
      if (!started) return handler.call(this, msg);
      const record = started.record;
      let result: unknown;
      try {
        result = context.with(started.ctx, handler, this, msg);
      } catch (err) {
        rt.tap.guard.run('amqp.consume.error', () => handlerFailed(rt, record, err));
        throw err; // unchanged, to amqplib (its 'handler-error' event or the connection)
      }
      if (isThenable(result)) {
        // Observe without swallowing: amqplib ignores the handler's promise, so its rejection was
        // unhandled before we came; rethrowing keeps it unhandled, with the same reason.
        // Promise.resolve: a foreign thenable cannot call back (and throw) synchronously into us.
        void Promise.resolve(result).then(
          () => {
            if (noAck) rt.tap.guard.run('amqp.consume.end', () => settledAutomatically(rt, record));
          },
          (err: unknown) => {
            rt.tap.guard.run('amqp.consume.error', () => handlerFailed(rt, record, err));
            throw err;
          },
        );
      } else if (noAck) {
        rt.tap.guard.run('amqp.consume.end', () => settledAutomatically(rt, record));
      }
      return result;
    };
    return original.apply(this, [queue, wrapped, ...args.slice(2)]);
  };
}

function startDelivery(rt: AmqpRuntime, state: ChannelState, queue: string, msg: Message, noAck: boolean): { record: Pending; ctx: Context } {
  const now = Date.now();
  const headers = msg.properties?.headers;
  const replyTo = msg.properties?.replyTo;
  const kind = rt.destinations.queueKind(queue);
  // Everything that reads the message comes before the span starts: nothing after it may throw.
  const attributes = deliveryAttributes(queue, msg, state, 'process', kind);
  const deliveryTag = msg.fields.deliveryTag;
  const redelivered = msg.fields.redelivered === true;
  const producedAt = readProducedAt(headers);
  if (producedAt !== undefined) attributes[ATTR.EDA_E2E_LATENCY_MS] = now - producedAt;
  // Push delivery: the context amqplib's socket callbacks carry (whatever was active at connect())
  // is not the message's; only the producer's context counts.
  const { parent, links } = processParent(rt.tap.processContext, extractContext(headers), ROOT_CONTEXT);
  const span = rt.tap.tracer.startSpan(SPAN_NAME.amqpProcess(queue, kind), { kind: SpanKind.CONSUMER, attributes, links }, parent);
  if (rt.options.consumeHook) {
    const hook = rt.options.consumeHook;
    rt.tap.guard.run('amqp.consumeHook', () => hook(span, { queue, deliveryTag }));
  }
  const labels = rt.destinations.deliveryLabels('process', queue, kind);
  const record: Pending = { deliveryTag, queue, operation: 'process', labels, startedPerf: performance.now(), startedMs: now, producedAt, span, spanContext: span.spanContext(), counted: false };
  rt.tap.record((m) => countReceived(m, labels, 1, redelivered ? 1 : 0));
  recordE2e(rt.tap, labels, producedAt, 'received', now, record.spanContext);
  if (!noAck) track(rt, state, record);
  let ctx = trace.setSpan(parent, span);
  // A reply to this request (sendToQueue(msg.properties.replyTo, ...)) goes to a temporary queue.
  if (typeof replyTo === 'string' && replyTo !== '') ctx = ctx.setValue(REPLY_TO_KEY, replyTo);
  return { record, ctx };
}

/** ack / nack / reject: amqplib first (if it throws, nothing was settled and the error is the caller's). */
export function getSettlePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack' | 'reject'): AnyFunction {
  return function tracedSettle(this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (state.pending.size === 0) return result;
    rt.tap.guard.run(`amqp.${how}`, () => {
      const tag = (args[0] as Message | undefined)?.fields?.deliveryTag;
      if (typeof tag !== 'number') return;
      // amqplib's defaults: nack(msg, allUpTo=false, requeue=true), reject(msg, requeue=true).
      const requeueArg = how === 'nack' ? args[2] : how === 'reject' ? args[1] : undefined;
      const requeue = how === 'ack' ? undefined : requeueArg !== false;
      if (how !== 'reject' && args[1] === true) {
        for (const p of [...state.pending.values()]) if (p.deliveryTag <= tag) settle(rt, state, p, how, requeue);
        return;
      }
      const p = state.pending.get(tag);
      if (p) settle(rt, state, p, how, requeue);
    });
    return result;
  };
}

/** ackAll / nackAll: every delivery this channel still tracks. */
export function getSettleAllPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack'): AnyFunction {
  return function tracedSettleAll(this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (state.pending.size === 0) return result;
    rt.tap.guard.run(`amqp.${how}All`, () => {
      const requeue = how === 'ack' ? undefined : args[0] !== false;
      for (const p of [...state.pending.values()]) settle(rt, state, p, how, requeue);
    });
    return result;
  };
}
