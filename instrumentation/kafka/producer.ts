import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';
import type { Producer } from 'kafkajs';
import { ATTR, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '@eda-harness/semconv';
import { injectHeaders, injectedFields } from '../shared/header-codec';
import { countSent, endSpan, finishOperation, observeSettled } from '../shared/operation';
import { Patcher } from '../shared/patcher';
import type { AnyFunction } from '../shared/patcher';
import { failSpan } from '../shared/tap';
import type { KafkaRuntime } from './runtime';

interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly unknown[];
}

/** A send in progress: the rewritten arguments, the context to call kafkajs in, and how to end it. */
interface PreparedSend {
  readonly args: unknown;
  readonly ctx: Context;
  finish(err: unknown): void;
}

/** Wraps send / sendBatch / transaction of one producer instance. */
export function instrumentProducer(producer: Producer, k: KafkaRuntime): void {
  k.patcher.wrap(producer, 'send', (original) => getSendPatch(k, original, 'send', undefined));
  k.patcher.wrap(producer, 'sendBatch', (original) => getSendPatch(k, original, 'sendBatch', undefined));
  k.patcher.wrap(producer, 'transaction', (original) => getTransactionPatch(k, original));
}

function getSendPatch(k: KafkaRuntime, original: AnyFunction, call: 'send' | 'sendBatch', transaction: Span | undefined): AnyFunction {
  return function tracedSend(this: unknown, ...args: unknown[]): unknown {
    const prepared = k.tap.guard.run(`kafka.${call}.start`, () => prepareSend(k, call, args[0], transaction));
    if (!prepared) return original.apply(this, args);
    // Settle telemetry, then hand back exactly kafkajs's value or rejection reason.
    return observeSettled(
      () => context.with(prepared.ctx, () => original.apply(this, [prepared.args, ...args.slice(1)])),
      (err) => k.tap.guard.run(`kafka.${call}.end`, () => prepared.finish(err)),
    );
  };
}

function readTopicMessages(call: 'send' | 'sendBatch', arg: unknown): TopicMessages[] | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  if (call === 'send') {
    const { topic, messages } = arg as { topic?: unknown; messages?: unknown };
    return typeof topic === 'string' && Array.isArray(messages) ? [{ topic, messages }] : undefined;
  }
  const { topicMessages } = arg as { topicMessages?: unknown };
  if (!Array.isArray(topicMessages)) return undefined;
  const out: TopicMessages[] = [];
  for (const tm of topicMessages as unknown[]) {
    const { topic, messages } = (tm ?? {}) as { topic?: unknown; messages?: unknown };
    if (typeof topic !== 'string' || !Array.isArray(messages)) return undefined;
    out.push({ topic, messages });
  }
  return out;
}

