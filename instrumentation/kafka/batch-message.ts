import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Context, Link, Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { ATTR } from '@eda-harness/semconv';
import { countSettled, endSpan, observeSettled } from '../shared/operation';
import { recordE2e } from '../shared/tap';
import type { PartitionShape } from './consumer';
import { withConsumerGroup } from './group-context';
import { setMessageAttributes } from './message';
import type { KafkaRuntime } from './runtime';

/** What the eachBatch wrapper knows about each message, for {@link kafkaMessageContext} / {@link traceKafkaMessage}. */
export interface BatchMessageTrace {
  readonly k: KafkaRuntime;
  readonly producer: Context;
  readonly batchSpan: Span;
  /** The batch's topic/partition: span name, attributes and metric labels. */
  readonly shape: PartitionShape;
  readonly producedAt: number | undefined;
  /** The offset as a number (NaN if kafkajs ever gave something else), to match resolveOffset calls. */
  readonly offset: number;
  /** Counted as processed or failed already (by traceKafkaMessage, or by the batch's end). */
  settled: boolean;
  /** The context of the message's own process span, once traceKafkaMessage started one. */
  processContext: Context | undefined;
}

// Keyed by the message objects kafkajs hands to eachBatch: nothing is added to the caller's objects.
const batchMessages = new WeakMap<object, BatchMessageTrace>();

/** Called by the eachBatch wrapper for every message of the batch it starts. */
export function rememberBatchMessage(message: KafkaMessage, t: BatchMessageTrace): void {
  batchMessages.set(message, t);
}

/**
 * Inside an instrumented eachBatch: the context `message`'s own work belongs to. Once
 * {@link traceKafkaMessage} ran for it, its process span (so a dead-letter send made after a
 * failure lands in that message's trace); before, the context of its producer. Elsewhere, or for
 * an unknown message: the active context (inside eachMessage, the message's process span).
 */
export function kafkaMessageContext(message: KafkaMessage): Context {
  const t = batchMessages.get(message);
  if (!t) return context.active();
  if (t.processContext) return t.processContext;
  return trace.getSpanContext(t.producer) ? withConsumerGroup(t.producer, t.shape.groupId) : context.active();
}

/**
 * Runs `fn` for one message of an instrumented eachBatch inside its own `process {topic}` span:
 * a child of the message's producer (linked to the batch span), timed from this call to `fn`'s
 * end, so per-message timing is that message's, not the batch's. The message is counted as
 * processed (or failed, with fn's error) by this call, not by the batch. Outside eachBatch it just
 * runs fn.
 */
export async function traceKafkaMessage<T>(message: KafkaMessage, fn: () => T | Promise<T>): Promise<T> {
  const t = batchMessages.get(message);
  if (!t) return fn();
  const { k } = t;
  const started = k.tap.guard.run('kafka.traceMessage.start', () => {
    // Child of the message's producer (unless links only were asked for), linked to it and to the batch span.
    const producerSc = trace.getSpanContext(t.producer);
    const hasProducer = producerSc !== undefined && trace.isSpanContextValid(producerSc);
    const parent = hasProducer && k.tap.processContext !== 'link' ? t.producer : context.active();
    const links: Link[] = hasProducer ? [{ context: producerSc }] : [];
    links.push({ context: t.batchSpan.spanContext() });
    const span = k.tap.tracer.startSpan(t.shape.name, { kind: SpanKind.CONSUMER, attributes: t.shape.attributes, links }, parent);
    setMessageAttributes(span, message, k.options.messageKeyAttribute !== false);
    if (t.producedAt !== undefined) span.setAttribute(ATTR.EDA_E2E_LATENCY_MS, Date.now() - t.producedAt);
    const ctx = withConsumerGroup(trace.setSpan(parent, span), t.shape.groupId);
    t.processContext = ctx;
    // Counted by this call from now on, even if the batch ends before fn settles.
    t.settled = true;
    return { span, ctx };
  });
  if (!started) return fn();
  const finish = (err: unknown, failed: boolean) =>
    k.tap.guard.run('kafka.traceMessage.end', () => {
      const type = endSpan(started.span, { error: err, failed }, k.tap.describeError);
      k.tap.record((m) => countSettled(m, t.shape.labels, 1, type));
      if (!failed) recordE2e(k.tap, t.shape.labels, t.producedAt, 'processed', Date.now(), started.span.spanContext());
    });
  return observeSettled(() => context.with(started.ctx, fn), finish) as Promise<T>;
}
