import { SpanKind, trace } from '@opentelemetry/api';
import type { Span, SpanContext } from '@opentelemetry/api';
import type { GetMessage, Options } from 'amqplib';
import { LABEL, OPERATION_NAME, OPERATION_TYPE, SPAN_NAME } from '@eda-harness/semconv';
import { extractContext, readProducedAt } from '../shared/header-codec';
import type { MetricLabels } from '../shared/metrics';
import { finishOperation } from '../shared/operation';
import type { AnyFunction } from '../shared/patcher';
import { recordE2e } from '../shared/tap';
import { consumeLabels, deliveryAttributes, track } from './delivery';
import { channelSpanAttributes } from './runtime';
import type { AmqpRuntime, ChannelState, Pending } from './runtime';

/** get (pull): a CLIENT receive span from the call until amqplib answers, with or without a message. */
export function getGetPatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function tracedGet(this: unknown, ...args: unknown[]): unknown {
    const [queue, options] = args;
    if (typeof queue !== 'string') return original.apply(this, args);
    const started = rt.tap.guard.run('amqp.get.start', () => {
      const attributes = channelSpanAttributes(state, OPERATION_NAME.RABBITMQ_RECEIVE, OPERATION_TYPE.RECEIVE, queue);
      return { span: rt.tap.tracer.startSpan(SPAN_NAME.amqpReceive(queue), { kind: SpanKind.CLIENT, attributes }), t0: performance.now() };
    });
    const result = original.apply(this, args);
    if (!started) return result;
    const noAck = (options as Options.Get | undefined)?.noAck === true;
    const end = (msg: GetMessage | false | undefined, err: unknown) =>
      rt.tap.guard.run('amqp.get.end', () => {
        const { span } = started;
        const labels = consumeLabels(queue);
        if (err === undefined && msg) received(rt, state, queue, msg, span, labels, noAck);
        finishOperation(rt.tap, span, started.t0, { error: err }, (m, finished) =>
          m.observe('OPERATION_DURATION', { ...labels, [LABEL.MESSAGING_OPERATION_NAME]: OPERATION_NAME.RABBITMQ_RECEIVE, [LABEL.ERROR_TYPE]: finished.type }, finished.seconds, finished.spanContext),
        );
      });
    return Promise.resolve(result).then(
      (msg: unknown) => {
        end(msg as GetMessage | false, undefined);
        return msg;
      },
      (err: unknown) => {
        end(undefined, err);
        throw err;
      },
    );
  };
}

/** A message came back: describe it on the receive span, count it, and track it for its settle (DLQ count). */
function received(rt: AmqpRuntime, state: ChannelState, queue: string, msg: GetMessage, span: Span, labels: MetricLabels, noAck: boolean): void {
  span.setAttributes(deliveryAttributes(queue, msg, state, 'receive'));
  const sc: SpanContext | undefined = trace.getSpanContext(extractContext(msg.properties?.headers));
  if (sc && trace.isSpanContextValid(sc)) span.addLink({ context: sc });
  const producedAt = readProducedAt(msg.properties?.headers);
  recordE2e(rt.tap, labels, producedAt, 'received', Date.now(), span.spanContext());
  rt.tap.record((m) => {
    m.inc('CONSUMED_MESSAGES', labels);
    if (msg.fields.redelivered) m.inc('REDELIVERIES', labels);
  });
  if (!noAck) {
    // Spanless and finished: the receive span ends now; the record waits only for the settle.
    const record: Pending = { deliveryTag: msg.fields.deliveryTag, queue, labels, startedPerf: performance.now(), startedMs: Date.now(), producedAt, span: undefined, finished: true };
    track(rt, state, record);
  }
}
