import { ROOT_CONTEXT, SpanKind, TraceFlags, context, createContextKey, trace } from '../shared/otel-api';
import type { Context, Link, Span, SpanContext } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { ATTR } from '../shared/vocabulary';
import { extractParent, parentContext } from '../shared/header-codec';
import { closeOperationSpan, countSettled, endSpan, observeSettled } from '../shared/operation';
import { recordE2e } from '../shared/tap';
import type { PartitionShape } from './consumer';
import { withConsumerGroup } from './group-context';
import { setMessageAttributes } from './message';
import type { KafkaRuntime } from './runtime';

/**
 * One instrumented eachBatch call: what {@link kafkaMessageContext} and {@link traceKafkaMessage}
 * need to know about each of its messages, in arrays indexed like the batch's messages. Nothing is
 * allocated per message for it (no entry in a map keyed by the message objects: one per message
 * made every batch a burden for the garbage collector), and nothing is added to the caller's objects.
 */
export class BatchRecord {
  /** The batch's messages as kafkajs handed them over (a copy of the list: the handler may reorder its own). */
  readonly messages: readonly KafkaMessage[];
  /**
   * Per message: its producer, as {@link extractParent} gave it (a span context, a Context, or null);
   * undefined until read (the batch span's links need only some: see {@link producerOf}).
   */
  readonly producers: Array<SpanContext | Context | null | undefined>;
  /** Per message: produced-at in epoch milliseconds, NaN when unknown. */
  readonly producedAt: Float64Array;
  /** Per message: the offset as a number (NaN if kafkajs ever gave something else), to match resolveOffset calls. */
  readonly offsets: Float64Array;
  /** Per message: 1 once counted as processed or failed (by traceKafkaMessage, or by the batch's end). */
  readonly settled: Uint8Array;
  /** Per message: the context of its own process span, once traceKafkaMessage started one (allocated then). */
  processContexts: Array<Context | undefined> | undefined;
  /** The batch span, once started. */
  batchSpan: Span | undefined;
  /** Where the last lookup found its message: handlers usually walk the batch in order. */
  private cursor = 0;

  constructor(
    readonly k: KafkaRuntime,
    /** The batch's topic/partition: span name, attributes and metric labels. */
    readonly shape: PartitionShape,
    messages: readonly KafkaMessage[],
  ) {
    const n = messages.length;
    this.messages = messages.slice();
    this.producers = new Array<SpanContext | Context | null | undefined>(n);
    this.producedAt = new Float64Array(n);
    this.offsets = new Float64Array(n);
    this.settled = new Uint8Array(n);
  }

  /** The index of `message` in this batch, or -1; the next one in order is found without a search. */
  indexOf(message: unknown): number {
    const ms = this.messages;
    const c = this.cursor;
    if (ms[c] === message) return c;
    if (ms[c + 1] === message) return (this.cursor = c + 1);
    const i = ms.indexOf(message as KafkaMessage);
    if (i >= 0) this.cursor = i;
    return i;
  }

  /** The producer of message `i` as {@link extractParent} gives it, read from its headers once. */
  producerOf(i: number): SpanContext | Context | null {
    let p = this.producers[i];
    if (p === undefined) {
      const message = this.messages[i];
      p = message === undefined ? null : extractParent(message.headers);
      this.producers[i] = p;
    }
    return p;
  }

  /** The producer's context of message `i` (ROOT_CONTEXT when it carried none). */
  producer(i: number): Context {
    return parentContext(this.producerOf(i), ROOT_CONTEXT);
  }

  producedAtOf(i: number): number | undefined {
    const at = this.producedAt[i] as number;
    return Number.isNaN(at) ? undefined : at;
  }

  setProcessContext(i: number, ctx: Context): void {
    (this.processContexts ??= new Array<Context | undefined>(this.messages.length))[i] = ctx;
  }
}

/** The batch a context belongs to: set on the context the eachBatch handler runs in. */
const BATCH_KEY = createContextKey('eda-harness kafka batch');

/**
 * Batches whose handler is running, for lookups from a context that does not carry BATCH_KEY (no
 * context manager registered, or inside traceKafkaMessage's own context). Usually one; as many as
 * partitionsConsumedConcurrently at most.
 */
const liveBatches = new Set<BatchRecord>();

/** The context the eachBatch handler runs in, which lets the lookups below find `record`. */
export function withBatch(ctx: Context, record: BatchRecord): Context {
  return ctx.setValue(BATCH_KEY, record);
}

