import { SpanKind, TraceFlags, context } from '../shared/otel-api';
import type { Context, Span, SpanOptions } from '@opentelemetry/api';
import type { DestinationKind } from '@eda-harness/semconv';
import { ATTR, ERROR_TYPE, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME, rabbitMqPublishDestination, rabbitMqPublishLabel } from '../shared/vocabulary';
import { existingCreationContext, injectHeaders } from '../shared/header-codec';
import { perfNow, wallMs } from '../shared/clock';
import { withSpan } from '../shared/span-overlay';
import { closeOperationSpan, countSent } from '../shared/operation';
import type { Finished } from '../shared/operation';
import { bindSendCells, sendLabels } from '../shared/send-cells';
import type { AnyFunction } from '../shared/patcher';
import { flagDestination } from './destinations';
import { copyPublishOptions } from './options';
import { channelSpanAttributes } from './runtime';
import type { AmqpRuntime, ChannelState, PublishShape } from './runtime';

/** A publish in progress: the rewritten options, the context to call amqplib in, and how to end it. */
interface PreparedPublish {
  readonly options: Record<string, unknown>;
  readonly ctx: Context;
  finish(err: unknown, failed: boolean, type: string | undefined): void;
}

/** publish, and with it sendToQueue (which calls this.publish('', queue, …): one span, not two). */
export function getPublishPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedPublish(this: unknown, ...args: unknown[]): unknown {
    const [exchange, routingKey, content, options, callback] = args;
    if (typeof exchange !== 'string' || typeof routingKey !== 'string') return original.apply(this, args);
    const confirm = typeof (this as { waitForConfirms?: unknown } | undefined)?.waitForConfirms === 'function';
    let started: PreparedPublish | undefined;
    try {
      started = preparePublish(rt, state, exchange, routingKey, options);
    } catch (err) {
      rt.tap.guard.report('amqp.publish.start', err);
    }
    if (!started) return original.apply(this, args);
    const prepared = started;
    const callArgs: unknown[] = [exchange, routingKey, content, prepared.options];
    if (confirm) {
      // The span ends when the broker confirms or nacks this message, or when the channel closes
      // first (amqplib then fails every unconfirmed publish with "channel closed").
      callArgs.push(function onConfirm(this: unknown, ...answer: unknown[]): unknown {
        const err = answer[0];
        const failed = err !== null && err !== undefined;
        try {
          prepared.finish(failed ? err : undefined, failed, failed ? (state.closed ? ERROR_TYPE.CHANNEL_CLOSED : ERROR_TYPE.NACKED) : undefined);
        } catch (e) {
          rt.tap.guard.report('amqp.publish.confirm', e);
        }
        // The caller's callback runs in the publish span's context, not in the socket's. amqplib
        // skips a falsy callback and calls anything else (a non-function throws, as it did before).
        return callback ? context.with(prepared.ctx, callback as AnyFunction, this, ...answer) : undefined;
      });
    }
    let result: unknown;
    try {
      result = context.with(prepared.ctx, original, this, ...callArgs);
    } catch (err) {
      try {
        prepared.finish(err, true, undefined);
      } catch (e) {
        rt.tap.guard.report('amqp.publish.end', e);
      }
      throw err;
    }
    // A plain channel has no confirm: the message is buffered, which is all we can observe.
    if (!confirm) {
      try {
        prepared.finish(undefined, false, undefined);
      } catch (err) {
        rt.tap.guard.report('amqp.publish.end', err);
      }
    }
    return result;
  };
}

/** Most (exchange, routing key) shapes remembered per channel; then they start over. */
const MAX_PUBLISH_SHAPES = 256;

