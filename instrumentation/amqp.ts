import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanContext } from '@opentelemetry/api';
import type { Channel, ConsumeMessage, GetMessage, Message, Options, Replies } from 'amqplib';
import { extractContext, injectHeaders, readProducedAt } from './header-codec';
import type { MetricLabels } from './metrics';
import { Patcher } from './patcher';
import {
  AMQP_DEFAULT_EXCHANGE,
  ATTR,
  DLQ_REASON,
  ERROR_TYPE,
  LABEL,
  MESSAGING_SYSTEM,
  OPERATION_NAME,
  OPERATION_TYPE,
  SPAN_NAME,
  isAnonymousQueue,
} from '@eda-harness/semconv';
import { createTap, errorType, failSpan, processParent, recordE2e } from './tap';
import type { Tap } from './tap';
import type { AmqpInstrumentationOptions, InstrumentationHandle } from './types';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

const DEFAULT_SETTLE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_PENDING = 10_000;
const INSTRUMENTED = Symbol.for('eda-harness.instrumentation.amqp');

/** Shared state of one instrumentAmqp() call (a model and all its channels, or one channel). */
interface AmqpRuntime {
  readonly tap: Tap;
  readonly options: AmqpInstrumentationOptions;
  readonly patcher: Patcher;
  /** queue → dead-letter target label, from options and from assertQueue calls we observed. */
  readonly deadLetter: Map<string, string>;
  readonly channels: Set<ChannelState>;
}

type Settlement = 'ack' | 'nack' | 'reject' | 'auto' | 'none';

/** A delivery handed to the application and not yet settled. */
interface Pending {
  readonly deliveryTag: number;
  readonly queue: string;
  readonly labels: MetricLabels;
  readonly startedPerf: number;
  readonly startedMs: number;
  readonly producedAt: number | undefined;
  /** Undefined for `get`: the receive span has ended already; the record is kept for settle metrics. */
  span: Span | undefined;
  /** The handler failed: span and metrics are done, the record waits only for a settle (DLQ count). */
  finished: boolean;
}

interface ChannelState {
  readonly channel: Channel;
  readonly pending: Map<number, Pending>;
  readonly server: Attributes;
  timer: NodeJS.Timeout | undefined;
  removeListeners: () => void;
}

interface Marked {
  [INSTRUMENTED]?: InstrumentationHandle;
}

/**
 * Instruments an amqplib ChannelModel (every channel it creates from now on) or one Channel /
 * ConfirmChannel. Returns its argument. Instrumenting twice is a no-op; {@link uninstrumentAmqp}
 * restores every original method.
 */
export function instrumentAmqp<T extends object>(target: T, options: AmqpInstrumentationOptions = {}): T {
  amqpHandle(target, options);
  return target;
}

export function uninstrumentAmqp(target: object): void {
  (target as Marked)[INSTRUMENTED]?.uninstrument();
}

/** Like {@link instrumentAmqp}, returning the handle that undoes it. */
export function amqpHandle(target: object, options: AmqpInstrumentationOptions = {}): InstrumentationHandle {
  const marked = target as Marked;
  const existing = marked[INSTRUMENTED];
  if (existing) return existing;
  const rt: AmqpRuntime = { tap: createTap(options), options, patcher: new Patcher(), deadLetter: new Map(), channels: new Set() };
  for (const [queue, dlx] of Object.entries(options.deadLetterExchanges ?? {})) rt.deadLetter.set(queue, dlx);
  const t = target as Record<string, unknown>;
  if (typeof t['createChannel'] === 'function') {
    for (const factory of ['createChannel', 'createConfirmChannel']) {
      rt.patcher.wrap(target, factory, (original) =>
        function instrumentedCreateChannel(this: unknown, ...args: unknown[]): unknown {
          const result = original.apply(this, args);
          return Promise.resolve(result).then((channel: unknown) => {
            rt.tap.guard.run('amqp.instrumentChannel', () => instrumentChannel(channel as Channel, rt));
            return channel;
          });
        },
      );
    }
  } else if (typeof t['publish'] === 'function' && typeof t['consume'] === 'function') {
    instrumentChannel(target as Channel, rt);
  }
  const handle: InstrumentationHandle = {
    uninstrument() {
      rt.patcher.restoreAll();
      for (const state of rt.channels) endChannel(rt, state, false);
      rt.channels.clear();
      delete marked[INSTRUMENTED];
    },
  };
  Object.defineProperty(marked, INSTRUMENTED, { value: handle, configurable: true, enumerable: false, writable: true });
  return handle;
}