function prepareSend(k: KafkaRuntime, call: 'send' | 'sendBatch', arg: unknown, transaction: Span | undefined): PreparedSend | undefined {
  const groups = readTopicMessages(call, arg);
  if (!groups) return undefined;
  const started = performance.now();
  const now = Date.now();
  // Messages per topic (a sendBatch may name a topic twice), in order of first appearance.
  const perTopic = new Map<string, number>();
  for (const g of groups) perTopic.set(g.topic, (perTopic.get(g.topic) ?? 0) + g.messages.length);
  const topics = [...perTopic.keys()];
  const single = topics.length === 1 ? topics[0] : undefined;
  const count = groups.reduce((n, g) => n + g.messages.length, 0);
  const base = transaction ? trace.setSpan(context.active(), transaction) : context.active();
  const createSpans = k.options.perMessageCreateSpans === true;

  // Per-message creation contexts first (opt-in), so the send span can link to each of them.
  const links: Link[] = [];
  const messageContexts: Context[][] = groups.map((g) =>
    g.messages.map(() => {
      if (!createSpans) return base;
      const span = k.tap.tracer.startSpan(
        SPAN_NAME.kafkaCreate(g.topic),
        { kind: SpanKind.PRODUCER, attributes: { ...k.commonAttributes, [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_CREATE, [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.CREATE, [ATTR.MESSAGING_DESTINATION_NAME]: g.topic } },
        base,
      );
      span.end();
      links.push({ context: span.spanContext() });
      return trace.setSpan(base, span);
    }),
  );

  const attributes: Attributes = {
    ...k.commonAttributes,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_SEND,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.SEND,
  };
  if (single !== undefined) attributes[ATTR.MESSAGING_DESTINATION_NAME] = single;
  if (count !== 1) attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] = count;
  // The send span is the creation context of its messages unless create spans exist (then CLIENT).
  const span = k.tap.tracer.startSpan(SPAN_NAME.kafkaSend(single), { kind: createSpans ? SpanKind.CLIENT : SpanKind.PRODUCER, attributes, links }, base);
  const ctx = trace.setSpan(base, span);
  if (k.options.producerHook) {
    const hook = k.options.producerHook;
    k.tap.guard.run('kafka.producerHook', () => hook(span, { topic: single ?? topics.join(','), messageCount: count }));
  }

  const fields = injectedFields();
  const rewritten = groups.map((g, gi) => ({
    ...g,
    messages: g.messages.map((m, mi) => {
      if (typeof m !== 'object' || m === null) return m;
      const msgCtx = createSpans ? (messageContexts[gi]?.[mi] ?? ctx) : ctx;
      return { ...(m as object), headers: injectHeaders((m as { headers?: unknown }).headers, msgCtx, now, fields) };
    }),
  }));
  const args = call === 'send' ? { ...(arg as object), messages: rewritten[0]?.messages ?? [] } : { ...(arg as object), topicMessages: rewritten };

  return {
    args,
    ctx,
    finish(err) {
      finishOperation(k.tap, span, started, { error: err }, (m, finished) => {
        for (const [topic, n] of perTopic) countSent(m, MESSAGING_SYSTEM.KAFKA, topic, OPERATION_NAME.KAFKA_SEND, n, finished);
      });
    },
  };
}

/**
 * transaction(): an INTERNAL span from the call until commit/abort, and the transaction's own
 * send/sendBatch traced as children of it (they are where the messages actually leave).
 */
function getTransactionPatch(k: KafkaRuntime, original: AnyFunction): AnyFunction {
  return function tracedTransaction(this: unknown, ...args: unknown[]): unknown {
    const span = k.tap.guard.run('kafka.transaction.start', () =>
      k.tap.tracer.startSpan(SPAN_NAME.kafkaTransaction(), { kind: SpanKind.INTERNAL, attributes: { [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.KAFKA } }),
    );
    const result = original.apply(this, args);
    if (!span) return result;
    return Promise.resolve(result).then(
      (tx: unknown) => {
        k.tap.guard.run('kafka.transaction.wrap', () => wrapTransaction(k, tx, span));
        return tx;
      },
      (err: unknown) => {
        k.tap.guard.run('kafka.transaction.end', () => {
          failSpan(span, err);
          span.end();
        });
        throw err;
      },
    );
  };
}

function wrapTransaction(k: KafkaRuntime, tx: unknown, span: Span): void {
  if (typeof tx !== 'object' || tx === null) {
    span.end();
    return;
  }
  // Transactions are short-lived objects: their own patcher, never restored, dies with them.
  const patcher = new Patcher();
  patcher.wrap(tx, 'send', (original) => getSendPatch(k, original, 'send', span));
  patcher.wrap(tx, 'sendBatch', (original) => getSendPatch(k, original, 'sendBatch', span));
  for (const outcome of ['commit', 'abort'] as const) {
    patcher.wrap(tx, outcome, (original) =>
      function endTransaction(this: unknown, ...args: unknown[]): unknown {
        return observeSettled(
          () => original.apply(this, args),
          (err) =>
            k.tap.guard.run('kafka.transaction.end', () => {
              span.addEvent(outcome);
              endSpan(span, { error: err });
            }),
        );
      },
    );
  }
}
