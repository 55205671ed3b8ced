/**
 * The telemetry vocabulary of eda-harness, declared once.
 *
 * Every span name pattern, span attribute, header name, metric name, label name and bucket list
 * used by the instrumentation, the exporter, the dashboards and the alert rules comes from this
 * file. A name that is not here does not exist: dashboards and alerts are checked against
 * {@link METRICS}, and the README tables are printed from it (`scripts/gen-telemetry-tables.ts`).
 *
 * Attribute names follow the OpenTelemetry messaging semantic conventions v1.44. They are copied
 * here rather than imported from `@opentelemetry/semantic-conventions/incubating` because the
 * messaging conventions are still "Development": a rename upstream must not silently change what
 * our dashboards query.
 */

/** Semantic-conventions version the attribute names below follow. */
export const SEMCONV_VERSION = '1.44.0' as const;

// ---------------------------------------------------------------------------------------------
// Span attributes
// ---------------------------------------------------------------------------------------------

export const ATTR = {
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_OPERATION_NAME: 'messaging.operation.name',
  MESSAGING_OPERATION_TYPE: 'messaging.operation.type',
  MESSAGING_DESTINATION_NAME: 'messaging.destination.name',
  MESSAGING_DESTINATION_PARTITION_ID: 'messaging.destination.partition.id',
  MESSAGING_DESTINATION_ANONYMOUS: 'messaging.destination.anonymous',
  MESSAGING_CONSUMER_GROUP_NAME: 'messaging.consumer.group.name',
  MESSAGING_CLIENT_ID: 'messaging.client.id',
  MESSAGING_MESSAGE_ID: 'messaging.message.id',
  MESSAGING_MESSAGE_CONVERSATION_ID: 'messaging.message.conversation_id',
  MESSAGING_BATCH_MESSAGE_COUNT: 'messaging.batch.message_count',
  MESSAGING_KAFKA_MESSAGE_KEY: 'messaging.kafka.message.key',
  MESSAGING_KAFKA_MESSAGE_TOMBSTONE: 'messaging.kafka.message.tombstone',
  MESSAGING_KAFKA_OFFSET: 'messaging.kafka.offset',
  MESSAGING_RABBITMQ_ROUTING_KEY: 'messaging.rabbitmq.destination.routing_key',
  MESSAGING_RABBITMQ_DELIVERY_TAG: 'messaging.rabbitmq.message.delivery_tag',
  ERROR_TYPE: 'error.type',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  // eda-harness extensions (namespaced so they never collide with a future semconv name).
  /** How an AMQP delivery was settled: ack, nack, reject, auto (noAck) or none (timed out/closed). */
  EDA_SETTLEMENT: 'eda.amqp.settlement',
  /** Whether a nack/reject asked the broker to requeue. */
  EDA_REQUEUE: 'eda.amqp.requeue',
  /** AMQP `redelivered` flag. */
  EDA_REDELIVERED: 'eda.amqp.redelivered',
  /** Dead-letter exchange the message was routed to (nack/reject with requeue=false). */
  EDA_DEAD_LETTER_EXCHANGE: 'eda.amqp.dead_letter_exchange',
  /** produced-at → process start, in milliseconds (may be negative under clock skew). */
  EDA_E2E_LATENCY_MS: 'eda.message.e2e_latency_ms',
  /** Kafka transactional id on transaction spans. */
  EDA_KAFKA_TRANSACTIONAL_ID: 'eda.kafka.transactional_id',
} as const;

export type AttributeName = (typeof ATTR)[keyof typeof ATTR];

export const MESSAGING_SYSTEM = { KAFKA: 'kafka', RABBITMQ: 'rabbitmq' } as const;
export type MessagingSystem = (typeof MESSAGING_SYSTEM)[keyof typeof MESSAGING_SYSTEM];

/** `messaging.operation.type` values. */
export const OPERATION_TYPE = {
  CREATE: 'create',
  SEND: 'send',
  RECEIVE: 'receive',
  PROCESS: 'process',
  SETTLE: 'settle',
} as const;