function publishShape(state: ChannelState, exchange: string, routingKey: string, kind: DestinationKind): PublishShape {
  let byExchange = state.publishShapes;
  if (!byExchange || (state.publishShapeCount ?? 0) >= MAX_PUBLISH_SHAPES) {
    byExchange = state.publishShapes = new Map();
    state.publishShapeCount = 0;
  }
  let byKey = byExchange.get(exchange);
  const known = byKey?.get(routingKey);
  if (known && known.kind === kind) return known;
  const attributes = channelSpanAttributes(state, OPERATION_NAME.RABBITMQ_PUBLISH, OPERATION_TYPE.SEND);
  const destination = rabbitMqPublishDestination(exchange, routingKey);
  if (destination !== '') attributes[ATTR.MESSAGING_DESTINATION_NAME] = destination;
  if (exchange === '') flagDestination(attributes, kind);
  if (routingKey !== '') attributes[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = routingKey;
  Object.freeze(attributes);
  const shape: PublishShape = {
    kind,
    name: SPAN_NAME.amqpPublish(exchange, routingKey, kind),
    attributes,
    options: Object.freeze({ kind: SpanKind.PRODUCER, attributes }),
    // Label by exchange (routing keys are unbounded); on the default exchange the key is a queue.
    label: rabbitMqPublishLabel(exchange, routingKey, kind),
    cells: null,
  };
  if (!byKey) {
    byKey = new Map();
    byExchange.set(exchange, byKey);
  }
  if (!known) state.publishShapeCount = (state.publishShapeCount ?? 0) + 1;
  byKey.set(routingKey, shape);
  return shape;
}

/** One publish in progress; finish() counts it once, through the shape's bound series on success. */
class PublishRun implements PreparedPublish {
  private done = false;
  constructor(
    private readonly rt: AmqpRuntime,
    readonly options: Record<string, unknown>,
    readonly ctx: Context,
    private readonly span: Span,
    private readonly shape: PublishShape,
    private readonly startedPerf: number,
  ) {}

  finish(err: unknown, failed: boolean, type: string | undefined): void {
    if (this.done) return;
    this.done = true;
    const rt = this.rt;
    const outcome = closeOperationSpan(rt.tap, this.span, err, failed, type);
    const seconds = (perfNow() - this.startedPerf) / 1000;
    const m = rt.tap.metrics;
    if (!m) return;
    const sc = this.span.spanContext();
    if (outcome === undefined) {
      const shape = this.shape;
      let cells = shape.cells;
      if (cells === null) cells = shape.cells = bindSendCells(m, sendLabels(MESSAGING_SYSTEM.RABBITMQ, OPERATION_NAME.RABBITMQ_PUBLISH, shape.label), (e) => rt.tap.guard.report('metrics.record', e));
      if (cells) cells.succeeded(1, seconds, (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined);
      return;
    }
    const finished: Finished = { type: outcome, seconds, spanContext: sc };
    countSent(m, MESSAGING_SYSTEM.RABBITMQ, this.shape.label, OPERATION_NAME.RABBITMQ_PUBLISH, 1, finished);
  }
}

function preparePublish(rt: AmqpRuntime, state: ChannelState, exchange: string, routingKey: string, options: unknown): PreparedPublish {
  const started = perfNow();
  // Everything that reads the caller's options comes before the span starts: a throwing read
  // (a revoked Proxy) abandons instrumentation of this call, and amqplib gets the original.
  const opts = copyPublishOptions(options);
  const headers = opts['headers'];
  const messageId = opts['messageId'];
  const correlationId = opts['correlationId'];
  const parent = context.active();
  const kind = rt.destinations.publishKind(exchange, routingKey, parent);
  const shape = publishShape(state, exchange, routingKey, kind);
  // A message that already carries a creation context (a relay, a forwarder) keeps it; the publish links to it.
  const creation = headers === undefined || headers === null ? undefined : existingCreationContext(headers);
  const spanOptions: SpanOptions = creation ? { kind: SpanKind.PRODUCER, attributes: shape.attributes, links: [{ context: creation }] } : shape.options;
  const span = rt.tap.startSendSpan(shape.name, spanOptions, parent);
  if (span.isRecording()) {
    // Per message, and no sampler needs them: on spans that record only.
    if (typeof messageId === 'string') span.setAttribute(ATTR.MESSAGING_MESSAGE_ID, messageId);
    if (typeof correlationId === 'string') span.setAttribute(ATTR.MESSAGING_MESSAGE_CONVERSATION_ID, correlationId);
  }
  const ctx = withSpan(parent, span);
  if (rt.options.publishHook) {
    const hook = rt.options.publishHook;
    rt.tap.guard.run('amqp.publishHook', () => hook(span, { exchange, routingKey }));
  }
  opts['headers'] = injectHeaders(headers, ctx, rt.options.producedAtHeader === false ? undefined : wallMs(started));
  return new PublishRun(rt, opts, ctx, span, shape, started);
}
