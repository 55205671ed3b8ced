import { ROOT_CONTEXT, SpanKind, TraceFlags, context, trace } from '../shared/otel-api';
import type { Attributes, Context, Link, Span, SpanContext, SpanOptions } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, EachMessagePayload, KafkaMessage } from 'kafkajs';
import { ATTR, LABEL, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '../shared/vocabulary';
import { extractParent, isSpanContext, parentContext, unsampledProducer } from '../shared/header-codec';
import type { MetricLabels } from '../shared/metrics';
import { ConsumerCells } from '../shared/consumer-cells';
import { perfNow, wallMs } from '../shared/clock';
import { closeOperationSpan, countProcessed, countSettled, observeProcess, observeSettled } from '../shared/operation';
import type { Finished } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import type { KafkaConsumerHookInfo } from '../types';
import { BatchRecord, batchEnded, batchStarted, withBatch } from './batch-message';
import { listenToEvents } from './consumer-events';
import { copyProperties } from './copy';
import { withConsumerGroup, withSpanAndGroup } from './group-context';
import { producedAt, setMessageAttributes } from './message';
import type { KafkaRuntime } from './runtime';

const DEFAULT_MAX_BATCH_LINKS = 1000;
/** Most topic/partitions whose shape and highest offset one consumer remembers (then it starts over). */
export const MAX_TRACKED_PARTITIONS = 10_000;

/** What the wrappers keep per consumer instance (held by its run() wrapper: it dies with the consumer). */
export interface ConsumerState {
  /** From consumer({ groupId }) or, failing that, its GROUP_JOIN event. */
  groupId: string | undefined;
  /** Per topic, per partition: bounded by {@link MAX_TRACKED_PARTITIONS} in all. */
  readonly topics: Map<string, Map<number, PartitionState>>;
  tracked: number;
  /** The partition of the previous message: consecutive messages usually share it (one lookup saved). */
  last: PartitionState | undefined;
}

/** What the wrappers remember of one topic/partition. */
interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  shape: PartitionShape;
  /** Highest offset handed to a handler, to notice re-consumption (-1: none yet). */
  highest: number;
}

/** What is the same for every message of one topic/partition: computed once, not per message. */
export interface PartitionShape {
  readonly groupId: string | undefined;
  readonly name: string;
  readonly attributes: Readonly<Attributes>;
  readonly labels: MetricLabels;
  /** eachMessage: the span options when no link is added (the sampling-relevant attributes only, frozen). */
  readonly creation: Readonly<SpanOptions>;
  readonly creationAttributes: Readonly<Attributes>;
  /** The attributes samplers do not need, set only on recording spans. */
  readonly recordingOnly: Readonly<Attributes>;
  /** The metric series of this partition, bound on first use (undefined: metrics off). */
  cells: ConsumerCells | undefined | null;
}

/** A process span in progress: the context to run the handler in, the payload to give it, and how to end it. */
interface ProcessRun {
  readonly ctx: Context;
  /** What the handler gets instead of kafkajs's payload (eachBatch: resolveOffset observed). */
  readonly payload?: unknown;
  end(err: unknown, failed: boolean): void;
}

/** Wraps run() of one consumer and subscribes to its instrumentation events. */
export function instrumentConsumer(consumer: Consumer, k: KafkaRuntime, groupId?: string): void {
  const state: ConsumerState = { groupId, topics: new Map(), tracked: 0, last: undefined };
  k.patcher.wrap(consumer, 'run', (original) => getRunPatch(k, original, state));
  listenToEvents(consumer, k, state);
}

