import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, EachMessagePayload } from 'kafkajs';
import { ATTR, LABEL, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '@eda-harness/semconv';
import { extractContext } from '../shared/header-codec';
import type { MetricLabels } from '../shared/metrics';
import { countProcessed, countReceived, finishOperation, observeSettled } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { processParent, recordE2e } from '../shared/tap';
import type { KafkaConsumerHookInfo } from '../types';
import { rememberBatchMessage } from './batch-message';
import type { BatchMessageTrace } from './batch-message';
import { listenToEvents } from './consumer-events';
import { producedAt, setMessageAttributes } from './message';
import type { KafkaRuntime } from './runtime';

const DEFAULT_MAX_BATCH_LINKS = 1000;
const MAX_CACHED_PARTITIONS = 10_000;

/** What the wrappers keep per consumer instance. */
export interface ConsumerState {
  /** From consumer({ groupId }) or, failing that, its GROUP_JOIN event. */
  groupId: string | undefined;
  /** Highest offset handed to a handler per topic/partition, to notice re-consumption. */
  readonly highest: Map<string, number>;
  readonly shapes: Map<string, PartitionShape>;
}

/** What is the same for every message of one topic/partition: computed once, not per message. */
export interface PartitionShape {
  readonly groupId: string | undefined;
  readonly name: string;
  readonly attributes: Readonly<Attributes>;
  readonly labels: MetricLabels;
}

/** A process span in progress: the context to run the handler in, and how to end it. */
interface ProcessRun {
  readonly ctx: Context;
  end(err: unknown): void;
}

/** Wraps run() of one consumer and subscribes to its instrumentation events. */
export function instrumentConsumer(consumer: Consumer, k: KafkaRuntime, groupId?: string): void {
  const state: ConsumerState = { groupId, highest: new Map(), shapes: new Map() };
  k.patcher.wrap(consumer, 'run', (original) => getRunPatch(k, original, state));
  listenToEvents(consumer, k, state);
}

function getRunPatch(k: KafkaRuntime, original: AnyFunction, state: ConsumerState): AnyFunction {
  return function tracedRun(this: unknown, ...args: unknown[]): unknown {
    const config = args[0];
    const replaced = k.tap.guard.run('kafka.run', () => {
      if (typeof config !== 'object' || config === null) return undefined;
      // A copy: the caller's config object keeps its own handlers.
      const copy: Record<string, unknown> = { ...(config as Record<string, unknown>) };
      if (typeof copy['eachMessage'] === 'function') copy['eachMessage'] = traceHandler<EachMessagePayload>(k, 'kafka.eachMessage', copy['eachMessage'] as AnyFunction, (p) => startMessage(k, p, state));
      if (typeof copy['eachBatch'] === 'function') copy['eachBatch'] = traceHandler<EachBatchPayload>(k, 'kafka.eachBatch', copy['eachBatch'] as AnyFunction, (p) => startBatch(k, p, state));
      return copy;
    });
    return original.apply(this, replaced ? [replaced, ...args.slice(1)] : args);
  };
}

/**
 * Runs a kafkajs handler inside a process run: `start` and `end` are guarded (telemetry failures
 * never reach the handler, and a failed start just runs the handler bare); the handler's own
 * result or error passes through unchanged. Shared by eachMessage and eachBatch.
 */
function traceHandler<P>(k: KafkaRuntime, hook: string, handler: AnyFunction, start: (payload: P) => ProcessRun): AnyFunction {
  return async function tracedHandler(this: unknown, payload: unknown): Promise<unknown> {
    const run = k.tap.guard.run(`${hook}.start`, () => start(payload as P));
    if (!run) return handler.call(this, payload);
    return observeSettled(
      () => context.with(run.ctx, () => handler.call(this, payload)),
      (err) => k.tap.guard.run(`${hook}.end`, () => run.end(err)),
    );
  };
}

/** True when this consumer already handed out `offset` (a retry after a handler error, a rebalance back). */
function isRedelivery(state: ConsumerState, topic: string, partition: number, offset: string): boolean {
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) return false;
  const key = `${topic}\u0000${partition}`;
  const highest = state.highest.get(key);
  if (highest === undefined || n > highest) state.highest.set(key, n);
  return highest !== undefined && n <= highest;
}

