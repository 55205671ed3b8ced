import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, EachMessagePayload, KafkaMessage } from 'kafkajs';
import { extractContext, readProducedAt } from './header-codec';
import type { KafkaRuntime } from './kafka-runtime';
import type { MetricLabels } from './metrics';
import { ATTR, KAFKA_CONSUMER_EVENT, LABEL, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '@eda-harness/semconv';
import { errorType, failSpan, processParent, recordE2e } from './tap';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

const MAX_KEY_ATTRIBUTE_LENGTH = 1024;
const DEFAULT_MAX_BATCH_LINKS = 1000;

/** The group a consumer belongs to: from consumer({ groupId }) or, failing that, its GROUP_JOIN event. */
interface GroupHolder {
  groupId: string | undefined;
  /** Highest offset handed to a handler per topic/partition, to notice re-consumption. */
  readonly highest: Map<string, number>;
  readonly shapes: Map<string, PartitionShape>;
}

/** True when this consumer already handed out `offset` (a retry after a handler error, a rebalance back). */
function isRedelivery(group: GroupHolder, topic: string, partition: number, offset: string): boolean {
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) return false;
  const key = `${topic}\u0000${partition}`;
  const highest = group.highest.get(key);
  if (highest === undefined || n > highest) group.highest.set(key, n);
  return highest !== undefined && n <= highest;
}

/** What the batch wrapper knows about each message, for {@link kafkaMessageContext} / {@link traceKafkaMessage}. */
interface BatchMessageTrace {
  readonly k: KafkaRuntime;
  readonly producer: Context;
  readonly batchSpan: Span;
  readonly topic: string;
  readonly partition: number;
  readonly labels: MetricLabels;
  readonly producedAt: number | undefined;
  processedRecorded: boolean;
}

// Keyed by the message objects kafkajs hands to eachBatch: nothing is added to the caller's objects.
const batchMessages = new WeakMap<object, BatchMessageTrace>();

/** Wraps run() of one consumer and subscribes to its instrumentation events. */
export function instrumentConsumer(consumer: Consumer, k: KafkaRuntime, groupId?: string): void {
  const group: GroupHolder = { groupId, highest: new Map(), shapes: new Map() };
  k.patcher.wrap(consumer, 'run', (original) => getRunPatch(k, original, group));
  listenToEvents(consumer, k, group);
}

function getRunPatch(k: KafkaRuntime, original: AnyFunction, group: GroupHolder): AnyFunction {
  return function tracedRun(this: unknown, ...args: unknown[]): unknown {
    const config = args[0];
    const replaced = k.tap.guard.run('kafka.run', () => {
      if (typeof config !== 'object' || config === null) return undefined;
      // A copy: the caller's config object keeps its own handlers.
      const copy: Record<string, unknown> = { ...(config as Record<string, unknown>) };
      if (typeof copy['eachMessage'] === 'function') copy['eachMessage'] = wrapEachMessage(k, copy['eachMessage'] as AnyFunction, group);
      if (typeof copy['eachBatch'] === 'function') copy['eachBatch'] = wrapEachBatch(k, copy['eachBatch'] as AnyFunction, group);
      return copy;
    });
    return original.apply(this, replaced ? [replaced, ...args.slice(1)] : args);
  };
}

/** What is the same for every message of one topic/partition: computed once, not per message. */
interface PartitionShape {
  readonly groupId: string | undefined;
  readonly name: string;
  readonly attributes: Readonly<Attributes>;
  readonly labels: MetricLabels;
}

const MAX_CACHED_PARTITIONS = 10_000;

