import { SpanKind, TraceFlags, context, trace } from '../shared/otel-api';
import type { Attributes, Context, Link, Span, SpanContext, SpanOptions } from '@opentelemetry/api';
import type { Producer } from 'kafkajs';
import { ATTR, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '../shared/vocabulary';
import { existingCreationContext, injectHeaders } from '../shared/header-codec';
import { closeOperationSpan, countSent, endSpan, finishOperation, observeSettled } from '../shared/operation';
import type { Finished } from '../shared/operation';
import { bindSendCells, sendLabels } from '../shared/send-cells';
import { perfNow, wallMs } from '../shared/clock';
import { withSpan } from '../shared/span-overlay';
import { Patcher } from '../shared/patcher';
import type { AnyFunction } from '../shared/patcher';
import { copyProperties, isMessageObject } from './copy';
import { keyAttribute } from './message';
import { MAX_SEND_SHAPES } from './runtime';
import type { KafkaRuntime, SendShape } from './runtime';

/** One topic's messages of a send or sendBatch, as copies the wrapper may add headers to. */
interface TopicMessages {
  readonly topic: string;
  /** The caller's messages, message objects replaced by full copies (other values left as they are). */
  readonly messages: unknown[];
}

/** A send's argument copied: what goes to kafkajs (once headers are in) and its messages per topic. */
interface CopiedSend {
  readonly args: Record<string, unknown>;
  readonly groups: readonly TopicMessages[];
}

/** A send in progress: the rewritten arguments, the context to call kafkajs in, and how to end it. */
interface PreparedSend {
  readonly args: unknown;
  readonly ctx: Context;
  finish(err: unknown, failed: boolean): void;
}

/** Most links a send span carries (to per-message create spans and to creation contexts messages already had). */
const MAX_SEND_LINKS = 1000;

/** Wraps send / sendBatch / transaction of one producer instance. */
export function instrumentProducer(producer: Producer, k: KafkaRuntime, transactionalId?: string): void {
  k.patcher.wrap(producer, 'send', (original) => getSendPatch(k, original, 'send', undefined));
  k.patcher.wrap(producer, 'sendBatch', (original) => getSendPatch(k, original, 'sendBatch', undefined));
  k.patcher.wrap(producer, 'transaction', (original) => getTransactionPatch(k, original, transactionalId));
}

function getSendPatch(k: KafkaRuntime, original: AnyFunction, call: 'send' | 'sendBatch', transaction: Span | undefined): AnyFunction {
  const startHook = `kafka.${call}.start`;
  const endHook = `kafka.${call}.end`;
  return function tracedSend(this: unknown, ...args: unknown[]): unknown {
    let prepared: PreparedSend | undefined;
    try {
      prepared = prepareSend(k, call, args[0], transaction);
    } catch (err) {
      k.tap.guard.report(startHook, err);
    }
    if (!prepared) return original.apply(this, args);
    const p = prepared;
    const callArgs = args.length === 1 ? [p.args] : [p.args, ...args.slice(1)];
    // Settle telemetry, then hand back exactly kafkajs's value or rejection reason.
    let result: unknown;
    try {
      result = context.with(p.ctx, original, this, ...callArgs);
    } catch (err) {
      endSend(k, p, err, true, endHook);
      throw err; // as kafkajs threw it: synchronously

    }
    return Promise.resolve(result).then(
      (value) => {
        endSend(k, p, undefined, false, endHook);
        return value;
      },
      (err: unknown) => {
        endSend(k, p, err, true, endHook);
        throw err;
      },
    );
  };
}

function endSend(k: KafkaRuntime, p: PreparedSend, err: unknown, failed: boolean, hook: string): void {
  try {
    p.finish(err, failed);
  } catch (e) {
    k.tap.guard.report(hook, e);
  }
}

/** The send shape of `topic`, created on first use. */
function sendShape(k: KafkaRuntime, topic: string): SendShape {
  let shape = k.sendShapes.get(topic);
  if (shape) return shape;
  const attributes: Attributes = Object.freeze({
    ...k.commonAttributes,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_SEND,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.SEND,
    [ATTR.MESSAGING_DESTINATION_NAME]: topic,
  });
  shape = { name: SPAN_NAME.kafkaSend(topic), attributes, options: Object.freeze({ kind: SpanKind.PRODUCER, attributes }), cells: null };
  if (k.sendShapes.size >= MAX_SEND_SHAPES) k.sendShapes.clear();
  k.sendShapes.set(topic, shape);
  return shape;
}

/**
 * A send to one topic, without per-topic maps, label objects or closures for its metrics; with
 * nothing to add to a span that does not record. What prepareSend does in general, for the usual
 * case: no transaction, no create spans.
 */
class SingleTopicSend implements PreparedSend {
  private done = false;
  constructor(
    private readonly k: KafkaRuntime,
    readonly args: Record<string, unknown>,
    readonly ctx: Context,
    private readonly span: Span,
    private readonly shape: SendShape,
    private readonly topic: string,
    private readonly count: number,
    private readonly startedPerf: number,
  ) {}

  finish(err: unknown, failed: boolean): void {
    if (this.done) return;
    this.done = true;
    const k = this.k;
    const type = closeOperationSpan(k.tap, this.span, err, failed);
    const seconds = (perfNow() - this.startedPerf) / 1000;
    const sc: SpanContext = this.span.spanContext();
    const exemplar = (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
    const m = k.tap.metrics;
    if (!m) return;
    if (type === undefined) {
      let cells = this.shape.cells;
      if (cells === null) cells = this.shape.cells = bindSendCells(m, sendLabels(MESSAGING_SYSTEM.KAFKA, OPERATION_NAME.KAFKA_SEND, this.topic), (e) => k.tap.guard.report('metrics.record', e));
      if (cells) cells.succeeded(this.count, seconds, exemplar);
      return;
    }
    const finished: Finished = { type, seconds, spanContext: sc };
    countSent(m, MESSAGING_SYSTEM.KAFKA, this.topic, OPERATION_NAME.KAFKA_SEND, this.count, finished);
  }
}

/** A copy of a message array: message objects copied in full, anything else kept for kafkajs to judge. */
function copyMessages(messages: readonly unknown[]): unknown[] {
  return messages.map((m) => (isMessageObject(m) ? copyProperties(m) : m));
}

/**
 * Copies the argument of send / sendBatch, every property the caller set included (getters read
 * once, here). Undefined when it is not shaped like one: kafkajs then gets the caller's own
 * argument and rejects it as it always would. Throws what a caller's getter throws.
 */
function copySendArgument(call: 'send' | 'sendBatch', arg: unknown): CopiedSend | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const args = copyProperties(arg);
  if (call === 'send') {
    const { topic, messages } = args;
    if (typeof topic !== 'string' || !Array.isArray(messages)) return undefined;
    const copies = copyMessages(messages);
    args['messages'] = copies;
    return { args, groups: [{ topic, messages: copies }] };
  }
  const { topicMessages } = args;
  if (!Array.isArray(topicMessages)) return undefined;
  const groups: TopicMessages[] = [];
  const entries: Array<Record<string, unknown>> = [];
  for (const tm of topicMessages as unknown[]) {
    if (typeof tm !== 'object' || tm === null) return undefined;
    const entry = copyProperties(tm);
    const { topic, messages } = entry;
    if (typeof topic !== 'string' || !Array.isArray(messages)) return undefined;
    const copies = copyMessages(messages);
    entry['messages'] = copies;
    entries.push(entry);
    groups.push({ topic, messages: copies });
  }
  args['topicMessages'] = entries;
  return { args, groups };
}

/** A copied message: a plain object the wrapper owns, so it may set `headers` on it. */
type MessageCopy = Record<string, unknown>;

function prepareSend(k: KafkaRuntime, call: 'send' | 'sendBatch', arg: unknown, transaction: Span | undefined): PreparedSend | undefined {
  // Everything that can throw (a caller's getter, a Proxy) happens before any span starts.
  const copied = copySendArgument(call, arg);
  if (!copied) return undefined;
  const { groups } = copied;
  const started = perfNow();
  const now = wallMs(started);
  if (groups.length === 1 && !transaction && k.options.perMessageCreateSpans !== true) {
    const fast = prepareSingleTopic(k, copied.args, groups[0] as TopicMessages, started, now);
    if (fast) return fast;
  }
  // Messages per topic (a sendBatch may name a topic twice), in order of first appearance.
  const perTopic = new Map<string, number>();
  let count = 0;
  for (const g of groups) {
    perTopic.set(g.topic, (perTopic.get(g.topic) ?? 0) + g.messages.length);
    count += g.messages.length;
  }
  const topics = [...perTopic.keys()];
  const single = topics.length === 1 ? topics[0] : undefined;
  const base = transaction ? trace.setSpan(context.active(), transaction) : context.active();
  const createSpans = k.options.perMessageCreateSpans === true;

  // A message that already carries a creation context (a relay, a forwarder, one the app set)
  // keeps it, and the send span links to it; the others get a create span (opt-in) or the send span.
  const links: Link[] = [];
  const createContexts = createSpans ? new Map<object, Context>() : undefined;
  for (const g of groups) {
    for (const m of g.messages) {
      if (!createContexts && links.length >= MAX_SEND_LINKS) break;
      if (!isMessageObject(m)) continue;
      const existing = existingCreationContext((m as MessageCopy)['headers']);
      if (existing) {
        if (links.length < MAX_SEND_LINKS) links.push({ context: existing });
      } else if (createContexts) {
        createContexts.set(m, startCreateSpan(k, g.topic, (m as MessageCopy)['key'], base, links));
      }
    }
  }

  const attributes: Attributes = {
    ...k.commonAttributes,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_SEND,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.SEND,
  };
  if (single !== undefined) attributes[ATTR.MESSAGING_DESTINATION_NAME] = single;
  if (count !== 1) attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] = count;
  // The send span is the creation context of its messages unless create spans exist (then CLIENT).
  const span = k.tap.startSendSpan(SPAN_NAME.kafkaSend(single), { kind: createSpans ? SpanKind.CLIENT : SpanKind.PRODUCER, attributes, links }, base);
  const ctx = withSpan(base, span);
  try {
    if (k.options.producerHook) {
      const hook = k.options.producerHook;
      k.tap.guard.run('kafka.producerHook', () => hook(span, { topic: single ?? topics.join(','), messageCount: count }));
    }
    const producedAtMs = k.options.producedAtHeader === false ? undefined : now;
    for (const g of groups) {
      for (const m of g.messages) {
        if (!isMessageObject(m)) continue;
        const copy = m as MessageCopy;
        copy['headers'] = injectHeaders(copy['headers'], createContexts?.get(m) ?? ctx, producedAtMs);
      }
    }
  } catch (err) {
    // Not expected (injection never throws), but a started span must end; the send goes out untraced.
    endSpan(span, {}, k.tap.describeError);
    throw err;
  }

  return {
    args: copied.args,
    ctx,
    finish(err, failed) {
      finishOperation(k.tap, span, started, { error: err, failed }, (m, finished) => {
        for (const [topic, n] of perTopic) countSent(m, MESSAGING_SYSTEM.KAFKA, topic, OPERATION_NAME.KAFKA_SEND, n, finished);
      });
    },
  };
}