/** Patches one channel instance. Also used by AmqplibInstrumentation. */
function instrumentChannel(channel: Channel, rt: AmqpRuntime): void {
  const state: ChannelState = { channel, pending: new Map(), server: serverAttributes(channel), timer: undefined, removeListeners: () => undefined };
  rt.channels.add(state);
  const p = rt.patcher;
  // sendToQueue calls this.publish('', queue, …), so publish covers both without double spans.
  p.wrap(channel, 'publish', (original) => getPublishPatch(rt, state, original));
  p.wrap(channel, 'consume', (original) => getConsumePatch(rt, state, original));
  p.wrap(channel, 'get', (original) => getGetPatch(rt, state, original));
  p.wrap(channel, 'assertQueue', (original) => getAssertQueuePatch(rt, original));
  p.wrap(channel, 'ack', (original) => getSettlePatch(rt, state, original, 'ack'));
  p.wrap(channel, 'nack', (original) => getSettlePatch(rt, state, original, 'nack'));
  p.wrap(channel, 'reject', (original) => getSettlePatch(rt, state, original, 'reject'));
  p.wrap(channel, 'ackAll', (original) => getSettleAllPatch(rt, state, original, 'ack'));
  p.wrap(channel, 'nackAll', (original) => getSettleAllPatch(rt, state, original, 'nack'));
  const onClose = () => rt.tap.guard.run('amqp.close', () => endChannel(rt, state, true));
  channel.on('close', onClose);
  state.removeListeners = () => channel.removeListener('close', onClose);
  const timeout = rt.options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS;
  // Sweeps deliveries nobody settled; unref'd so it never keeps the process alive.
  state.timer = setInterval(() => rt.tap.guard.run('amqp.sweep', () => sweep(rt, state, timeout)), Math.max(50, Math.min(timeout / 2, 30_000)));
  state.timer.unref();
}

function serverAttributes(channel: Channel): Attributes {
  try {
    const stream = (channel as unknown as { connection?: { stream?: { remoteAddress?: unknown; remotePort?: unknown } } }).connection?.stream;
    const out: Attributes = {};
    if (typeof stream?.remoteAddress === 'string') out[ATTR.SERVER_ADDRESS] = stream.remoteAddress;
    if (typeof stream?.remotePort === 'number') out[ATTR.SERVER_PORT] = stream.remotePort;
    return out;
  } catch {
    return {};
  }
}

function endChannel(rt: AmqpRuntime, state: ChannelState, closed: boolean): void {
  if (state.timer) clearInterval(state.timer);
  state.timer = undefined;
  state.removeListeners();
  for (const p of [...state.pending.values()]) finishDelivery(rt, state, p, 'none', closed ? ERROR_TYPE.CHANNEL_CLOSED : undefined, undefined);
  state.pending.clear();
  rt.channels.delete(state);
}