function partitionShape(k: KafkaRuntime, topic: string, partition: number, group: GroupHolder): PartitionShape {
  const key = `${topic}\u0000${partition}`;
  const cached = group.shapes.get(key);
  // The group id can be learned late (GROUP_JOIN), so a shape built before it is rebuilt.
  if (cached && cached.groupId === group.groupId) return cached;
  const attributes: Attributes = {
    ...k.commonAttributes,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_PROCESS,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.PROCESS,
    [ATTR.MESSAGING_DESTINATION_NAME]: topic,
    [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
  };
  if (group.groupId) attributes[ATTR.MESSAGING_CONSUMER_GROUP_NAME] = group.groupId;
  const shape: PartitionShape = {
    groupId: group.groupId,
    name: SPAN_NAME.kafkaProcess(topic),
    attributes,
    // Frozen: the metrics layer may then cache its prepared labels by this object's identity.
    labels: Object.freeze({
      [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.KAFKA,
      [LABEL.MESSAGING_DESTINATION_NAME]: topic,
      [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: group.groupId,
    }),
  };
  if (group.shapes.size >= MAX_CACHED_PARTITIONS) group.shapes.clear();
  group.shapes.set(key, shape);
  return shape;
}

/** `labels` plus error_type, without copying on the (usual) success path. */
function withError(labels: MetricLabels, type: string | undefined): MetricLabels {
  return type === undefined ? labels : { ...labels, [LABEL.ERROR_TYPE]: type };
}

/**
 * Offset, key and tombstone of one message, as the conventions type them, set on the span: the
 * per-partition attributes went in at start (samplers see them); copying them into a fresh
 * object per message just to add these three cost more than the span itself.
 */
function setMessageAttributes(span: Span, message: KafkaMessage): void {
  const offset = Number(message.offset);
  if (Number.isSafeInteger(offset)) span.setAttribute(ATTR.MESSAGING_KAFKA_OFFSET, offset);
  const key = keyAttribute(message.key);
  if (key !== undefined) span.setAttribute(ATTR.MESSAGING_KAFKA_MESSAGE_KEY, key);
  if (message.value === null) span.setAttribute(ATTR.MESSAGING_KAFKA_MESSAGE_TOMBSTONE, true);
}

/** The key as text when it has an unambiguous text form (UTF-8); binary keys are left out. */
export function keyAttribute(key: unknown): string | undefined {
  if (typeof key === 'string') return key.length <= MAX_KEY_ATTRIBUTE_LENGTH ? key : undefined;
  if (!Buffer.isBuffer(key) || key.length > MAX_KEY_ATTRIBUTE_LENGTH) return undefined;
  // One decode: invalid UTF-8 shows up as U+FFFD (a key really containing U+FFFD is dropped too, fine).
  const text = key.toString('utf8');
  return text.includes('\uFFFD') ? undefined : text;
}

/** produced-at header, else the record timestamp (CreateTime by default). */
function producedAt(message: KafkaMessage): number | undefined {
  const fromHeader = readProducedAt(message.headers);
  if (fromHeader !== undefined) return fromHeader;
  const ts = Number(message.timestamp);
  return Number.isSafeInteger(ts) && ts > 0 ? ts : undefined;
}

interface ProcessRun {
  readonly ctx: Context;
  end(err: unknown): void;
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
    try {
      const result = await context.with(run.ctx, () => handler.call(this, payload));
      k.tap.guard.run(`${hook}.end`, () => run.end(undefined));
      return result;
    } catch (err) {
      k.tap.guard.run(`${hook}.end`, () => run.end(err));
      throw err;
    }
  };
}

function wrapEachMessage(k: KafkaRuntime, handler: AnyFunction, group: GroupHolder): AnyFunction {
  return traceHandler<EachMessagePayload>(k, 'kafka.eachMessage', handler, (payload) => startMessage(k, payload, group));
}

function startMessage(k: KafkaRuntime, payload: EachMessagePayload, group: GroupHolder): ProcessRun {
  const { topic, partition, message } = payload;
  const started = performance.now();
  const producer = extractContext(message.headers);
  // Push delivery has no ambient span of its own: the context kafkajs's fetch loop carries is
  // whatever was active at consumer.run(), not something this message belongs to.
  const { parent, links } = processParent(k.tap.processContext, producer, ROOT_CONTEXT);
  const shape = partitionShape(k, topic, partition, group);
  const span = k.tap.tracer.startSpan(shape.name, { kind: SpanKind.CONSUMER, attributes: shape.attributes, links }, parent);
  setMessageAttributes(span, message);
  const at = producedAt(message);
  const now = Date.now();
  if (at !== undefined) span.setAttribute(ATTR.EDA_E2E_LATENCY_MS, now - at);
  if (k.options.consumerHook) {
    const hook = k.options.consumerHook;
    k.tap.guard.run('kafka.consumerHook', () => hook(span, { topic, partition, messageCount: 1 }));
  }
  const labels = shape.labels;
  const sc = span.spanContext();
  const redelivered = isRedelivery(group, topic, partition, message.offset);
  k.tap.record((m) => {
    m.add('IN_FLIGHT', labels, 1);
    if (redelivered) m.inc('REDELIVERIES', labels);
  });
  recordE2e(k.tap, labels, at, 'received', now, sc);
  return {
    ctx: trace.setSpan(parent, span),
    end(err) {
      const type = err === undefined ? undefined : errorType(err);
      if (err !== undefined) failSpan(span, err, type);
      span.end();
      const seconds = (performance.now() - started) / 1000;
      k.tap.record((m) => {
        const outcome = withError(labels, type);
        m.add('IN_FLIGHT', labels, -1);
        m.inc('CONSUMED_MESSAGES', outcome);
        m.observe('PROCESS_DURATION', outcome, seconds, sc);
      });
      recordE2e(k.tap, labels, at, 'processed', Date.now(), sc);
    },
  };
}

function wrapEachBatch(k: KafkaRuntime, handler: AnyFunction, group: GroupHolder): AnyFunction {
  return traceHandler<EachBatchPayload>(k, 'kafka.eachBatch', handler, (payload) => startBatch(k, payload, group));
}

/**
 * One process span for the whole batch, linking every message's creation context (up to
 * maxBatchLinks). The handler runs with this span active; per-message work gets its own span or
 * context through traceKafkaMessage() / kafkaMessageContext().
 */
function startBatch(k: KafkaRuntime, payload: EachBatchPayload, group: GroupHolder): ProcessRun {
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
  const shape = partitionShape(k, topic, partition, group);
  const attributes: Attributes = { ...shape.attributes, [ATTR.MESSAGING_BATCH_MESSAGE_COUNT]: messages.length };
  const span = k.tap.tracer.startSpan(shape.name, { kind: SpanKind.CONSUMER, attributes, links }, parent);
  if (k.options.consumerHook) {
    const hook = k.options.consumerHook;
    k.tap.guard.run('kafka.consumerHook', () => hook(span, { topic, partition, messageCount: messages.length }));
  }
  const labels = shape.labels;
  const sc = span.spanContext();
  const traces: BatchMessageTrace[] = messages.map((message, i) => {
    const t: BatchMessageTrace = { k, producer: producers[i] ?? parent, batchSpan: span, topic, partition, labels, producedAt: producedAt(message), processedRecorded: false };
    batchMessages.set(message, t);
    recordE2e(k.tap, labels, t.producedAt, 'received', now, sc);
    return t;
  });
  const redeliveries = messages.filter((m) => isRedelivery(group, topic, partition, m.offset)).length;
  k.tap.record((m) => {
    m.add('IN_FLIGHT', labels, messages.length);
    if (redeliveries > 0) m.inc('REDELIVERIES', labels, redeliveries);
  });
  return {
    ctx: trace.setSpan(parent, span),
    end(err) {
      const type = err === undefined ? undefined : errorType(err);
      if (err !== undefined) failSpan(span, err, type);
      span.end();
      const seconds = (performance.now() - started) / 1000;
      const endMs = Date.now();
      k.tap.record((m) => {
        m.add('IN_FLIGHT', labels, -messages.length);
        m.inc('CONSUMED_MESSAGES', withError(labels, type), messages.length);
        // One observation per batch: a batch is one process operation; per-message durations
        // would all be the batch's (exactly what must not happen).
        m.observe('PROCESS_DURATION', withError(labels, type), seconds, sc);
      });
      for (const t of traces) {
        if (!t.processedRecorded) recordE2e(k.tap, labels, t.producedAt, 'processed', endMs, sc);
      }
    },
  };
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
    const attributes: Attributes = { ...k.commonAttributes, [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_PROCESS, [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.PROCESS, [ATTR.MESSAGING_DESTINATION_NAME]: t.topic, [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: String(t.partition) };
    const groupName = t.labels[LABEL.MESSAGING_CONSUMER_GROUP_NAME];
    if (groupName) attributes[ATTR.MESSAGING_CONSUMER_GROUP_NAME] = groupName;
    const span = k.tap.tracer.startSpan(SPAN_NAME.kafkaProcess(t.topic), { kind: SpanKind.CONSUMER, attributes, links }, parent);
    setMessageAttributes(span, message);
    return { span, ctx: trace.setSpan(parent, span) };
  });
  if (!started) return fn();
  const finish = (err: unknown) =>
    k.tap.guard.run('kafka.traceMessage.end', () => {
      if (err !== undefined) failSpan(started.span, err);
      started.span.end();
      t.processedRecorded = true;
      recordE2e(k.tap, t.labels, t.producedAt, 'processed', Date.now(), started.span.spanContext());
    });
  try {
    const result = await context.with(started.ctx, fn);
    finish(undefined);
    return result;
  } catch (err) {
    finish(err);
    throw err;
  }
}

/** Offset commits, group joins, rebalances, crashes and stops, from kafkajs's own events. */
function listenToEvents(consumer: Consumer, k: KafkaRuntime, group: GroupHolder): void {
  const events = (consumer as { events?: Record<string, string> }).events;
  if (!events || typeof consumer.on !== 'function') return;
  const count = (event: string) => k.tap.record((m) => m.inc('KAFKA_CONSUMER_EVENTS', { [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: group.groupId, [LABEL.EVENT]: event }));
  const subscribe = (name: string | undefined, listener: (e: { payload?: Record<string, unknown> }) => void) => {
    if (!name) return;
    const remove = k.tap.guard.run('kafka.events.subscribe', () =>
      consumer.on(name as never, ((e: { payload?: Record<string, unknown> }) => k.tap.guard.run(`kafka.events.${name}`, () => listener(e))) as never),
    );
    if (typeof remove === 'function') k.listeners.push(remove);
  };
  subscribe(events['GROUP_JOIN'], (e) => {
    const id = e.payload?.['groupId'];
    if (typeof id === 'string') group.groupId = id;
    count(KAFKA_CONSUMER_EVENT.GROUP_JOIN);
  });
  subscribe(events['COMMIT_OFFSETS'], () => count(KAFKA_CONSUMER_EVENT.COMMIT_OFFSETS));
  subscribe(events['REBALANCING'], () => count(KAFKA_CONSUMER_EVENT.REBALANCING));
  subscribe(events['STOP'], () => count(KAFKA_CONSUMER_EVENT.STOP));
  subscribe(events['CRASH'], () => count(KAFKA_CONSUMER_EVENT.CRASH));
}
