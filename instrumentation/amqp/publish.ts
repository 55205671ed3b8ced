import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Context, SpanOptions } from '@opentelemetry/api';
import { ATTR, ERROR_TYPE, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME, rabbitMqPublishDestination, rabbitMqPublishLabel } from '@eda-harness/semconv';
import { existingCreationContext, injectHeaders } from '../shared/header-codec';
import { countSent, finishOperation } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { flagDestination } from './destinations';
import { copyPublishOptions } from './options';
import { channelSpanAttributes } from './runtime';
import type { AmqpRuntime, ChannelState } from './runtime';

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
    const prepared = rt.tap.guard.run('amqp.publish.start', () => preparePublish(rt, state, exchange, routingKey, options));
    if (!prepared) return original.apply(this, args);
    const callArgs: unknown[] = [exchange, routingKey, content, prepared.options];
    if (confirm) {
      // The span ends when the broker confirms or nacks this message, or when the channel closes
      // first (amqplib then fails every unconfirmed publish with "channel closed").
      callArgs.push(function onConfirm(this: unknown, ...answer: unknown[]): unknown {
        const err = answer[0];
        const failed = err !== null && err !== undefined;
        rt.tap.guard.run('amqp.publish.confirm', () => prepared.finish(failed ? err : undefined, failed, failed ? (state.closed ? ERROR_TYPE.CHANNEL_CLOSED : ERROR_TYPE.NACKED) : undefined));
        // The caller's callback runs in the publish span's context, not in the socket's. amqplib
        // skips a falsy callback and calls anything else (a non-function throws, as it did before).
        return callback ? context.with(prepared.ctx, callback as AnyFunction, this, ...answer) : undefined;
      });
    }
    let result: unknown;
    try {
      result = context.with(prepared.ctx, original, this, ...callArgs);
    } catch (err) {
      rt.tap.guard.run('amqp.publish.end', () => prepared.finish(err, true, undefined));
      throw err;
    }
    // A plain channel has no confirm: the message is buffered, which is all we can observe.
    if (!confirm) rt.tap.guard.run('amqp.publish.end', () => prepared.finish(undefined, false, undefined));
    return result;
  };
}

function preparePublish(rt: AmqpRuntime, state: ChannelState, exchange: string, routingKey: string, options: unknown): PreparedPublish {
  const started = performance.now();
  // Everything that reads the caller's options comes before the span starts: a throwing read
  // (a revoked Proxy) abandons instrumentation of this call, and amqplib gets the original.
  const opts = copyPublishOptions(options);
  const headers = opts['headers'];
  const messageId = opts['messageId'];
  const correlationId = opts['correlationId'];
  const parent = context.active();
  const kind = rt.destinations.publishKind(exchange, routingKey, parent);
  const attributes = channelSpanAttributes(state, OPERATION_NAME.RABBITMQ_PUBLISH, OPERATION_TYPE.SEND);
  const destination = rabbitMqPublishDestination(exchange, routingKey);
  if (destination !== '') attributes[ATTR.MESSAGING_DESTINATION_NAME] = destination;
  if (exchange === '') flagDestination(attributes, kind);
  if (routingKey !== '') attributes[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = routingKey;
  if (typeof messageId === 'string') attributes[ATTR.MESSAGING_MESSAGE_ID] = messageId;
  if (typeof correlationId === 'string') attributes[ATTR.MESSAGING_MESSAGE_CONVERSATION_ID] = correlationId;
  // A message that already carries a creation context (a relay, a forwarder) keeps it; the publish links to it.
  const creation = existingCreationContext(headers);
  const spanOptions: SpanOptions = creation ? { kind: SpanKind.PRODUCER, attributes, links: [{ context: creation }] } : { kind: SpanKind.PRODUCER, attributes };
  const span = rt.tap.tracer.startSpan(SPAN_NAME.amqpPublish(exchange, routingKey, kind), spanOptions, parent);
  const ctx = trace.setSpan(parent, span);
  if (rt.options.publishHook) {
    const hook = rt.options.publishHook;
    rt.tap.guard.run('amqp.publishHook', () => hook(span, { exchange, routingKey }));
  }
  // Label by exchange (routing keys are unbounded); on the default exchange the key is a queue.
  const label = rabbitMqPublishLabel(exchange, routingKey, kind);
  opts['headers'] = injectHeaders(headers, ctx, rt.options.producedAtHeader === false ? undefined : Date.now());
  let done = false;
  return {
    options: opts,
    ctx,
    finish(err, failed, type) {
      if (done) return;
      done = true;
      finishOperation(rt.tap, span, started, { error: err, failed, type }, (m, finished) => countSent(m, MESSAGING_SYSTEM.RABBITMQ, label, OPERATION_NAME.RABBITMQ_PUBLISH, 1, finished));
    },
  };
}