/** prepareSend for one topic; undefined when a message carries a creation context (the general path links it). */
function prepareSingleTopic(k: KafkaRuntime, args: Record<string, unknown>, g: TopicMessages, started: number, now: number): PreparedSend | undefined {
  const messages = g.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isMessageObject(m)) continue;
    const headers = (m as MessageCopy)['headers'];
    if (headers !== undefined && headers !== null && existingCreationContext(headers)) return undefined;
  }
  const shape = sendShape(k, g.topic);
  const count = messages.length;
  const base = context.active();
  const options: SpanOptions = count === 1 ? shape.options : { kind: SpanKind.PRODUCER, attributes: { ...shape.attributes, [ATTR.MESSAGING_BATCH_MESSAGE_COUNT]: count } };
  const span = k.tap.startSendSpan(shape.name, options, base);
  const ctx = withSpan(base, span);
  try {
    if (k.options.producerHook) {
      const hook = k.options.producerHook;
      k.tap.guard.run('kafka.producerHook', () => hook(span, { topic: g.topic, messageCount: count }));
    }
    const producedAtMs = k.options.producedAtHeader === false ? undefined : now;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (!isMessageObject(m)) continue;
      const copy = m as MessageCopy;
      copy['headers'] = injectHeaders(copy['headers'], ctx, producedAtMs);
    }
  } catch (err) {
    endSpan(span, {}, k.tap.describeError);
    throw err;
  }
  return new SingleTopicSend(k, args, ctx, span, shape, g.topic, count, started);
}