/** `messaging.operation.name` values (system-specific, as the conventions allow). */
export const OPERATION_NAME = {
  KAFKA_SEND: 'send',
  KAFKA_CREATE: 'create',
  KAFKA_PROCESS: 'process',
  KAFKA_COMMIT: 'commit',
  RABBITMQ_PUBLISH: 'publish',
  RABBITMQ_PROCESS: 'process',
  RABBITMQ_RECEIVE: 'receive',
  RABBITMQ_ACK: 'ack',
  RABBITMQ_NACK: 'nack',
  RABBITMQ_REJECT: 'reject',
  TRANSACTION: 'transaction',
} as const;

/** `error.type` values we set ourselves (otherwise it is the error's class name). */
export const ERROR_TYPE = {
  OTHER: '_OTHER',
  REJECTED: 'rejected',
  NACKED: 'nacked',
  TIMEOUT: 'timeout',
  CHANNEL_CLOSED: 'channel_closed',
} as const;

// ---------------------------------------------------------------------------------------------
// Span names: `{operation} {destination}`, destination omitted when anonymous or unknown
// ---------------------------------------------------------------------------------------------

/** The RabbitMQ default exchange has the empty name; the conventions spell it this way. */
export const AMQP_DEFAULT_EXCHANGE = 'amq.default' as const;

export const SPAN_NAME = {
  /** Kafka `send` / `sendBatch` (PRODUCER, one per call). */
  kafkaSend: (topic: string | undefined) => spanName(OPERATION_NAME.KAFKA_SEND, topic),
  /** Optional per-message creation span for Kafka (PRODUCER). */
  kafkaCreate: (topic: string) => spanName(OPERATION_NAME.KAFKA_CREATE, topic),
  /** Kafka `eachMessage` / `eachBatch` (CONSUMER). */
  kafkaProcess: (topic: string) => spanName(OPERATION_NAME.KAFKA_PROCESS, topic),
  /** A kafkajs `transaction()` from start to commit/abort (INTERNAL). */
  kafkaTransaction: () => OPERATION_NAME.TRANSACTION,
  /**
   * AMQP `publish` / `sendToQueue` (PRODUCER). Named after the exchange, never the routing key:
   * routing keys are often unbounded (order ids), exchanges are not. On the default exchange the
   * routing key is a queue name, so it is used there.
   */
  amqpPublish: (exchange: string, routingKey: string) =>
    spanName(OPERATION_NAME.RABBITMQ_PUBLISH, exchange === '' ? routingKey : exchange),
  /** AMQP `consume` delivery (CONSUMER); server-named queues (`amq.gen-…`) are omitted. */
  amqpProcess: (queue: string) => spanName(OPERATION_NAME.RABBITMQ_PROCESS, isAnonymousQueue(queue) ? undefined : queue),
  /** AMQP `get` (CLIENT). */
  amqpReceive: (queue: string) => spanName(OPERATION_NAME.RABBITMQ_RECEIVE, isAnonymousQueue(queue) ? undefined : queue),
} as const;

function spanName(operation: string, destination: string | undefined): string {
  return destination ? `${operation} ${destination}` : operation;
}

/** RabbitMQ server-named queues: temporary, unbounded names that must not reach span names. */
export function isAnonymousQueue(queue: string): boolean {
  return queue === '' || queue.startsWith('amq.gen-');
}

// ---------------------------------------------------------------------------------------------
// Message headers written by producers
// ---------------------------------------------------------------------------------------------

export const HEADER = {
  /** Milliseconds since the epoch when the producer handed the message to the client (decimal string). */
  PRODUCED_AT: 'eda-produced-at',
} as const;

/** Header values longer than this are ignored when reading (W3C baggage allows 8192 bytes). */
export const MAX_HEADER_VALUE_BYTES = 8192 as const;
/** At most this many header keys are scanned for a case-insensitive match. */
export const MAX_HEADER_KEYS_SCANNED = 256 as const;

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/** Prometheus label names (semconv attribute names with dots turned into underscores). */
export const LABEL = {
  MESSAGING_SYSTEM: 'messaging_system',
  MESSAGING_DESTINATION_NAME: 'messaging_destination_name',
  MESSAGING_CONSUMER_GROUP_NAME: 'messaging_consumer_group_name',
  MESSAGING_OPERATION_NAME: 'messaging_operation_name',
  ERROR_TYPE: 'error_type',
  /** e2e latency measured at handler start (`received`) or at handler end / settle (`processed`). */
  STAGE: 'stage',
  SOURCE: 'source',
  DLQ: 'dlq',
  REASON: 'reason',
  EVENT: 'event',
  HOOK: 'hook',
  // exporter labels
  GROUP: 'group',
  TOPIC: 'topic',
  PARTITION: 'partition',
  QUEUE: 'queue',
  STATE: 'state',
  SYSTEM: 'system',
  TARGET: 'target',
} as const;