function partitionShape(k: KafkaRuntime, topic: string, partition: number, state: ConsumerState): PartitionShape {
  const key = `${topic}\u0000${partition}`;
  const cached = state.shapes.get(key);
  // The group id can be learned late (GROUP_JOIN), so a shape built before it is rebuilt.
  if (cached && cached.groupId === state.groupId) return cached;
  const attributes: Attributes = {
    ...k.commonAttributes,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_PROCESS,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.PROCESS,
    [ATTR.MESSAGING_DESTINATION_NAME]: topic,
    [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
  };
  if (state.groupId) attributes[ATTR.MESSAGING_CONSUMER_GROUP_NAME] = state.groupId;
  const shape: PartitionShape = {
    groupId: state.groupId,
    name: SPAN_NAME.kafkaProcess(topic),
    attributes,
    // Frozen: the metrics layer may then cache its prepared labels by this object's identity.
    labels: Object.freeze({
      [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.KAFKA,
      [LABEL.MESSAGING_DESTINATION_NAME]: topic,
      [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: state.groupId,
    }),
  };
  if (state.shapes.size >= MAX_CACHED_PARTITIONS) state.shapes.clear();
  state.shapes.set(key, shape);
  return shape;
}

function callConsumerHook(k: KafkaRuntime, span: Span, info: KafkaConsumerHookInfo): void {
  const hook = k.options.consumerHook;
  if (hook) k.tap.guard.run('kafka.consumerHook', () => hook(span, info));
}

function startMessage(k: KafkaRuntime, payload: EachMessagePayload, state: ConsumerState): ProcessRun {
  const { topic, partition, message } = payload;
  const started = performance.now();
  const producer = extractContext(message.headers);
  // Push delivery has no ambient span of its own: the context kafkajs's fetch loop carries is
  // whatever was active at consumer.run(), not something this message belongs to.
  const { parent, links } = processParent(k.tap.processContext, producer, ROOT_CONTEXT);
  const shape = partitionShape(k, topic, partition, state);
  const span = k.tap.tracer.startSpan(shape.name, { kind: SpanKind.CONSUMER, attributes: shape.attributes, links }, parent);
  setMessageAttributes(span, message);
  const at = producedAt(message);
  const now = Date.now();
  if (at !== undefined) span.setAttribute(ATTR.EDA_E2E_LATENCY_MS, now - at);
  callConsumerHook(k, span, { topic, partition, messageCount: 1 });
  const labels = shape.labels;
  const sc = span.spanContext();
  const redelivered = isRedelivery(state, topic, partition, message.offset);
  k.tap.record((m) => countReceived(m, labels, 1, redelivered ? 1 : 0));
  recordE2e(k.tap, labels, at, 'received', now, sc);
  return {
    ctx: trace.setSpan(parent, span),
    end(err) {
      finishOperation(k.tap, span, started, { error: err }, (m, finished) => countProcessed(m, labels, 1, finished));
      recordE2e(k.tap, labels, at, 'processed', Date.now(), sc);
    },
  };
}

/**
 * One process span for the whole batch, linking every message's creation context (up to
 * maxBatchLinks). The handler runs with this span active; per-message work gets its own span or
 * context through traceKafkaMessage() / kafkaMessageContext().
 */
function startBatch(k: KafkaRuntime, payload: EachBatchPayload, state: ConsumerState): ProcessRun {
  const { topic, partition, messages } = payload.batch;
  const started = performance.now();
  const now = Date.now();
  const maxLinks = k.options.maxBatchLinks ?? DEFAULT_MAX_BATCH_LINKS;
  const producers = messages.map((m) => extractContext(m.headers));
  const links: Link[] = [];
  for (const p of producers) {
    if (links.length >= maxLinks) break;
    const sc = trace.getSpanContext(p);
    if (sc && trace.isSpanContextValid(sc)) links.push({ context: sc });
  }
  // Many producers, so none of them can be the parent: the batch span is a root linking them all.
  const parent = ROOT_CONTEXT;
  const shape = partitionShape(k, topic, partition, state);
  const attributes: Attributes = { ...shape.attributes, [ATTR.MESSAGING_BATCH_MESSAGE_COUNT]: messages.length };
  const span = k.tap.tracer.startSpan(shape.name, { kind: SpanKind.CONSUMER, attributes, links }, parent);
  callConsumerHook(k, span, { topic, partition, messageCount: messages.length });
  const labels = shape.labels;
  const sc = span.spanContext();
  const traces: BatchMessageTrace[] = messages.map((message, i) => {
    const t: BatchMessageTrace = { k, producer: producers[i] ?? parent, batchSpan: span, shape, producedAt: producedAt(message), processedRecorded: false };
    rememberBatchMessage(message, t);
    recordE2e(k.tap, labels, t.producedAt, 'received', now, sc);
    return t;
  });
  const redeliveries = messages.filter((m) => isRedelivery(state, topic, partition, m.offset)).length;
  k.tap.record((m) => countReceived(m, labels, messages.length, redeliveries));
  return {
    ctx: trace.setSpan(parent, span),
    end(err) {
      finishOperation(k.tap, span, started, { error: err }, (m, finished) => countProcessed(m, labels, messages.length, finished));
      const endMs = Date.now();
      for (const t of traces) {
        if (!t.processedRecorded) recordE2e(k.tap, labels, t.producedAt, 'processed', endMs, sc);
      }
    },
  };
}
