/**
 * The floor of the micro-benchmark (mode `floor`): the least an instrumentation that creates one
 * OpenTelemetry SDK span per message (one per batch on eachBatch) can cost, written by hand onto the
 * same fake clients. Per message it does only what such an instrumentation cannot leave out: a
 * W3C extract (receive) or inject into a copy of the headers (send), one span with its kind and
 * three attributes, the handler in the span's context, the span ended. No metrics, no error
 * handling, no guards, no per-message attributes: not a usable instrumentation, a measuring stick.
 * An aim set below this figure cannot be met by any instrumentation built on SDK spans.
 */
import { ROOT_CONTEXT, SpanKind, context, propagation, trace } from '@opentelemetry/api';
import type { Context, TextMapGetter } from '@opentelemetry/api';

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const tracer = trace.getTracer('bench-floor');
const KAFKA = { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' };
const AMQP = { 'messaging.system': 'rabbitmq', 'messaging.destination.name': 'orders' };
const kafkaProcess = { kind: SpanKind.CONSUMER, attributes: { ...KAFKA, 'messaging.operation.type': 'process' } };
const kafkaSend = { kind: SpanKind.PRODUCER, attributes: { ...KAFKA, 'messaging.operation.type': 'send' } };
const amqpSend = { kind: SpanKind.PRODUCER, attributes: { ...AMQP, 'messaging.operation.type': 'send' } };
const amqpProcess = { kind: SpanKind.CONSUMER, attributes: { ...AMQP, 'messaging.operation.type': 'process' } };

/** Kafka headers are Buffers (or strings, or arrays of either). */
const kafkaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    if (v === undefined) return undefined;
    const first = Array.isArray(v) ? v[0] : v;
    return first === undefined ? undefined : String(first);
  },
};

function extracted(headers: unknown): Context {
  return propagation.extract(ROOT_CONTEXT, (headers ?? {}) as Record<string, unknown>, kafkaGetter);
}

/** Wraps what the micro-benchmark drives: consumer.run's handlers, producer.send, channel publish and consume. */
export const floor = {
  kafkaRun(consumer: { run: Fn }): void {
    const run = consumer.run;
    consumer.run = function (this: unknown, config: { eachMessage?: Fn; eachBatch?: Fn }) {
      const wrapped = { ...config };
      const eachMessage = config.eachMessage;
      const eachBatch = config.eachBatch;
      if (eachMessage) {
        wrapped.eachMessage = async (payload: { message: { headers?: unknown } }) => {
          const parent = extracted(payload.message.headers);
          const span = tracer.startSpan('process orders', kafkaProcess, parent);
          try {
            return await context.with(trace.setSpan(parent, span), eachMessage, undefined, payload);
          } finally {
            span.end();
          }
        };
      }
      if (eachBatch) {
        wrapped.eachBatch = async (payload: unknown) => {
          const span = tracer.startSpan('process orders', kafkaProcess, ROOT_CONTEXT);
          try {
            return await context.with(trace.setSpan(ROOT_CONTEXT, span), eachBatch, undefined, payload);
          } finally {
            span.end();
          }
        };
      }
      return run.call(this, wrapped);
    };
  },

  kafkaSend(producer: { send: Fn }): void {
    const send = producer.send;
    producer.send = function (this: unknown, record: { topic: string; messages: { headers?: Record<string, unknown> }[] }) {
      const active = context.active();
      const spans = record.messages.map(() => tracer.startSpan('send orders', kafkaSend, active));
      const messages = record.messages.map((m, i) => {
        const headers = { ...m.headers };
        propagation.inject(trace.setSpan(active, spans[i]!), headers);
        return { ...m, headers };
      });
      return send.call(this, { ...record, messages }).finally(() => {
        for (const s of spans) s.end();
      });
    };
  },

  amqpPublish(channel: { publish: Fn }, confirm: boolean): void {
    const publish = channel.publish;
    channel.publish = function (this: unknown, exchange: string, routingKey: string, content: Buffer, options?: { headers?: Record<string, unknown> }, callback?: Fn) {
      const active = context.active();
      const span = tracer.startSpan('publish orders', amqpSend, active);
      const headers = { ...options?.headers };
      propagation.inject(trace.setSpan(active, span), headers);
      const opts = { ...options, headers };
      if (!confirm) {
        const result = publish.call(this, exchange, routingKey, content, opts, callback);
        span.end();
        return result;
      }
      return publish.call(this, exchange, routingKey, content, opts, (err: unknown, ok: unknown) => {
        span.end();
        callback?.(err, ok);
      });
    };
  },

  amqpConsume(channel: { consume: Fn }): void {
    const consume = channel.consume;
    channel.consume = function (this: unknown, queue: string, onMessage: Fn, options?: unknown) {
      return consume.call(this, queue, (msg: { properties: { headers?: unknown } } | null) => {
        if (msg === null) return onMessage(msg);
        const parent = extracted(msg.properties.headers);
        const span = tracer.startSpan('orders process', amqpProcess, parent);
        try {
          return context.with(trace.setSpan(parent, span), onMessage, undefined, msg);
        } finally {
          span.end();
        }
      }, options);
    };
  },
};