/** Called by the eachBatch wrapper when the handler starts and when it ends. */
export function batchStarted(record: BatchRecord): void {
  liveBatches.add(record);
}

export function batchEnded(record: BatchRecord): void {
  liveBatches.delete(record);
}

/** The batch `message` belongs to and its index there, or undefined. */
function findMessage(message: unknown): { record: BatchRecord; index: number } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const inContext = context.active().getValue(BATCH_KEY) as BatchRecord | undefined;
  if (inContext !== undefined) {
    const index = inContext.indexOf(message);
    if (index >= 0) return { record: inContext, index };
  }
  for (const record of liveBatches) {
    if (record === inContext) continue;
    const index = record.indexOf(message);
    if (index >= 0) return { record, index };
  }
  return undefined;
}

/**
 * Inside an instrumented eachBatch: the context `message`'s own work belongs to. Once
 * {@link traceKafkaMessage} ran for it, its process span (so a dead-letter send made after a
 * failure lands in that message's trace); before, the context of its producer. Elsewhere, or for
 * an unknown message: the active context (inside eachMessage, the message's process span).
 */
export function kafkaMessageContext(message: KafkaMessage): Context {
  const found = findMessage(message);
  if (!found) return context.active();
  const { record, index } = found;
  const processContext = record.processContexts?.[index];
  if (processContext) return processContext;
  const producer = record.producer(index);
  return trace.getSpanContext(producer) ? withConsumerGroup(producer, record.shape.groupId) : context.active();
}

/**
 * Runs `fn` for one message of an instrumented eachBatch inside its own `process {topic}` span:
 * a child of the message's producer (linked to the batch span), timed from this call to `fn`'s
 * end, so per-message timing is that message's, not the batch's. The message is counted as
 * processed (or failed, with fn's error) by this call, not by the batch. With followParentSampling
 * and an unsampled producer, fn runs in the producer's context without a span of its own, counted
 * the same way. Outside eachBatch it just runs fn.
 */
export async function traceKafkaMessage<T>(message: KafkaMessage, fn: () => T | Promise<T>): Promise<T> {
  const found = findMessage(message);
  if (!found) return fn();
  const { record, index } = found;
  const { k, shape } = record;
  const producedAt = record.producedAtOf(index);
  const started = k.tap.guard.run('kafka.traceMessage.start', () => {
    // Child of the message's producer (unless links only were asked for), linked to it and to the batch span.
    const producer = record.producer(index);
    const producerSc = trace.getSpanContext(producer);
    const hasProducer = producerSc !== undefined && trace.isSpanContextValid(producerSc);
    const asParent = hasProducer && k.tap.processContext !== 'link';
    if (asParent && k.tap.followParentSampling && (producerSc.traceFlags & TraceFlags.SAMPLED) === 0) {
      // Opt-in, as on eachMessage: a ParentBased sampler drops this span anyway; fn runs in the
      // producer's context, and the message is counted as always.
      const ctx = withBatch(withConsumerGroup(producer, shape.groupId), record);
      record.setProcessContext(index, ctx);
      record.settled[index] = 1;
      return { span: undefined, ctx };
    }
    const parent = asParent ? producer : context.active();
    const links: Link[] = hasProducer ? [{ context: producerSc }] : [];
    if (record.batchSpan) links.push({ context: record.batchSpan.spanContext() });
    const span = k.tap.tracer.startSpan(shape.name, { kind: SpanKind.CONSUMER, attributes: shape.attributes, links }, parent);
    setMessageAttributes(span, message, k.options.messageKeyAttribute !== false);
    if (producedAt !== undefined) span.setAttribute(ATTR.EDA_E2E_LATENCY_MS, Date.now() - producedAt);
    const ctx = withBatch(withConsumerGroup(trace.setSpan(parent, span), shape.groupId), record);
    record.setProcessContext(index, ctx);
    // Counted by this call from now on, even if the batch ends before fn settles.
    record.settled[index] = 1;
    return { span, ctx };
  });
  if (!started) return fn();
  const finish = (err: unknown, failed: boolean) =>
    k.tap.guard.run('kafka.traceMessage.end', () => {
      const span = started.span;
      const type = span !== undefined ? endSpan(span, { error: err, failed }, k.tap.describeError) : closeOperationSpan(k.tap, undefined, err, failed);
      k.tap.record((m) => countSettled(m, shape.labels, 1, type));
      if (!failed) recordE2e(k.tap, shape.labels, producedAt, 'processed', Date.now(), span?.spanContext());
    });
  return observeSettled(() => context.with(started.ctx, fn), finish) as Promise<T>;
}