function getRunPatch(k: KafkaRuntime, original: AnyFunction, state: ConsumerState): AnyFunction {
  return function tracedRun(this: unknown, ...args: unknown[]): unknown {
    const config = args[0];
    const replaced = k.tap.guard.run('kafka.run', () => {
      if (typeof config !== 'object' || config === null) return undefined;
      // A full copy (a Worker instance's class methods and getters included): the caller's
      // object keeps its own handlers, and kafkajs gets every option the caller set.
      const copy = copyProperties(config);
      // kafkajs's own default: only an absent option means true.
      const autoResolve = copy['eachBatchAutoResolve'] === undefined || Boolean(copy['eachBatchAutoResolve']);
      if (typeof copy['eachMessage'] === 'function') copy['eachMessage'] = traceEachMessage(k, copy['eachMessage'] as AnyFunction, state);
      if (typeof copy['eachBatch'] === 'function') copy['eachBatch'] = traceHandler<EachBatchPayload>(k, 'kafka.eachBatch', copy['eachBatch'] as AnyFunction, (p) => startBatch(k, p, state, autoResolve));
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
    const given = run.payload ?? payload;
    return observeSettled(
      () => context.with(run.ctx, () => handler.call(this, given)),
      (err, failed) => k.tap.guard.run(`${hook}.end`, () => run.end(err, failed)),
    );
  };
}

/** True when this consumer already handed out `offset` of this partition (a retry after a handler error, a rebalance back). */
function isRedelivery(p: PartitionState, offset: number): boolean {
  if (!Number.isSafeInteger(offset)) return false;
  if (offset > p.highest) {
    p.highest = offset;
    return false;
  }
  return true;
}

/** The partition's remembered state, its shape rebuilt when the group id was learned since. */
function partitionState(k: KafkaRuntime, state: ConsumerState, topic: string, partition: number): PartitionState {
  const last = state.last;
  if (last !== undefined && last.partition === partition && last.topic === topic) {
    if (last.shape.groupId !== state.groupId) last.shape = partitionShape(k, topic, partition, state.groupId);
    return last;
  }
  let byPartition = state.topics.get(topic);
  const known = byPartition?.get(partition);
  if (known) {
    if (known.shape.groupId !== state.groupId) known.shape = partitionShape(k, topic, partition, state.groupId);
    state.last = known;
    return known;
  }
  // Bounded: a consumer that has seen very many partitions forgets them all and starts over
  // (at worst a redelivery goes unnoticed once), instead of growing for as long as it runs.
  if (state.tracked >= MAX_TRACKED_PARTITIONS) {
    state.topics.clear();
    state.tracked = 0;
    state.last = undefined;
    byPartition = undefined;
  }
  if (!byPartition) {
    byPartition = new Map();
    state.topics.set(topic, byPartition);
  }
  const created: PartitionState = { topic, partition, shape: partitionShape(k, topic, partition, state.groupId), highest: -1 };
  byPartition.set(partition, created);
  state.tracked++;
  state.last = created;
  return created;
}

function partitionShape(k: KafkaRuntime, topic: string, partition: number, groupId: string | undefined): PartitionShape {
  const attributes: Attributes = {
    ...k.commonAttributes,
    [ATTR.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_PROCESS,
    [ATTR.MESSAGING_OPERATION_TYPE]: OPERATION_TYPE.PROCESS,
    [ATTR.MESSAGING_DESTINATION_NAME]: topic,
    [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
  };
  if (groupId) attributes[ATTR.MESSAGING_CONSUMER_GROUP_NAME] = groupId;
  // What samplers may use (the conventions' list: system, operation, destination, partition,
  // server) goes in at creation; the client id and the group only on spans that record.
  const creationAttributes: Attributes = {};
  const recordingOnly: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (key === ATTR.MESSAGING_CLIENT_ID || key === ATTR.MESSAGING_CONSUMER_GROUP_NAME) recordingOnly[key] = value;
    else creationAttributes[key] = value;
  }
  return {
    groupId,
    name: SPAN_NAME.kafkaProcess(topic),
    attributes,
    creation: Object.freeze({ kind: SpanKind.CONSUMER, attributes: Object.freeze(creationAttributes) }),
    creationAttributes,
    recordingOnly: Object.freeze(recordingOnly),
    cells: null,
    // Frozen: the metrics layer may then cache its prepared labels by this object's identity.
    labels: Object.freeze({
      [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.KAFKA,
      [LABEL.MESSAGING_OPERATION_NAME]: OPERATION_NAME.KAFKA_PROCESS,
      [LABEL.MESSAGING_DESTINATION_NAME]: topic,
      [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: groupId,
    }),
  };
}

function callConsumerHook(k: KafkaRuntime, span: Span, info: KafkaConsumerHookInfo): void {
  const hook = k.options.consumerHook;
  if (hook) k.tap.guard.run('kafka.consumerHook', () => hook(span, info));
}

const HOOK_MESSAGE_START = 'kafka.eachMessage.start';
const HOOK_MESSAGE_END = 'kafka.eachMessage.end';

/** The partition's bound metric series (undefined when metrics are off or binding failed). */
function cellsOf(k: KafkaRuntime, shape: PartitionShape): ConsumerCells | undefined {
  let cells = shape.cells;
  if (cells === null) {
    const m = k.tap.metrics;
    cells = undefined;
    if (m) {
      try {
        cells = new ConsumerCells(m, shape.labels);
      } catch (err) {
        k.tap.guard.report('metrics.record', err);
      }
    }
    shape.cells = cells;
  }
  return cells;
}

/**
 * eachMessage, on the hot path: no async wrapper, no closure per message except the two the
 * handler's promise needs, one lookup for the partition, one clock read per edge, and nothing a
 * sampler does not need on a span that does not record. Telemetry failures are reported, never
 * thrown; the handler's value or error passes through unchanged.
 */
function traceEachMessage(k: KafkaRuntime, handler: AnyFunction, state: ConsumerState): AnyFunction {
  return function tracedEachMessage(this: unknown, payload: unknown): Promise<unknown> {
    let run: MessageRun | undefined;
    try {
      run = startEachMessage(k, payload as EachMessagePayload, state);
    } catch (err) {
      k.tap.guard.report(HOOK_MESSAGE_START, err);
    }
    if (run === undefined) {
      try {
        return Promise.resolve(handler.call(this, payload));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const r = run;
    let result: unknown;
    try {
      result = context.with(r.ctx, handler, this, payload);
    } catch (err) {
      r.end(err, true);
      return Promise.reject(err);
    }
    return Promise.resolve(result).then(
      (value) => {
        r.end(undefined, false);
        return value;
      },
      (err: unknown) => {
        r.end(err, true);
        throw err;
      },
    );
  };
}

/** One eachMessage delivery in progress. */
class MessageRun {
  constructor(
    private readonly k: KafkaRuntime,
    readonly ctx: Context,
    private readonly span: Span | undefined,
    /** The span's context when sampled (exemplars), else undefined. */
    private readonly exemplar: SpanContext | undefined,
    private readonly labels: MetricLabels,
    private readonly cells: ConsumerCells | undefined,
    private readonly startedPerf: number,
    private readonly producedAt: number | undefined,
  ) {}

  /** Never throws. */
  end(err: unknown, failed: boolean): void {
    try {
      const type = closeOperationSpan(this.k.tap, this.span, err, failed);
      const endPerf = perfNow();
      const seconds = (endPerf - this.startedPerf) / 1000;
      const cells = this.cells;
      if (cells === undefined) return;
      if (type === undefined) {
        cells.processed(seconds, this.producedAt, wallMs(endPerf), this.exemplar);
      } else {
        // Failures take the general path (error.type labels); "processed" e2e means success only.
        const m = this.k.tap.metrics;
        const finished: Finished = { type, seconds, spanContext: this.exemplar ?? INVALID_CONTEXT };
        if (m) countProcessed(m, this.labels, 1, finished);
      }
    } catch (e) {
      this.k.tap.guard.report(HOOK_MESSAGE_END, e);
    }
  }
}

const INVALID_CONTEXT: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: TraceFlags.NONE };

function startEachMessage(k: KafkaRuntime, payload: EachMessagePayload, state: ConsumerState): MessageRun {
  const { topic, partition, message } = payload;
  const startedPerf = perfNow();
  const now = wallMs(startedPerf);
  const tap = k.tap;
  const headers = message.headers;
  // The usual message gives the producer's span context straight from the header bytes, without a
  // Context around it; the propagation API's answer (another propagator, tracestate) is a Context.
  const extracted = extractParent(headers);
  const fastProducer = isSpanContext(extracted) ? extracted : undefined;
  const p = partitionState(k, state, topic, partition);
  const shape = p.shape;
  const at = producedAt(message);
  // Push delivery has no ambient span of its own (see processParent): the producer is the parent
  // unless processContext is 'link'.
  const producerSc = fastProducer ?? (extracted === null ? undefined : trace.getSpanContext(extracted as Context));
  const hasProducer = producerSc !== undefined && (fastProducer !== undefined || trace.isSpanContextValid(producerSc));
  const asParent = hasProducer && tap.processContext !== 'link';
  let span: Span | undefined;
  let ctx: Context;
  if (asParent && tap.followParentSampling && (producerSc.traceFlags & TraceFlags.SAMPLED) === 0) {
    // Opt-in: a ParentBased sampler drops this span anyway; the handler runs in the producer's
    // context: its span and the group in one context object when the fast path gave the span context.
    const producerSpan = fastProducer !== undefined ? trace.wrapSpanContext(fastProducer) : undefined;
    ctx = producerSpan !== undefined ? withSpanAndGroup(ROOT_CONTEXT, producerSpan, shape.groupId) : withSpanAndGroup(extracted as Context, undefined, shape.groupId);
    const hook = k.options.consumerHook;
    if (hook) callConsumerHook(k, producerSpan ?? trace.getSpan(extracted as Context) ?? trace.wrapSpanContext(producerSc), { topic, partition, messageCount: 1 });
  } else {
    const parent = asParent ? parentContext(extracted, ROOT_CONTEXT) : ROOT_CONTEXT;
    const options: SpanOptions = hasProducer && (!asParent || tap.linkProducerParent) ? { kind: SpanKind.CONSUMER, attributes: shape.creationAttributes, links: [{ context: producerSc }] } : shape.creation;
    const s = tap.tracer.startSpan(shape.name, options, parent);
    span = s;
    if (s.isRecording()) {
      s.setAttributes(shape.recordingOnly);
      setMessageAttributes(s, message, k.options.messageKeyAttribute !== false);
      if (at !== undefined) s.setAttribute(ATTR.EDA_E2E_LATENCY_MS, now - at);
    }
    if (k.options.consumerHook) callConsumerHook(k, s, { topic, partition, messageCount: 1 });
    // The span and the group the dead-letter API reads, in one context object.
    ctx = withSpanAndGroup(parent, s, shape.groupId);
  }
  const sc = span?.spanContext();
  const exemplar = sc !== undefined && (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
  const redelivered = isRedelivery(p, Number(message.offset));
  const cells = cellsOf(k, shape);
  if (cells) cells.received(1, redelivered ? 1 : 0, at, now, exemplar);
  return new MessageRun(k, ctx, span, exemplar, shape.labels, cells, startedPerf, at);
}

/** The highest offset the handler resolved in this batch (-1: none). */
interface Resolution {
  upTo: number;
}

/**
 * kafkajs's eachBatch payload (its own per-call object, not the user's) with resolveOffset
 * observed, so the batch's end knows which messages the handler finished.
 */
function observeResolution(payload: EachBatchPayload, resolution: Resolution): EachBatchPayload {
  const resolveOffset = payload.resolveOffset as unknown;
  if (typeof resolveOffset !== 'function') return payload;
  return {
    ...payload,
    resolveOffset: function resolveOffsetObserved(this: unknown, ...args: unknown[]): unknown {
      const result = (resolveOffset as AnyFunction).apply(this, args);
      let offset = NaN;
      try {
        offset = Number(args[0]);
      } catch {
        /* an offset that is not even a number: kafkajs has had its say, nothing to count */
      }
      if (offset > resolution.upTo) resolution.upTo = offset;
      return result;
    },
  };
}

/**
 * One process span for the whole batch, linking every message's creation context (up to
 * maxBatchLinks). The handler runs with this span active; per-message work gets its own span or
 * context through traceKafkaMessage() / kafkaMessageContext().
 *
 * Counting: every message is in flight from the batch's start to its end. A message is processed
 * when the handler resolved its offset (or returned, with eachBatchAutoResolve), failed when the
 * handler threw before resolving it, and neither when the handler returned without resolving it
 * (a rebalance, isStale(): kafkajs will deliver it again). A message traced with
 * traceKafkaMessage() is counted by that call, with its own outcome, and not again here.
 */
function startBatch(k: KafkaRuntime, payload: EachBatchPayload, state: ConsumerState, autoResolve: boolean): ProcessRun {
  const { topic, partition, messages } = payload.batch;
  const started = perfNow();
  const now = wallMs(started);
  const maxLinks = k.options.maxBatchLinks ?? DEFAULT_MAX_BATCH_LINKS;
  const p = partitionState(k, state, topic, partition);
  const shape = p.shape;
  const record = new BatchRecord(k, shape, messages);
  const n = record.messages.length;
  const { producedAt: producedAts, offsets } = record;
  const links: Link[] = [];
  const sampledOnly = k.tap.followParentSampling;
  let redeliveries = 0;
  for (let i = 0; i < n; i++) {
    const message = record.messages[i] as KafkaMessage;
    const offset = Number(message.offset);
    offsets[i] = offset;
    if (isRedelivery(p, offset)) redeliveries++;
    producedAts[i] = producedAt(message) ?? NaN;
    // Producers are read for the links only; traceKafkaMessage reads the others when asked. With
    // followParentSampling, an unsampled producer (read from the flags alone) is not linked.
    if (links.length >= maxLinks || (sampledOnly && unsampledProducer(message.headers))) continue;
    // The producer's span context as such when the W3C fast path applies: no Context per message.
    const producer = record.producerOf(i);
    if (producer === null) continue;
    const sc = isSpanContext(producer) ? producer : trace.getSpanContext(producer);
    // followParentSampling: an unsampled producer recorded no span, so there is nothing to link to.
    if (sc === undefined || (sampledOnly && (sc.traceFlags & TraceFlags.SAMPLED) === 0)) continue;
    if (sc === producer || trace.isSpanContextValid(sc)) links.push({ context: sc });
  }
  // Many producers, so none of them can be the parent: the batch span is a root linking them all.
  const parent = ROOT_CONTEXT;
  const attributes: Attributes = { ...shape.attributes, [ATTR.MESSAGING_BATCH_MESSAGE_COUNT]: n };
  const span = k.tap.tracer.startSpan(shape.name, { kind: SpanKind.CONSUMER, attributes, links }, parent);
  record.batchSpan = span;
  callConsumerHook(k, span, { topic, partition, messageCount: n });
  const labels = shape.labels;
  const sc = span.spanContext();
  const exemplar = (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
  const cells = cellsOf(k, shape);
  if (cells) {
    for (let i = 0; i < n; i++) {
      const at = producedAts[i] as number;
      if (at === at) cells.e2e('received', at, now, exemplar);
    }
    cells.inFlight.add(n);
    cells.consumed.add(n);
    if (redeliveries > 0) cells.redeliveries.add(redeliveries);
  }
  const resolution: Resolution = { upTo: -1 };
  batchStarted(record);
  return {
    ctx: withBatch(withConsumerGroup(trace.setSpan(parent, span), shape.groupId), record),
    payload: observeResolution(payload, resolution),
    end(err, failed) {
      batchEnded(record);
      const type = closeOperationSpan(k.tap, span, err, failed);
      const endPerf = perfNow();
      const seconds = (endPerf - started) / 1000;
      if (cells) {
        try {
          if (type === undefined) cells.durationOk.observe(seconds, exemplar);
          else if (k.tap.metrics) observeProcess(k.tap.metrics, labels, { type, seconds, spanContext: sc });
          cells.inFlight.add(-n);
        } catch (e) {
          k.tap.guard.report('metrics.record', e);
        }
      }
      settleBatch(k, record, labels, cells, exemplar, wallMs(endPerf), !failed && autoResolve, resolution.upTo, type);
    },
  };
}

/**
 * Counts the batch's messages not traced on their own: the resolved ones (all, or up to an
 * offset) processed, the rest failed with `failedType` if the handler failed, else left for
 * redelivery.
 */
function settleBatch(k: KafkaRuntime, record: BatchRecord, labels: MetricLabels, cells: ConsumerCells | undefined, exemplar: SpanContext | undefined, endMs: number, all: boolean, upTo: number, failedType: string | undefined): void {
  let processed = 0;
  let failed = 0;
  const { settled, offsets, producedAt } = record;
  const n = settled.length;
  for (let i = 0; i < n; i++) {
    if (settled[i] === 1) continue;
    settled[i] = 1;
    if (all || (offsets[i] as number) <= upTo) {
      processed++;
      const at = producedAt[i] as number;
      if (cells && at === at) cells.e2e('processed', at, endMs, exemplar);
    } else if (failedType !== undefined) {
      failed++;
    }
  }
  if (processed > 0 && cells) cells.processedOk.add(processed);
  if (failed > 0) k.tap.record((m) => countSettled(m, labels, failed, failedType));
}
