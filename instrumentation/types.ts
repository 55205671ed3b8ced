import type { Span, TracerProvider } from '@opentelemetry/api';
import type { Registry, RegistryContentType } from 'prom-client';

/** Where instrumentation failures go. They are never thrown into the host application. */
export interface InstrumentationLogger {
  warn(message: string, error?: unknown): void;
}

/**
 * How a consumer's process span relates to the producer's context.
 * - `auto` (default) and `parent`: the producer's creation context is the parent (the span joins
 *   the producer's trace) and is also linked, as the conventions ask of process spans.
 * - `link`: link only; the process span starts a new trace.
 *
 * Push consumers (eachMessage, eachBatch, amqplib consume) have no ambient span of their own:
 * the context a client library's internals happen to carry (the span active when consumer.run()
 * or connect() was called) is ignored, so a start-up span never becomes every message's parent.
 * eachBatch spans always link (many producers cannot all be the parent); use traceKafkaMessage()
 * for a per-message span in each producer's trace.
 */
export type ProcessContextMode = 'auto' | 'link' | 'parent';

export interface CommonInstrumentationOptions {
  /** Defaults to the globally registered provider (looked up lazily, so registering later works). */
  readonly tracerProvider?: TracerProvider;
  /** prom-client registry for the metrics; defaults to prom-client's global `register`. */
  readonly registry?: Registry<RegistryContentType>;
  /** Record prom-client metrics (default true). */
  readonly metrics?: boolean;
  /**
   * Attach `trace_id`/`span_id` exemplars to histograms. Default: on when the registry's content
   * type is OpenMetrics (the only format that can carry exemplars).
   */
  readonly exemplars?: boolean;
  /** Cap on label combinations per metric; further combinations collapse into `_overflow`. Default 1000. */
  readonly maxSeriesPerMetric?: number;
  /** Default: console.warn for the first failure of each hook, then silence. */
  readonly logger?: InstrumentationLogger;
  /** Default `auto`; see {@link ProcessContextMode}. */
  readonly processContext?: ProcessContextMode;
  /**
   * What a failure's message becomes in span status and exception events. Error messages often
   * quote payload text (a JSON.parse error, a validation message), so they can carry personal data.
   * - `record` (default): the message as thrown;
   * - `omit`: only the error type (`error.type`), no message and no stack trace;
   * - a function: its return value (a failure inside it falls back to `omit`).
   */
  readonly errorMessages?: ErrorMessageMode;
  /**
   * Write the `eda-produced-at` header (epoch milliseconds) on every message sent, for end-to-end
   * latency. Default true. With false, consumers fall back to the Kafka record timestamp; AMQP has
   * no e2e latency then.
   */
  readonly producedAtHeader?: boolean;
  /**
   * Opt-in: create no process span for a message whose producer context is unsampled (Kafka
   * eachMessage, traceKafkaMessage in eachBatch, AMQP consume). Set it only when the tracer
   * provider's sampler is ParentBased (the SDK's default), which drops such spans anyway: the
   * handler then runs in the producer's context
   * (same trace, still unsampled), so what it sends downstream carries the same unsampled trace as
   * before, and the metrics are recorded as always; only the cost of the non-recording span is
   * saved. An eachBatch span (a root: the root sampler decides) then links only the sampled
   * producers, since an unsampled one recorded no span to link to. A send (AMQP publish, Kafka
   * send, create and transaction spans) under an unsampled parent gets, without the SDK, the span
   * such a sampler makes: non-recording, in the parent's trace, a new span id, unsampled flags
   * and the parent's trace state, so the message carries what it would have (a custom id
   * generator of the tracer provider is not asked for that span id). Default false.
   */
  readonly followParentSampling?: boolean;
  /**
   * Also link a process span to the producer's context when that context is its parent (default
   * true, as the messaging conventions ask). false saves a link per message: the parent already
   * says the same.
   */
  readonly linkProducerParent?: boolean;
}

/** See {@link CommonInstrumentationOptions.errorMessages}. */
export type ErrorMessageMode = 'record' | 'omit' | ((error: unknown) => string);

export interface KafkaProducerHookInfo {
  readonly topic: string;
  readonly messageCount: number;
}

export interface KafkaConsumerHookInfo {
  readonly topic: string;
  readonly partition: number;
  /** Number of messages the span covers (1 for eachMessage). */
  readonly messageCount: number;
}

export interface KafkaInstrumentationOptions extends CommonInstrumentationOptions {
  /** Bootstrap brokers, for `server.address` / `server.port` (kafkajs does not expose its config). */
  readonly brokers?: readonly string[];
  /** kafkajs clientId, for `messaging.client.id`. */
  readonly clientId?: string;
  /**
   * One short `create {topic}` span per message, each message carrying its own creation context;
   * the send span (then CLIENT) links to every one. Default false: the send span itself is the
   * creation context of every message it sends, which is cheaper and what most users want.
   */
  readonly perMessageCreateSpans?: boolean;
  /**
   * Set `messaging.kafka.message.key` on spans (default true). Keys are often customer or account
   * ids: turn this off when they count as personal data.
   */
  readonly messageKeyAttribute?: boolean;
  /** Most links an eachBatch process span carries (default 1000); the rest are counted, not linked. */
  readonly maxBatchLinks?: number;
  /** Called after a send span starts; failures are logged. */
  readonly producerHook?: (span: Span, info: KafkaProducerHookInfo) => void;
  /** Called after a process span starts; failures are logged. */
  readonly consumerHook?: (span: Span, info: KafkaConsumerHookInfo) => void;
}

export interface AmqpPublishHookInfo {
  readonly exchange: string;
  readonly routingKey: string;
}

export interface AmqpConsumeHookInfo {
  readonly queue: string;
  readonly deliveryTag: number;
}

export interface AmqpInstrumentationOptions extends CommonInstrumentationOptions {
  /**
   * Dead-letter exchange per queue, for queues whose DLX comes from a broker policy. DLXs set
   * through `assertQueue` arguments on an instrumented channel are learned automatically.
   */
  readonly deadLetterExchanges?: Readonly<Record<string, string>>;
  /**
   * A delivery not settled within this time ends its span with error.type=timeout, so a handler
   * that forgets to ack cannot leak spans forever. Default 1 800 000 ms (30 minutes, RabbitMQ's own
   * consumer_timeout); a settle arriving later is still counted.
   */
  readonly settleTimeoutMs?: number;
  /** Most unsettled deliveries tracked per channel (default 10 000); the oldest is ended beyond that. */
  readonly maxPendingDeliveries?: number;
  readonly publishHook?: (span: Span, info: AmqpPublishHookInfo) => void;
  readonly consumeHook?: (span: Span, info: AmqpConsumeHookInfo) => void;
}

/** Returned by the explicit wrappers: undoes exactly what they did. */
export interface InstrumentationHandle {
  /** Restores every method the wrapper replaced and removes its event listeners. */
  uninstrument(): void;
}