export type LabelName = (typeof LABEL)[keyof typeof LABEL];

/** The value a label takes once its metric has reached its cardinality cap. */
export const LABEL_OVERFLOW_VALUE = '_overflow' as const;
/** Default cap on distinct label-value combinations per metric. */
export const DEFAULT_MAX_SERIES_PER_METRIC = 1000 as const;

export const E2E_STAGE = { RECEIVED: 'received', PROCESSED: 'processed' } as const;

/** `reason` values of eda_dlq_messages_total (the RabbitMQ x-death reasons plus two of ours). */
export const DLQ_REASON = {
  HANDLER_ERROR: 'handler_error',
  REJECTED: 'rejected',
  EXPIRED: 'expired',
  MAXLEN: 'maxlen',
  DELIVERY_LIMIT: 'delivery_limit',
  DECODE_ERROR: 'decode_error',
} as const;
export type DlqReason = (typeof DLQ_REASON)[keyof typeof DLQ_REASON];

/** `event` values of eda_kafka_consumer_events_total, from kafkajs instrumentation events. */
export const KAFKA_CONSUMER_EVENT = {
  COMMIT_OFFSETS: 'commit_offsets',
  GROUP_JOIN: 'group_join',
  REBALANCING: 'rebalancing',
  CRASH: 'crash',
  STOP: 'stop',
} as const;

/** eda_kafka_consumer_status values (Burrow-style evaluation), exported as numbers. */
export const KAFKA_CONSUMER_STATUS = { OK: 0, WARN: 1, STALL: 2, STOP: 3, ERR: 4 } as const;

/** `target` values of the eda_exporter_* health metrics: one per broker the exporter polls. */
export const EXPORTER_TARGET = { KAFKA: 'kafka', RABBITMQ: 'rabbitmq' } as const;

/** `state` values of eda_rabbitmq_queue_messages. */
export const QUEUE_MESSAGE_STATE = { READY: 'ready', UNACKED: 'unacked' } as const;

/** `messaging_operation_name` values of eda_rabbitmq_queue_message_rate (management API message_stats). */
export const RABBITMQ_QUEUE_OPERATION = { PUBLISH: 'publish', DELIVER: 'deliver', ACK: 'ack', REDELIVER: 'redeliver' } as const;

/** `source` of a dead-letter destination whose origin cannot be told (several candidates, or none). */
export const DLQ_SOURCE_UNKNOWN = '_unknown' as const;

/** Semantic-conventions bucket advice for messaging durations, in seconds. */
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

/** End-to-end latency spans broker queueing and backlogs, so it needs a longer tail. */
export const E2E_LATENCY_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
] as const;

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
  readonly labels: readonly LabelName[];
  readonly buckets?: readonly number[];
  /** Who produces it: the in-process instrumentation or the lag/DLQ exporter. */
  readonly producedBy: 'instrumentation' | 'exporter';
}

const L = LABEL;

