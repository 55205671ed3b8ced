import { withSpan } from '../shared/span-overlay';
import { ROOT_CONTEXT, SpanKind, TraceFlags, context, trace } from '../shared/otel-api';
import type { Attributes, Context, Span, SpanOptions } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { ATTR, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME, rabbitMqConsumeDestination } from '../shared/vocabulary';
import type { DestinationKind } from '@eda-harness/semconv';
import { extractContext, isFastExtracted, readProducedAt } from '../shared/header-codec';
import { perfNow, wallMs } from '../shared/clock';
import { ConsumerCells } from '../shared/consumer-cells';
import type { MetricLabels } from '../shared/metrics';
import type { AnyFunction } from '../shared/patcher';
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
    // What is the same for every delivery of this consume() call, computed once per queue kind.
    const shapes = new ConsumeShapes(queue);
    const wrapped = function tracedOnMessage(this: unknown, msg: Message | null): unknown {
      if (msg === null || typeof msg !== 'object') return handler.call(this, msg); // null: consumer cancelled by the broker
      let started: { record: Pending; ctx: Context } | undefined;
      try {
        started = startDelivery(rt, state, shapes, queue, msg, noAck);
      } catch (err) {
        rt.tap.guard.report(HOOK_CONSUME_START, err);
      }
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

const HOOK_CONSUME_START = 'amqp.consume.start';

/** What every delivery of one consume() call shares while the queue's kind stays the same. */
interface ConsumeShape {
  readonly kind: DestinationKind;
  readonly name: string;
  readonly labels: MetricLabels;
  /** Bound on first use; undefined: metrics off. */
  cells: ConsumerCells | undefined | null;
  /** Creation attributes of the last (exchange, routing key) seen: a consumer usually sees one or a few. */
  lastExchange: string | undefined;
  lastRoutingKey: string | undefined;
  lastAttributes: Readonly<Attributes> | undefined;
  lastOptions: Readonly<SpanOptions> | undefined;
}

/** The shapes of one consume() call, one per queue kind (a queue's kind can be learned later). */
class ConsumeShapes {
  private shape: ConsumeShape | undefined;
  constructor(private readonly queue: string) {}

  get(rt: AmqpRuntime, kind: DestinationKind): ConsumeShape {
    const s = this.shape;
    if (s !== undefined && s.kind === kind) return s;
    const created: ConsumeShape = {
      kind,
      name: SPAN_NAME.amqpProcess(this.queue, kind),
      labels: rt.destinations.deliveryLabels('process', this.queue, kind),
      cells: null,
      lastExchange: undefined,
      lastRoutingKey: undefined,
      lastAttributes: undefined,
      lastOptions: undefined,
    };
    this.shape = created;
    return created;
  }
}

function shapeCells(rt: AmqpRuntime, shape: ConsumeShape): ConsumerCells | undefined {
  let cells = shape.cells;
  if (cells === null) {
    cells = undefined;
    const m = rt.tap.metrics;
    if (m) {
      try {
        cells = new ConsumerCells(m, shape.labels);
      } catch (err) {
        rt.tap.guard.report('metrics.record', err);
      }
    }
    shape.cells = cells;
  }
  return cells;
}

/** The sampling-relevant creation attributes of a delivery (system, operation, destination, server, kind flags). */
function creationAttributes(state: ChannelState, shape: ConsumeShape, queue: string, exchange: string, routingKey: string): Readonly<Attributes> {
  if (shape.lastAttributes !== undefined && shape.lastExchange === exchange && shape.lastRoutingKey === routingKey) return shape.lastAttributes;
  const a = channelSpanAttributes(state, OPERATION_NAME.RABBITMQ_PROCESS, OPERATION_TYPE.PROCESS);
  const destination = rabbitMqConsumeDestination(exchange, routingKey, queue);
  if (destination !== '') a[ATTR.MESSAGING_DESTINATION_NAME] = destination;
  flagDestination(a, shape.kind);
  const frozen = Object.freeze(a);
  shape.lastExchange = exchange;
  shape.lastRoutingKey = routingKey;
  shape.lastAttributes = frozen;
  shape.lastOptions = Object.freeze({ kind: SpanKind.CONSUMER, attributes: frozen });
  return frozen;
}

function startDelivery(rt: AmqpRuntime, state: ChannelState, shapes: ConsumeShapes, queue: string, msg: Message, noAck: boolean): { record: Pending; ctx: Context } {
  const startedPerf = perfNow();
  const now = wallMs(startedPerf);
  const tap = rt.tap;
  // Everything that reads the message comes before the span starts: nothing after it may throw.
  const { fields, properties } = msg;
  const headers = properties?.headers;
  const replyTo = properties?.replyTo;
  const shape = shapes.get(rt, rt.destinations.queueKind(queue));
  const exchange = typeof fields.exchange === 'string' ? fields.exchange : '';
  const routingKey = typeof fields.routingKey === 'string' ? fields.routingKey : '';
  const attributes = creationAttributes(state, shape, queue, exchange, routingKey);
  const deliveryTag = fields.deliveryTag;
  const redelivered = fields.redelivered === true;
  const messageId = properties?.messageId;
  const correlationId = properties?.correlationId;
  const producedAt = readProducedAt(headers);
  // Push delivery: the context amqplib's socket callbacks carry (whatever was active at connect())
  // is not the message's; only the producer's context counts (see processParent).
  const producer = extractContext(headers);
  const producerSc = trace.getSpanContext(producer);
  const hasProducer = producerSc !== undefined && (isFastExtracted(producerSc) || trace.isSpanContextValid(producerSc));
  const asParent = hasProducer && tap.processContext !== 'link';
  let span: Span | undefined;
  let parent: Context;
  let ctx: Context;
  if (asParent && tap.followParentSampling && (producerSc.traceFlags & TraceFlags.SAMPLED) === 0) {
    // Opt-in: a ParentBased sampler drops this span anyway; the handler runs in the producer's context.
    parent = producer;
    ctx = producer;
    const hook = rt.options.consumeHook;
    if (hook) {
      const parentSpan = trace.getSpan(producer) ?? trace.wrapSpanContext(producerSc);
      rt.tap.guard.run('amqp.consumeHook', () => hook(parentSpan, { queue, deliveryTag }));
    }
  } else {
    parent = asParent ? producer : ROOT_CONTEXT;
    const options: SpanOptions = hasProducer && (!asParent || tap.linkProducerParent) ? { kind: SpanKind.CONSUMER, attributes, links: [{ context: producerSc }] } : (shape.lastOptions as SpanOptions);
    const s = tap.tracer.startSpan(shape.name, options, parent);
    span = s;
    if (s.isRecording()) {
      // What samplers do not need, on spans that record only.
      s.setAttribute(ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG, deliveryTag);
      s.setAttribute(ATTR.EDA_REDELIVERED, redelivered);
      if (routingKey !== '') s.setAttribute(ATTR.MESSAGING_RABBITMQ_ROUTING_KEY, routingKey);
      if (typeof messageId === 'string') s.setAttribute(ATTR.MESSAGING_MESSAGE_ID, messageId);
      if (typeof correlationId === 'string') s.setAttribute(ATTR.MESSAGING_MESSAGE_CONVERSATION_ID, correlationId);
      if (producedAt !== undefined) s.setAttribute(ATTR.EDA_E2E_LATENCY_MS, now - producedAt);
    }
    if (rt.options.consumeHook) {
      const hook = rt.options.consumeHook;
      rt.tap.guard.run('amqp.consumeHook', () => hook(s, { queue, deliveryTag }));
    }
    ctx = withSpan(parent, s);
  }
  const sc = span?.spanContext();
  const exemplar = sc !== undefined && (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
  const cells = shapeCells(rt, shape);
  const record: Pending = { deliveryTag, queue, operation: 'process', labels: shape.labels, startedPerf, startedMs: now, producedAt, span, spanContext: sc, counted: false, cells, exemplar };
  if (cells) cells.received(1, redelivered ? 1 : 0, producedAt, now, exemplar);
  if (!noAck) track(rt, state, record);
  // A reply to this request (sendToQueue(msg.properties.replyTo, ...)) goes to a temporary queue.
  if (typeof replyTo === 'string' && replyTo !== '') ctx = ctx.setValue(REPLY_TO_KEY, replyTo);
  return { record, ctx };
}

/** ack / nack / reject: amqplib first (if it throws, nothing was settled and the error is the caller's). */
export function getSettlePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack' | 'reject'): AnyFunction {
  const hook = `amqp.${how}`;
  return function tracedSettle(this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (state.pending.size === 0) return result;
    try {
      settleArgs(rt, state, how, args);
    } catch (err) {
      rt.tap.guard.report(hook, err);
    }
    return result;
  };
}

function settleArgs(rt: AmqpRuntime, state: ChannelState, how: 'ack' | 'nack' | 'reject', args: unknown[]): void {
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