function sweep(rt: AmqpRuntime, state: ChannelState, timeoutMs: number): void {
  const cutoff = Date.now() - timeoutMs;
  for (const p of [...state.pending.values()]) {
    if (p.startedMs <= cutoff) {
      finishDelivery(rt, state, p, 'none', ERROR_TYPE.TIMEOUT, undefined);
      state.pending.delete(p.deliveryTag);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// publish / sendToQueue
// ---------------------------------------------------------------------------------------------

function getPublishPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedPublish(this: unknown, ...args: unknown[]): unknown {
    const [exchange, routingKey, , options, callback] = args;
    if (typeof exchange !== 'string' || typeof routingKey !== 'string') return original.apply(this, args);
    const confirm = typeof (this as { waitForConfirms?: unknown }).waitForConfirms === 'function';
    const prepared = rt.tap.guard.run('amqp.publish.start', () => preparePublish(rt, state, exchange, routingKey, options));
    if (!prepared) return original.apply(this, args);
    const callArgs: unknown[] = [exchange, routingKey, args[2], prepared.options];
    if (confirm) {
      // The span ends when the broker confirms (or nacks) this message.
      callArgs.push(function onConfirm(this: unknown, err: unknown, ok: unknown): unknown {
        rt.tap.guard.run('amqp.publish.confirm', () => prepared.finish(err ? err : undefined, err ? ERROR_TYPE.NACKED : undefined));
        return typeof callback === 'function' ? (callback as AnyFunction).call(this, err, ok) : undefined;
      });
    }
    let result: unknown;
    try {
      result = context.with(prepared.ctx, () => original.apply(this, callArgs));
    } catch (err) {
      rt.tap.guard.run('amqp.publish.end', () => prepared.finish(err, undefined));
      throw err;
    }
    // A plain channel has no confirm: the message is buffered, which is all we can observe.
    if (!confirm) rt.tap.guard.run('amqp.publish.end', () => prepared.finish(undefined, undefined));
    return result;
  };
}

function preparePublish(rt: AmqpRuntime, state: ChannelState, exchange: string, routingKey: string, options: unknown) {
  const started = performance.now();
  const opts = (typeof options === 'object' && options !== null ? options : {}) as Options.Publish;
  const destination = `${exchange === '' ? AMQP_DEFAULT_EXCHANGE : exchange}:${routingKey}`;
  const attributes: Attributes = {
    [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.RABBITMQ_PUBLISH,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.SEND,
    [ATTR.MESSAGING_DESTINATION_NAME]: destination,
    ...state.server,
  };
  if (routingKey !== '') attributes[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = routingKey;
  if (typeof opts.messageId === 'string') attributes[ATTR.MESSAGING_MESSAGE_ID] = opts.messageId;
  if (typeof opts.correlationId === 'string') attributes[ATTR.MESSAGING_MESSAGE_CONVERSATION_ID] = opts.correlationId;
  const parent = context.active();
  const span = rt.tap.tracer.startSpan(SPAN_NAME.amqpPublish(exchange, routingKey), { kind: SpanKind.PRODUCER, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  if (rt.options.publishHook) {
    const hook = rt.options.publishHook;
    rt.tap.guard.run('amqp.publishHook', () => hook(span, { exchange, routingKey }));
  }
  // Label by exchange (routing keys are unbounded); on the default exchange the key is a queue.
  const label = exchange === '' ? routingKey : exchange;
  let done = false;
  return {
    options: { ...opts, headers: injectHeaders(opts.headers, ctx, Date.now()) },
    ctx,
    finish(err: unknown, type: string | undefined) {
      if (done) return;
      done = true;
      const errType = err === undefined ? undefined : (type ?? errorType(err));
      if (err !== undefined) failSpan(span, err, errType);
      span.end();
      const seconds = (performance.now() - started) / 1000;
      rt.tap.record((m) => {
        const base = { [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ, [LABEL.MESSAGING_DESTINATION_NAME]: label, [LABEL.ERROR_TYPE]: errType };
        m.inc('SENT_MESSAGES', base);
        m.observe('OPERATION_DURATION', { ...base, [LABEL.MESSAGING_OPERATION_NAME]: OPERATION_NAME.RABBITMQ_PUBLISH }, seconds, span.spanContext());
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// consume
// ---------------------------------------------------------------------------------------------

function queueLabel(queue: string): string {
  return isAnonymousQueue(queue) ? '(anonymous)' : queue;
}

const labelsByQueue = new Map<string, MetricLabels>();

/** Per-queue label object, reused for every delivery (the metrics layer caches by identity too). */
function consumeLabels(queue: string): MetricLabels {
  let labels = labelsByQueue.get(queue);
  if (!labels) {
    if (labelsByQueue.size >= 10_000) labelsByQueue.clear();
    labels = Object.freeze({ [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ, [LABEL.MESSAGING_DESTINATION_NAME]: queueLabel(queue) });
    labelsByQueue.set(queue, labels);
  }
  return labels;
}

function withError(labels: MetricLabels, type: string | undefined): MetricLabels {
  return type === undefined ? labels : { ...labels, [LABEL.ERROR_TYPE]: type };
}

function deliveryAttributes(queue: string, msg: Message, state: ChannelState, operation: 'process' | 'receive'): Attributes {
  const { fields, properties } = msg;
  const exchange = fields.exchange === '' ? AMQP_DEFAULT_EXCHANGE : fields.exchange;
  const a: Attributes = {
    [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ,
    [ATTR.MESSAGING_OPERATION_NAME]: operation === 'process' ? OPERATION_NAME.RABBITMQ_PROCESS : OPERATION_NAME.RABBITMQ_RECEIVE,
    [ATTR.MESSAGING_OPERATION_TYPE]: operation === 'process' ? OPERATION_TYPE.PROCESS : OPERATION_TYPE.RECEIVE,
    // Consumer-side destination per the conventions: {exchange}:{routing key}:{queue}.
    [ATTR.MESSAGING_DESTINATION_NAME]: `${exchange}:${fields.routingKey}:${queue}`,
    [ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG]: fields.deliveryTag,
    [ATTR.EDA_REDELIVERED]: fields.redelivered === true,
    ...state.server,
  };
  if (isAnonymousQueue(queue)) a[ATTR.MESSAGING_DESTINATION_ANONYMOUS] = true;
  if (fields.routingKey) a[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = fields.routingKey;
  if (typeof properties?.messageId === 'string') a[ATTR.MESSAGING_MESSAGE_ID] = properties.messageId;
  if (typeof properties?.correlationId === 'string') a[ATTR.MESSAGING_MESSAGE_CONVERSATION_ID] = properties.correlationId;
  return a;
}

function getConsumePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
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
            if (noAck) rt.tap.guard.run('amqp.consume.end', () => finishDelivery(rt, state, pending.record, 'auto', undefined, undefined));
          },
          (err: unknown) => {
            rt.tap.guard.run('amqp.consume.error', () => handlerFailed(rt, pending.record, err));
            throw err;
          },
        );
      } else if (noAck) {
        rt.tap.guard.run('amqp.consume.end', () => finishDelivery(rt, state, pending.record, 'auto', undefined, undefined));
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
  const sc = span.spanContext();
  rt.tap.record((m) => {
    m.add('IN_FLIGHT', labels, 1);
    if (msg.fields.redelivered) m.inc('REDELIVERIES', labels);
  });
  recordE2e(rt.tap, labels, producedAt, 'received', now, sc);
  if (!noAck) track(rt, state, record);
  return { record, parent, span };
}

function track(rt: AmqpRuntime, state: ChannelState, record: Pending): void {
  const max = rt.options.maxPendingDeliveries ?? DEFAULT_MAX_PENDING;
  if (state.pending.size >= max) {
    // Bounded memory: the oldest unsettled delivery is given up on.
    const oldest = state.pending.values().next().value;
    if (oldest) {
      finishDelivery(rt, state, oldest, 'none', ERROR_TYPE.TIMEOUT, undefined);
      state.pending.delete(oldest.deliveryTag);
    }
  }
  state.pending.set(record.deliveryTag, record);
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
  if (type !== undefined) {
    if (how === 'nack' || how === 'reject') failSpan(span, new Error(`message ${how === 'nack' ? 'nacked' : 'rejected'} by the consumer`), type);
    // A handler error has been recorded on the span already (handlerFailed); these have not.
    else if (type === ERROR_TYPE.TIMEOUT || type === ERROR_TYPE.CHANNEL_CLOSED) failSpan(span, new Error(`delivery not settled: ${type}`), type);
  }
  span.end();
  const sc = span.spanContext();
  const seconds = (performance.now() - record.startedPerf) / 1000;
  rt.tap.record((m) => {
    const outcome = withError(record.labels, type);
    m.add('IN_FLIGHT', record.labels, -1);
    m.inc('CONSUMED_MESSAGES', outcome);
    m.observe('PROCESS_DURATION', outcome, seconds, sc);
  });
  if (how === 'ack' || how === 'auto') recordE2e(rt.tap, record.labels, record.producedAt, 'processed', Date.now(), sc);
}

/** Settles a delivery: span end, metrics, and a DLQ event when it was dead-lettered. */
function finishDelivery(rt: AmqpRuntime, _state: ChannelState, record: Pending, how: Settlement, type: string | undefined, requeue: boolean | undefined): void {
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

// ---------------------------------------------------------------------------------------------
// ack / nack / reject / ackAll / nackAll
// ---------------------------------------------------------------------------------------------

function getSettlePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack' | 'reject'): AnyFunction {
  return function tracedSettle(this: unknown, ...args: unknown[]): unknown {
    // amqplib first: if it throws (closed channel), nothing was settled and the error is the caller's.
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

function getSettleAllPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction, how: 'ack' | 'nack'): AnyFunction {
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
  finishDelivery(rt, state, p, how, type, requeue);
}

// ---------------------------------------------------------------------------------------------
// get (pull) and assertQueue (to learn dead-letter exchanges)
// ---------------------------------------------------------------------------------------------

function getGetPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedGet(this: unknown, ...args: unknown[]): unknown {
    const [queue, options] = args;
    if (typeof queue !== 'string') return original.apply(this, args);
    const started = rt.tap.guard.run('amqp.get.start', () => {
      const attributes: Attributes = {
        [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ,
        [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.RABBITMQ_RECEIVE,
        [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.RECEIVE,
        [ATTR.MESSAGING_DESTINATION_NAME]: queue,
        ...state.server,
      };
      return { span: rt.tap.tracer.startSpan(SPAN_NAME.amqpReceive(queue), { kind: SpanKind.CLIENT, attributes }), t0: performance.now() };
    });
    const result = original.apply(this, args);
    if (!started) return result;
    const noAck = (options as Options.Get | undefined)?.noAck === true;
    const end = (msg: GetMessage | false | undefined, err: unknown) =>
      rt.tap.guard.run('amqp.get.end', () => {
        const { span } = started;
        const labels = consumeLabels(queue);
        let type: string | undefined;
        if (err !== undefined) {
          type = errorType(err);
          failSpan(span, err, type);
        } else if (msg) {
          span.setAttributes(deliveryAttributes(queue, msg, state, 'receive'));
          const sc: SpanContext | undefined = trace.getSpanContext(extractContext(msg.properties?.headers));
          if (sc && trace.isSpanContextValid(sc)) span.addLink({ context: sc });
          const producedAt = readProducedAt(msg.properties?.headers);
          recordE2e(rt.tap, labels, producedAt, 'received', Date.now(), span.spanContext());
          rt.tap.record((m) => {
            m.inc('CONSUMED_MESSAGES', labels);
            if (msg.fields.redelivered) m.inc('REDELIVERIES', labels);
          });
          if (!noAck) {
            const record: Pending = { deliveryTag: msg.fields.deliveryTag, queue, labels, startedPerf: performance.now(), startedMs: Date.now(), producedAt, span: undefined, finished: true };
            track(rt, state, record);
          }
        }
        span.end();
        rt.tap.record((m) =>
          m.observe('OPERATION_DURATION', { ...labels, [LABEL.MESSAGING_OPERATION_NAME]: OPERATION_NAME.RABBITMQ_RECEIVE, [LABEL.ERROR_TYPE]: type }, (performance.now() - started.t0) / 1000, span.spanContext()),
        );
      });
    return Promise.resolve(result).then(
      (msg: unknown) => {
        end(msg as GetMessage | false, undefined);
        return msg;
      },
      (err: unknown) => {
        end(undefined, err);
        throw err;
      },
    );
  };
}

function getAssertQueuePatch(rt: AmqpRuntime, original: AnyFunction): AnyFunction {
  return function observedAssertQueue(this: unknown, ...args: unknown[]): unknown {
    const [queue, options] = args;
    const result = original.apply(this, args);
    return Promise.resolve(result).then((reply: unknown) => {
      rt.tap.guard.run('amqp.assertQueue', () => {
        const name = (reply as Replies.AssertQueue | undefined)?.queue ?? (typeof queue === 'string' ? queue : undefined);
        const dlq = deadLetterTarget(options as Options.AssertQueue | undefined);
        if (name && dlq !== undefined) rt.deadLetter.set(name, dlq);
      });
      return reply;
    });
  };
}

/** The `dlq` label for a queue's dead-letter settings: the DLX, or amq.default:{key} for the default exchange. */
function deadLetterTarget(options: Options.AssertQueue | undefined): string | undefined {
  if (!options) return undefined;
  const args = (options.arguments ?? {}) as Record<string, unknown>;
  const dlx = options.deadLetterExchange ?? args['x-dead-letter-exchange'];
  if (typeof dlx !== 'string') return undefined;
  if (dlx !== '') return dlx;
  const key = options.deadLetterRoutingKey ?? args['x-dead-letter-routing-key'];
  return typeof key === 'string' ? `${AMQP_DEFAULT_EXCHANGE}:${key}` : AMQP_DEFAULT_EXCHANGE;
}

/** For AmqplibInstrumentation: instrument a channel with a shared runtime. */
export function createAmqpChannelInstrumenter(options: AmqpInstrumentationOptions): { instrument(channel: Channel): void; restore(): void } {
  const rt: AmqpRuntime = { tap: createTap(options), options, patcher: new Patcher(), deadLetter: new Map(Object.entries(options.deadLetterExchanges ?? {})), channels: new Set() };
  return {
    instrument: (channel) => rt.tap.guard.run('amqp.instrumentChannel', () => instrumentChannel(channel, rt)),
    restore: () => {
      rt.patcher.restoreAll();
      for (const state of rt.channels) endChannel(rt, state, false);
      rt.channels.clear();
    },
  };
}