/** Every metric eda-harness exports, keyed by a stable identifier. */
export const METRIC = {
  SENT_MESSAGES: {
    name: 'messaging_client_sent_messages_total',
    type: 'counter',
    help: 'Messages a producer attempted to send (semconv messaging.client.sent.messages); error_type is set when the send failed.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.ERROR_TYPE],
    producedBy: 'instrumentation',
  },
  CONSUMED_MESSAGES: {
    name: 'messaging_client_consumed_messages_total',
    type: 'counter',
    help: 'Messages delivered to a consumer handler, once per delivery (semconv messaging.client.consumed.messages); error_type is set when processing failed.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME, L.ERROR_TYPE],
    producedBy: 'instrumentation',
  },
  PROCESS_DURATION: {
    name: 'messaging_process_duration_seconds',
    type: 'histogram',
    help: 'Handler processing time (semconv messaging.process.duration): eachMessage, one eachBatch call, or AMQP delivery to settle.',
    unit: 's',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME, L.ERROR_TYPE],
    buckets: DURATION_BUCKETS_SECONDS,
    producedBy: 'instrumentation',
  },
  OPERATION_DURATION: {
    name: 'messaging_client_operation_duration_seconds',
    type: 'histogram',
    help: 'Client operation time (semconv messaging.client.operation.duration): send (to broker ack or confirm) and receive (AMQP get).',
    unit: 's',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_OPERATION_NAME, L.MESSAGING_DESTINATION_NAME, L.ERROR_TYPE],
    buckets: DURATION_BUCKETS_SECONDS,
    producedBy: 'instrumentation',
  },
  E2E_LATENCY: {
    name: 'eda_message_e2e_latency_seconds',
    type: 'histogram',
    help: 'Produced-at header to handler start (stage=received) and to handler end or settle (stage=processed). Negative values are counted in eda_message_e2e_negative_latency_total instead.',
    unit: 's',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME, L.STAGE],
    buckets: E2E_LATENCY_BUCKETS_SECONDS,
    producedBy: 'instrumentation',
  },
  E2E_NEGATIVE_LATENCY: {
    name: 'eda_message_e2e_negative_latency_total',
    type: 'counter',
    help: 'Messages whose produced-at lies in the consumer\'s future (clock skew between hosts); not observed in the latency histogram.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME],
    producedBy: 'instrumentation',
  },
  DLQ_MESSAGES: {
    name: 'eda_dlq_messages_total',
    type: 'counter',
    help: 'Messages sent to a dead-letter destination by a consumer (AMQP nack/reject with requeue=false on a queue with a dead-letter exchange, or recordDeadLetter()).',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.SOURCE, L.DLQ, L.REASON],
    producedBy: 'instrumentation',
  },
  REDELIVERIES: {
    name: 'eda_message_redeliveries_total',
    type: 'counter',
    help: 'Redeliveries: AMQP deliveries flagged redelivered; Kafka offsets a consumer receives again after it already handed them to its handler (retry after a handler error, rebalance back), as seen by that process.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME],
    producedBy: 'instrumentation',
  },
  IN_FLIGHT: {
    name: 'eda_messages_in_flight',
    type: 'gauge',
    help: 'Messages handed to a handler and not yet finished (Kafka) or not yet settled (AMQP).',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME],
    producedBy: 'instrumentation',
  },
  KAFKA_CONSUMER_EVENTS: {
    name: 'eda_kafka_consumer_events_total',
    type: 'counter',
    help: 'kafkajs consumer instrumentation events: offset commits, group joins, rebalances, crashes, stops.',
    unit: '{event}',
    labels: [L.MESSAGING_CONSUMER_GROUP_NAME, L.EVENT],
    producedBy: 'instrumentation',
  },
  INSTRUMENTATION_ERRORS: {
    name: 'eda_instrumentation_errors_total',
    type: 'counter',
    help: 'Failures inside the instrumentation itself (logged and swallowed so the host keeps running).',
    unit: '{error}',
    labels: [L.HOOK],
    producedBy: 'instrumentation',
  },
  // ---- exporter (lag / DLQ / queue depth, polled from the brokers) ----
  KAFKA_CONSUMER_LAG_MESSAGES: {
    name: 'eda_kafka_consumer_lag_messages',
    type: 'gauge',
    help: 'Log-end offset minus committed offset per partition; never negative, never -1.',
    unit: '{message}',
    labels: [L.GROUP, L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_LAG_SECONDS: {
    name: 'eda_kafka_consumer_lag_seconds',
    type: 'gauge',
    help: 'Age of the oldest unconsumed message per partition; 0 when caught up, never NaN.',
    unit: 's',
    labels: [L.GROUP, L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_LAST_COMMIT: {
    name: 'eda_kafka_consumer_last_commit_timestamp_seconds',
    type: 'gauge',
    help: 'When the group last moved its committed offset on this partition (Unix seconds).',
    unit: 's',
    labels: [L.GROUP, L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_STATUS: {
    name: 'eda_kafka_consumer_status',
    type: 'gauge',
    help: 'Burrow-style group evaluation: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 ERR.',
    unit: '1',
    labels: [L.GROUP],
    producedBy: 'exporter',
  },
  RABBITMQ_QUEUE_MESSAGES: {
    name: 'eda_rabbitmq_queue_messages',
    type: 'gauge',
    help: 'Messages in a queue by state (ready, unacked).',
    unit: '{message}',
    labels: [L.QUEUE, L.STATE],
    producedBy: 'exporter',
  },
  RABBITMQ_QUEUE_CONSUMERS: {
    name: 'eda_rabbitmq_queue_consumers',
    type: 'gauge',
    help: 'Consumers attached to a queue.',
    unit: '{consumer}',
    labels: [L.QUEUE],
    producedBy: 'exporter',
  },
  DLQ_DEPTH: {
    name: 'eda_dlq_depth_messages',
    type: 'gauge',
    help: 'Messages waiting in a dead-letter topic or queue (found by pattern or DLX arguments).',
    unit: '{message}',
    labels: [L.SYSTEM, L.DLQ],
    producedBy: 'exporter',
  },
  DLQ_OLDEST_AGE: {
    name: 'eda_dlq_oldest_message_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest message in a dead-letter topic or queue.',
    unit: 's',
    labels: [L.SYSTEM, L.DLQ],
    producedBy: 'exporter',
  },
  EXPORTER_UP: {
    name: 'eda_exporter_up',
    type: 'gauge',
    help: '1 when the last collection from the target succeeded, else 0.',
    unit: '1',
    labels: [L.TARGET],
    producedBy: 'exporter',
  },
  EXPORTER_COLLECT_DURATION: {
    name: 'eda_exporter_collect_duration_seconds',
    type: 'gauge',
    help: 'Duration of the last collection from the target.',
    unit: 's',
    labels: [L.TARGET],
    producedBy: 'exporter',
  },
  EXPORTER_LAST_SUCCESS: {
    name: 'eda_exporter_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'When the last successful collection from the target finished (Unix seconds).',
    unit: 's',
    labels: [L.TARGET],
    producedBy: 'exporter',
  },
  EXPORTER_COLLECT_ERRORS: {
    name: 'eda_exporter_collect_errors_total',
    type: 'counter',
    help: 'Failed collections from the target.',
    unit: '{error}',
    labels: [L.TARGET],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_COMMITTED_OFFSET: {
    name: 'eda_kafka_consumer_committed_offset',
    type: 'gauge',
    help: 'Offset the group last committed per partition (the next record it will read); partitions without a commit are not exported (see eda_kafka_consumer_uncommitted_partitions).',
    unit: '{offset}',
    labels: [L.GROUP, L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_PARTITION_HIGH_WATERMARK: {
    name: 'eda_kafka_partition_high_watermark',
    type: 'gauge',
    help: 'Log-end offset (high watermark) of a partition the exporter watches, read after the committed offsets so lag is not under-reported.',
    unit: '{offset}',
    labels: [L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_UNCOMMITTED_PARTITIONS: {
    name: 'eda_kafka_consumer_uncommitted_partitions',
    type: 'gauge',
    help: 'Partitions assigned to the group that have no committed offset yet (reported here instead of as -1 or a huge lag).',
    unit: '{partition}',
    labels: [L.GROUP, L.TOPIC],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_LAG_CLAMPED: {
    name: 'eda_kafka_consumer_lag_clamped_total',
    type: 'counter',
    help: 'Times a committed offset was seen above the high watermark (read at different moments) and the lag was clamped to 0.',
    unit: '{event}',
    labels: [L.GROUP, L.TOPIC],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_GROUP_STATE: {
    name: 'eda_kafka_consumer_group_state',
    type: 'gauge',
    help: 'Consumer group state as reported by the coordinator (Stable, Empty, PreparingRebalance, …): 1 for the current state.',
    unit: '1',
    labels: [L.GROUP, L.STATE],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_GROUP_MEMBERS: {
    name: 'eda_kafka_consumer_group_members',
    type: 'gauge',
    help: 'Members of the consumer group (no member host or client id labels: they churn on every rebalance).',
    unit: '{member}',
    labels: [L.GROUP],
    producedBy: 'exporter',
  },
  RABBITMQ_QUEUE_MESSAGE_RATE: {
    name: 'eda_rabbitmq_queue_message_rate',
    type: 'gauge',
    help: 'Per-queue publish / deliver / ack / redeliver rate as computed by the RabbitMQ management API (messages per second).',
    unit: '{message}/s',
    labels: [L.QUEUE, L.MESSAGING_OPERATION_NAME],
    producedBy: 'exporter',
  },
  DLQ_INFLOW: {
    name: 'eda_dlq_inflow_messages_total',
    type: 'counter',
    help: 'Messages that entered a dead-letter topic or queue since the exporter started, attributed to the source topic or queue (_unknown when it cannot be told).',
    unit: '{message}',
    labels: [L.SYSTEM, L.DLQ, L.SOURCE],
    producedBy: 'exporter',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRIC;

/** Machine-readable list of every metric (README tables, dashboard and alert checks). */
export const METRICS: readonly MetricDefinition[] = Object.values(METRIC);

/** The spans the instrumentation emits, for the README "Spans emitted" table. */
export interface SpanDefinition {
  readonly name: string;
  readonly kind: 'PRODUCER' | 'CONSUMER' | 'CLIENT' | 'INTERNAL';
  readonly system: MessagingSystem;
  readonly when: string;
  readonly attributes: readonly AttributeName[];
}

const A = ATTR;
const COMMON = [A.MESSAGING_SYSTEM, A.MESSAGING_OPERATION_NAME, A.MESSAGING_OPERATION_TYPE] as const;

export const SPANS: readonly SpanDefinition[] = [
  {
    name: 'send {topic}',
    kind: 'PRODUCER',
    system: 'kafka',
    when: 'one per producer.send / sendBatch call (also inside transactions); its context travels in every message\'s headers',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_BATCH_MESSAGE_COUNT, A.MESSAGING_CLIENT_ID, A.SERVER_ADDRESS, A.SERVER_PORT, A.ERROR_TYPE],
  },
  {
    name: 'create {topic}',
    kind: 'PRODUCER',
    system: 'kafka',
    when: 'opt-in (perMessageCreateSpans): one per message, the send span (then CLIENT) links to each',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_KAFKA_MESSAGE_KEY],
  },
  {
    name: 'transaction',
    kind: 'INTERNAL',
    system: 'kafka',
    when: 'producer.transaction() until commit() / abort(); sends inside are its children',
    attributes: [A.MESSAGING_SYSTEM, A.EDA_KAFKA_TRANSACTIONAL_ID, A.ERROR_TYPE],
  },
  {
    name: 'process {topic}',
    kind: 'CONSUMER',
    system: 'kafka',
    when: 'one per eachMessage call (link to the producer; parent too unless an ambient span exists), one per eachBatch call (links to every message), one per traceKafkaMessage() inside a batch',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_DESTINATION_PARTITION_ID, A.MESSAGING_CONSUMER_GROUP_NAME, A.MESSAGING_KAFKA_OFFSET, A.MESSAGING_KAFKA_MESSAGE_KEY, A.MESSAGING_KAFKA_MESSAGE_TOMBSTONE, A.MESSAGING_BATCH_MESSAGE_COUNT, A.MESSAGING_CLIENT_ID, A.EDA_E2E_LATENCY_MS, A.ERROR_TYPE],
  },
  {
    name: 'publish {exchange}',
    kind: 'PRODUCER',
    system: 'rabbitmq',
    when: 'one per channel.publish / sendToQueue (default exchange: named after the queue); on confirm channels it ends at the broker\'s confirm, ERROR on nack',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_RABBITMQ_ROUTING_KEY, A.MESSAGING_MESSAGE_ID, A.MESSAGING_MESSAGE_CONVERSATION_ID, A.SERVER_ADDRESS, A.SERVER_PORT, A.ERROR_TYPE],
  },
  {
    name: 'process {queue}',
    kind: 'CONSUMER',
    system: 'rabbitmq',
    when: 'one per consumed delivery, from handler start until ack / nack / reject (immediately for noAck); anonymous queues give `process`',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_RABBITMQ_ROUTING_KEY, A.MESSAGING_RABBITMQ_DELIVERY_TAG, A.MESSAGING_MESSAGE_ID, A.MESSAGING_MESSAGE_CONVERSATION_ID, A.EDA_SETTLEMENT, A.EDA_REQUEUE, A.EDA_REDELIVERED, A.EDA_DEAD_LETTER_EXCHANGE, A.EDA_E2E_LATENCY_MS, A.ERROR_TYPE],
  },
  {
    name: 'receive {queue}',
    kind: 'CLIENT',
    system: 'rabbitmq',
    when: 'one per channel.get; links to the message\'s producer',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_RABBITMQ_ROUTING_KEY, A.MESSAGING_RABBITMQ_DELIVERY_TAG, A.MESSAGING_MESSAGE_ID, A.ERROR_TYPE],
  },
];
export { renderTelemetryTables } from './telemetry-tables';