/** A short `create {topic}` span for one message, linked from the send span: the message's own creation context. */
function startCreateSpan(k: KafkaRuntime, topic: string, messageKey: unknown, base: Context, links: Link[]): Context {
  const attributes: Attributes = { ...k.commonAttributes, [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_CREATE, [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.CREATE, [ATTR.MESSAGING_DESTINATION_NAME]: topic };
  // The create span is the one span of this message alone: where its key belongs (unless keys are personal data).
  const key = k.options.messageKeyAttribute === false ? undefined : keyAttribute(messageKey);
  if (key !== undefined) attributes[ATTR.MESSAGING_KAFKA_MESSAGE_KEY] = key;
  const span = k.tap.startSendSpan(SPAN_NAME.kafkaCreate(topic), { kind: SpanKind.PRODUCER, attributes }, base);
  span.end();
  if (links.length < MAX_SEND_LINKS) links.push({ context: span.spanContext() });
  return trace.setSpan(base, span);
}

/**
 * transaction(): an INTERNAL span from the call until commit/abort, and the transaction's own
 * send/sendBatch traced as children of it (they are where the messages actually leave).
 */
function getTransactionPatch(k: KafkaRuntime, original: AnyFunction, transactionalId: string | undefined): AnyFunction {
  const attributes: Attributes = { [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.KAFKA };
  if (transactionalId !== undefined) attributes[ATTR.EDA_KAFKA_TRANSACTIONAL_ID] = transactionalId;
  return function tracedTransaction(this: unknown, ...args: unknown[]): unknown {
    const span = k.tap.guard.run('kafka.transaction.start', () => k.tap.startSendSpan(SPAN_NAME.kafkaTransaction(), { kind: SpanKind.INTERNAL, attributes }, context.active()));
    if (!span) return original.apply(this, args);
    const fail = (err: unknown) => k.tap.guard.run('kafka.transaction.end', () => endSpan(span, { error: err, failed: true }, k.tap.describeError));
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (err) {
      fail(err);
      throw err;
    }
    return Promise.resolve(result).then(
      (tx: unknown) => {
        const wrapped = k.tap.guard.run('kafka.transaction.wrap', () => wrapTransaction(k, tx, span));
        // Nothing will end it (not an object, commit/abort not patchable): end it now rather than never.
        if (wrapped !== true) k.tap.guard.run('kafka.transaction.end', () => span.end());
        return tx;
      },
      (err: unknown) => {
        fail(err);
        throw err;
      },
    );
  };
}

/** Traces the transaction's sends and ends its span at commit or abort. False when it cannot. */
function wrapTransaction(k: KafkaRuntime, tx: unknown, span: Span): boolean {
  if (typeof tx !== 'object' || tx === null) return false;
  // Transactions are short-lived objects: their own patcher, never restored, dies with them.
  const patcher = new Patcher();
  patcher.wrap(tx, 'send', (original) => getSendPatch(k, original, 'send', span));
  patcher.wrap(tx, 'sendBatch', (original) => getSendPatch(k, original, 'sendBatch', span));
  let ended = false;
  let endable = false;
  for (const outcome of ['commit', 'abort'] as const) {
    const patched = patcher.wrap(tx, outcome, (original) =>
      function endTransaction(this: unknown, ...args: unknown[]): unknown {
        return observeSettled(
          () => original.apply(this, args),
          (err, failed) =>
            k.tap.guard.run('kafka.transaction.end', () => {
              // A failed commit followed by abort: the span ended with the first outcome.
              if (ended) return;
              ended = true;
              span.addEvent(outcome);
              endSpan(span, { error: err, failed }, k.tap.describeError);
            }),
        );
      },
    );
    endable ||= patched;
  }
  return endable;
}
