import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Context, Link, Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { endSpan, observeSettled } from '../shared/operation';
import { recordE2e } from '../shared/tap';
import type { PartitionShape } from './consumer';
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
  processedRecorded: boolean;
}

// Keyed by the message objects kafkajs hands to eachBatch: nothing is added to the caller's objects.
const batchMessages = new WeakMap<object, BatchMessageTrace>();

/** Called by the eachBatch wrapper for every message of the batch it starts. */
export function rememberBatchMessage(message: KafkaMessage, t: BatchMessageTrace): void {
  batchMessages.set(message, t);
}

/**
 * Inside an instrumented eachBatch: the context of `message`'s producer (so work started in it
 * joins that message's trace). Elsewhere, or for an unknown message: the active context.
 */
export function kafkaMessageContext(message: KafkaMessage): Context {
  const t = batchMessages.get(message);
  if (!t) return context.active();
  return trace.getSpanContext(t.producer) ? t.producer : context.active();
}

/**
 * Runs `fn` for one message of an instrumented eachBatch inside its own `process {topic}` span:
 * a child of the message's producer (linked to the batch span), timed from this call to `fn`'s
 * end, so per-message timing is that message's, not the batch's. Outside eachBatch it just runs fn.
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
    setMessageAttributes(span, message);
    return { span, ctx: trace.setSpan(parent, span) };
  });
  if (!started) return fn();
  const finish = (err: unknown) =>
    k.tap.guard.run('kafka.traceMessage.end', () => {
      endSpan(started.span, { error: err });
      t.processedRecorded = true;
      recordE2e(k.tap, t.shape.labels, t.producedAt, 'processed', Date.now(), started.span.spanContext());
    });
  return observeSettled(() => context.with(started.ctx, fn), finish) as Promise<T>;
}
