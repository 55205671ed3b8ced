import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { Options } from 'amqplib';
import { AMQP_DEFAULT_EXCHANGE, ATTR, ERROR_TYPE, MESSAGING_SYSTEM, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '@eda-harness/semconv';
import { injectHeaders } from '../shared/header-codec';
import { countSent, finishOperation } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { channelSpanAttributes } from './runtime';
import type { AmqpRuntime, ChannelState } from './runtime';

/** A publish in progress: the rewritten options, the context to call amqplib in, and how to end it. */
interface PreparedPublish {
  readonly options: Options.Publish;
  readonly ctx: Context;
  finish(err: unknown, type: string | undefined): void;
}

/** publish, and with it sendToQueue (which calls this.publish('', queue, …): one span, not two). */
export function getPublishPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedPublish(this: unknown, ...args: unknown[]): unknown {
    const [exchange, routingKey, , options, callback] = args;
    if (typeof exchange !== 'string' || typeof routingKey !== 'string') return original.apply(this, args);
    const confirm = typeof (this as { waitForConfirms?: unknown }).waitForConfirms === 'function';
    const prepared = rt.tap.guard.run('amqp.publish.start', () => preparePublish(rt, state, exchange, routingKey, options));
    if (!prepared) return original.apply(this, args);
    const callArgs: unknown[] = [exchange, routingKey, args[2], prepared.options];
    if (confirm) {
      // The span ends when the broker confirms (or nacks) this message.
      callArgs.push(function onConfirm(this: unknown, err: unknown, ok: unknown): unknown {
        rt.tap.guard.run('amqp.publish.confirm', () => prepared.finish(err ? err : undefined, err ? ERROR_TYPE.NACKED : undefined));
        return typeof callback === 'function' ? (callback as AnyFunction).call(this, err, ok) : undefined;
      });
    }
    let result: unknown;
    try {
      result = context.with(prepared.ctx, () => original.apply(this, callArgs));
    } catch (err) {
      rt.tap.guard.run('amqp.publish.end', () => prepared.finish(err, undefined));
      throw err;
    }
    // A plain channel has no confirm: the message is buffered, which is all we can observe.
    if (!confirm) rt.tap.guard.run('amqp.publish.end', () => prepared.finish(undefined, undefined));
    return result;
  };
}

function preparePublish(rt: AmqpRuntime, state: ChannelState, exchange: string, routingKey: string, options: unknown): PreparedPublish {
  const started = performance.now();
  const opts = (typeof options === 'object' && options !== null ? options : {}) as Options.Publish;
  const destination = `${exchange === '' ? AMQP_DEFAULT_EXCHANGE : exchange}:${routingKey}`;
  const attributes = channelSpanAttributes(state, OPERATION_NAME.RABBITMQ_PUBLISH, OPERATION_TYPE.SEND, destination);
  if (routingKey !== '') attributes[ATTR.MESSAGING_RABBITMQ_ROUTING_KEY] = routingKey;
  if (typeof opts.messageId === 'string') attributes[ATTR.MESSAGING_MESSAGE_ID] = opts.messageId;
  if (typeof opts.correlationId === 'string') attributes[ATTR.MESSAGING_MESSAGE_CONVERSATION_ID] = opts.correlationId;
  const parent = context.active();
  const span = rt.tap.tracer.startSpan(SPAN_NAME.amqpPublish(exchange, routingKey), { kind: SpanKind.PRODUCER, attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  if (rt.options.publishHook) {
    const hook = rt.options.publishHook;
    rt.tap.guard.run('amqp.publishHook', () => hook(span, { exchange, routingKey }));
  }
  // Label by exchange (routing keys are unbounded); on the default exchange the key is a queue.
  const label = exchange === '' ? routingKey : exchange;
  let done = false;
  return {
    options: { ...opts, headers: injectHeaders(opts.headers, ctx, Date.now()) },
    ctx,
    finish(err, type) {
      if (done) return;
      done = true;
      finishOperation(rt.tap, span, started, { error: err, type }, (m, finished) => countSent(m, MESSAGING_SYSTEM.RABBITMQ, label, OPERATION_NAME.RABBITMQ_PUBLISH, 1, finished));
    },
  };
}
