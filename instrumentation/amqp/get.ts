import { SpanKind, trace } from '../shared/otel-api';
import type { Span } from '@opentelemetry/api';
import type { GetMessage } from 'amqplib';
import { ATTR, LABEL, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '../shared/vocabulary';
import { extractContext, readProducedAt } from '../shared/header-codec';
import type { MetricLabels } from '../shared/metrics';
import { finishOperation } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { recordE2e } from '../shared/tap';
import { deliveryAttributes, readNoAck } from './delivery';
import { flagDestination } from './destinations';
import { channelSpanAttributes, isThenable } from './runtime';
import type { AmqpRuntime, ChannelState, Pending } from './runtime';
import { settledAutomatically, track } from './settle';
import { perfNow } from '../shared/clock';

/** A get in progress: its receive span, and how to end it once amqplib answers. */
interface StartedGet {
  readonly span: Span;
  readonly labels: MetricLabels;
  end(err: unknown, failed: boolean, msg: unknown): void;
}

/**
 * get (pull): a CLIENT receive span from the call until amqplib answers, with or without a
 * message. The promise API answers through the returned promise; the callback API
 * (amqplib/callback_api) through get's third argument, and returns the channel, unchanged here.
 */
export function getGetPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedGet(this: unknown, ...args: unknown[]): unknown {
    const [queue, options, callback] = args;
    // A truthy non-function callback makes amqplib throw when it answers: leave that to amqplib.
    if (typeof queue !== 'string' || (state.callbackApi && callback && typeof callback !== 'function')) return original.apply(this, args);
    const started = rt.tap.guard.run('amqp.get.start', () => startGet(rt, state, queue, readNoAck(options)));
    if (!started) return original.apply(this, args);
    let callArgs = args;
    if (state.callbackApi) {
      callArgs = [queue, options, function tracedGetCallback(this: unknown, ...answer: unknown[]): unknown {
        started.end(answer[0], answer[0] !== null && answer[0] !== undefined, answer[1]);
        return typeof callback === 'function' ? (callback as AnyFunction).apply(this, answer) : undefined;
      }];
    }
    let result: unknown;
    try {
      result = original.apply(this, callArgs);
    } catch (err) {
      started.end(err, true, undefined);
      throw err;
    }
    if (state.callbackApi || !isThenable(result)) return result;
    return Promise.resolve(result).then(
      (msg: unknown) => {
        started.end(undefined, false, msg);
        return msg;
      },
      (err: unknown) => {
        started.end(err, true, undefined);
        throw err;
      },
    );
  };
}

function startGet(rt: AmqpRuntime, state: ChannelState, queue: string, noAck: boolean): StartedGet {
  const kind = rt.destinations.queueKind(queue);
  const attributes = channelSpanAttributes(state, OPERATION_NAME.RABBITMQ_RECEIVE, OPERATION_TYPE.RECEIVE);
  if (queue !== '') attributes[ATTR.MESSAGING_DESTINATION_NAME] = queue;
  flagDestination(attributes, kind);
  const span = rt.tap.tracer.startSpan(SPAN_NAME.amqpReceive(queue, kind), { kind: SpanKind.CLIENT, attributes });
  const labels = rt.destinations.deliveryLabels('receive', queue, kind);
  const t0 = perfNow();
  let done = false;
  return {
    span,
    labels,
    end(err, failed, msg) {
      if (done) return;
      done = true;
      rt.tap.guard.run('amqp.get.end', () => {
        if (!failed && typeof msg === 'object' && msg !== null) received(rt, state, queue, msg as GetMessage, span, labels, noAck);
        finishOperation(rt.tap, span, t0, { error: err, failed }, (m, finished) =>
          m.observe('OPERATION_DURATION', finished.type === undefined ? labels : { ...labels, [LABEL.ERROR_TYPE]: finished.type }, finished.seconds, finished.spanContext),
        );
      });
    },
  };
}

/** A message came back: describe it on the receive span, count it consumed, and track it for its settle. */
function received(rt: AmqpRuntime, state: ChannelState, queue: string, msg: GetMessage, span: Span, labels: MetricLabels, noAck: boolean): void {
  const kind = rt.destinations.queueKind(queue);
  span.setAttributes(deliveryAttributes(queue, msg, state, 'receive', kind));
  const sc = trace.getSpanContext(extractContext(msg.properties?.headers));
  if (sc && trace.isSpanContextValid(sc)) span.addLink({ context: sc });
  const producedAt = readProducedAt(msg.properties?.headers);
  const now = Date.now();
  recordE2e(rt.tap, labels, producedAt, 'received', now, span.spanContext());
  rt.tap.record((m) => {
    m.inc('CONSUMED_MESSAGES', labels);
    if (msg.fields.redelivered) m.inc('REDELIVERIES', labels);
  });
  const record: Pending = { deliveryTag: msg.fields.deliveryTag, queue, operation: 'receive', labels, startedPerf: perfNow(), startedMs: now, producedAt, span: undefined, spanContext: span.spanContext(), counted: false };
  // noAck: amqplib acknowledged it on delivery; otherwise its settle is counted when it comes.
  if (noAck) settledAutomatically(rt, record);
  else track(rt, state, record);
}
