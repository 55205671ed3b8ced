import type { ResourceLabelName } from './attributes';
import { SERVICE_INFO_METRIC } from './service-info';

/** Prometheus label names (semconv attribute names with dots turned into underscores). */
export const LABEL = {
  MESSAGING_SYSTEM: 'messaging_system',
  MESSAGING_DESTINATION_NAME: 'messaging_destination_name',
  MESSAGING_CONSUMER_GROUP_NAME: 'messaging_consumer_group_name',
  MESSAGING_OPERATION_NAME: 'messaging_operation_name',
  ERROR_TYPE: 'error_type',
  /** e2e latency measured at handler start (`received`) or at successful processing (`processed`: handler resolved, ack, noAck). */
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
  /** RabbitMQ virtual host: queues of one name in two vhosts are two queues. */
  VHOST: 'vhost',
  /** How the exporter read a target (RabbitMQ: management, prometheus or amqp). */
  VIA: 'via',
  /** How a Kafka group gets its partitions: `consumer` (subscribe, the group protocol) or `manual` (assign() + commit). */
  ASSIGNMENT: 'assignment',
  /** What an exporter collection counted (groups, partitions, topics, queues…), see eda_exporter_collected_objects. */
  OBJECT: 'object',
  /** The broker request behind a partial failure (describe_group, fetch_offsets, list_offsets…). */
  REQUEST: 'request',
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
/**
 * The numbers are stable (alerts and dashboards compare them); REWIND, added later, took the next
 * one. They are not a severity order: a group's status is its worst partition's by
 * OK < WARN < REWIND < STALL < STOP < ERR (exporter/kafka/consumer-status.ts, STATUS_SEVERITY).
 */
export const KAFKA_CONSUMER_STATUS = { OK: 0, WARN: 1, STALL: 2, STOP: 3, ERR: 4, REWIND: 5 } as const;

/** `object` values of eda_exporter_collected_objects. */
export const EXPORTER_OBJECT = {
  GROUPS: 'groups',
  GROUP_PARTITIONS: 'group_partitions',
  TOPICS: 'topics',
  PARTITIONS: 'partitions',
  DLQS: 'dlqs',
  QUEUES: 'queues',
} as const;

/** `request` values of eda_exporter_partial_failures_total: the request that failed inside a collection that went on. */
export const EXPORTER_PARTIAL_FAILURE = {
  DESCRIBE_GROUP: 'describe_group',
  FETCH_OFFSETS: 'fetch_offsets',
  METADATA: 'metadata',
  LIST_OFFSETS: 'list_offsets',
  FETCH_RECORDS: 'fetch_records',
  MANAGEMENT: 'management',
  MANAGEMENT_STATISTICS: 'management_statistics',
  CHECK_QUEUE: 'check_queue',
  OTHER: 'other',
} as const;

/** `target` values of the eda_exporter_* health metrics: one per broker the exporter polls. */
export const EXPORTER_TARGET = { KAFKA: 'kafka', RABBITMQ: 'rabbitmq' } as const;

/** `state` values of eda_rabbitmq_queue_messages. */
export const QUEUE_MESSAGE_STATE = { READY: 'ready', UNACKED: 'unacked' } as const;

/** `messaging_operation_name` values of eda_rabbitmq_queue_operation_messages_total and the deprecated eda_rabbitmq_queue_message_rate (management API message_stats). */
export const RABBITMQ_QUEUE_OPERATION = { PUBLISH: 'publish', DELIVER: 'deliver', ACK: 'ack', REDELIVER: 'redeliver' } as const;

/** `via` values of eda_exporter_rabbitmq_via: where the RabbitMQ numbers came from. */
export const RABBITMQ_VIA = { MANAGEMENT: 'management', PROMETHEUS: 'prometheus', AMQP: 'amqp' } as const;

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
  readonly labels: readonly (LabelName | ResourceLabelName)[];
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
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_OPERATION_NAME, L.MESSAGING_DESTINATION_NAME, L.ERROR_TYPE],
    producedBy: 'instrumentation',
  },
  CONSUMED_MESSAGES: {
    name: 'messaging_client_consumed_messages_total',
    type: 'counter',
    help: 'Messages delivered to a consumer, counted at delivery whatever their processing does (semconv messaging.client.consumed.messages). A receive that fails delivers nothing, so nothing is counted here (its error is on messaging_client_operation_duration_seconds); processing outcomes are in eda_messages_processed_total.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_OPERATION_NAME, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME],
    producedBy: 'instrumentation',
  },
  MESSAGES_PROCESSED: {
    name: 'eda_messages_processed_total',
    type: 'counter',
    help: 'Messages whose processing ended, one per message. error_type is empty on success (Kafka: the handler resolved; AMQP: ack, or noAck) and otherwise says why: the handler error class, nacked, rejected, timeout, channel_closed. Failure ratio: error_type!="" over all.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_OPERATION_NAME, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME, L.ERROR_TYPE],
    producedBy: 'instrumentation',
  },
  PROCESS_DURATION: {
    name: 'messaging_process_duration_seconds',
    type: 'histogram',
    help: 'Handler processing time (semconv messaging.process.duration): eachMessage, one eachBatch call, or AMQP delivery to settle.',
    unit: 's',
    labels: [L.MESSAGING_SYSTEM, L.MESSAGING_OPERATION_NAME, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME, L.ERROR_TYPE],
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
    help: 'Produced-at header to handler start (stage=received) and to successful processing (stage=processed: Kafka handler resolved, AMQP ack or noAck; failed messages are not observed there). Negative values are counted in eda_message_e2e_negative_latency_total instead.',
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
    help: 'Messages sent to a dead-letter destination by a consumer (AMQP nack/reject with requeue=false on a queue with a dead-letter exchange, or recordDeadLetter()). messaging_consumer_group_name: the Kafka consumer group whose handler dead-lettered the message (recordDeadLetter inside an instrumented handler, or its consumerGroup), as on messaging_client_consumed_messages_total; empty where that metric has none (AMQP) or the group is unknown.',
    unit: '{message}',
    labels: [L.MESSAGING_SYSTEM, L.SOURCE, L.DLQ, L.REASON, L.MESSAGING_CONSUMER_GROUP_NAME],
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
    help: 'Age of the oldest unconsumed message per partition (the timestamp of the record at the committed offset, or an estimate from watermark samples, never both in one series; see eda_kafka_consumer_lag_seconds_partitions); 0 when caught up, absent when unknown, never NaN. Exact with LogAppendTime topics; a CreateTime the watermark samples contradict (an event time) falls back to the estimate.',
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
    help: 'Burrow-style group evaluation: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 ERR, 5 REWIND.',
    unit: '1',
    labels: [L.GROUP],
    producedBy: 'exporter',
  },
  RABBITMQ_QUEUE_MESSAGES: {
    name: 'eda_rabbitmq_queue_messages',
    type: 'gauge',
    help: 'Messages in a queue by state (ready, unacked).',
    unit: '{message}',
    labels: [L.VHOST, L.QUEUE, L.STATE],
    producedBy: 'exporter',
  },
  RABBITMQ_QUEUE_CONSUMERS: {
    name: 'eda_rabbitmq_queue_consumers',
    type: 'gauge',
    help: 'Consumers attached to a queue.',
    unit: '{consumer}',
    labels: [L.VHOST, L.QUEUE],
    producedBy: 'exporter',
  },
  RABBITMQ_RETRY_QUEUE: {
    name: 'eda_rabbitmq_retry_queue_info',
    type: 'gauge',
    help: 'Always 1, for each waiting queue of a retry loop: a queue that dead-letters back towards the queue that dead-letters into it and has a message TTL, so it holds messages with no consumer by design (RabbitMqQueueWithoutConsumers leaves these out).',
    unit: '1',
    labels: [L.VHOST, L.QUEUE],
    producedBy: 'exporter',
  },
  DLQ_DEPTH: {
    name: 'eda_dlq_depth_messages',
    type: 'gauge',
    help: 'Messages waiting in a dead-letter topic or queue (found by pattern or DLX arguments; a queue that dead-letters back to its source is a retry queue, not a DLQ). vhost: RabbitMQ only.',
    unit: '{message}',
    labels: [L.SYSTEM, L.VHOST, L.DLQ],
    producedBy: 'exporter',
  },
  DLQ_OLDEST_AGE: {
    name: 'eda_dlq_oldest_message_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest message in a dead-letter topic or queue. vhost: RabbitMQ only.',
    unit: 's',
    labels: [L.SYSTEM, L.VHOST, L.DLQ],
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
  KAFKA_PARTITION_LOW_WATERMARK: {
    name: 'eda_kafka_partition_low_watermark',
    type: 'gauge',
    help: 'Log-start offset of a partition the exporter watches: records below it were deleted by retention (or deleteRecords).',
    unit: '{offset}',
    labels: [L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_PARTITION_LAST_STABLE_OFFSET: {
    name: 'eda_kafka_partition_last_stable_offset',
    type: 'gauge',
    help: 'Last stable offset of a partition the exporter watches (ListOffsets with read_committed isolation): the end a read_committed consumer can read up to; below the high watermark while a transaction is open, equal to it otherwise. Lag of a read_committed group: this minus eda_kafka_consumer_committed_offset.',
    unit: '{offset}',
    labels: [L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_RETENTION_LOST: {
    name: 'eda_kafka_consumer_retention_lost_messages',
    type: 'gauge',
    help: 'Messages retention deleted before the group read them (log-start offset minus committed offset); only partitions whose commit is below the log start are exported.',
    unit: '{message}',
    labels: [L.GROUP, L.TOPIC, L.PARTITION],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_LAG_SECONDS_SOURCE: {
    name: 'eda_kafka_consumer_lag_seconds_partitions',
    type: 'gauge',
    help: 'Partitions of a group and topic by where their lag in seconds came from: record (the timestamp of the record at the committed offset), interpolated or lower-bound (estimated from watermark samples), caught-up, or unknown (not exported in eda_kafka_consumer_lag_seconds).',
    unit: '{partition}',
    labels: [L.GROUP, L.TOPIC, L.SOURCE],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_GROUP_ASSIGNMENT: {
    name: 'eda_kafka_consumer_group_assignment',
    type: 'gauge',
    help: 'How the group gets its partitions, 1 for the current one: consumer (subscribe) or manual (assign() + commit, e.g. Flink, Spark, Connect; judged by offset movement, exported without a member count).',
    unit: '1',
    labels: [L.GROUP, L.ASSIGNMENT],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_REWOUND: {
    name: 'eda_kafka_consumer_rewound',
    type: 'gauge',
    help: '1 while a committed offset of the group has moved backwards inside the status window (an offset reset or a replay), else 0.',
    unit: '1',
    labels: [L.GROUP],
    producedBy: 'exporter',
  },
  KAFKA_CONSUMER_GROUP_STATE: {
    name: 'eda_kafka_consumer_group_state',
    type: 'gauge',
    help: 'Consumer group state as reported by the coordinator (Stable, Empty, PreparingRebalance, CompletingRebalance, Dead; Kafka 4 consumer-protocol groups also Assigning, Reconciling): 1 for the current state.',
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
    help: 'Deprecated: use rate(eda_rabbitmq_queue_operation_messages_total). Per-queue publish / deliver / ack / redeliver rate as smoothed by the RabbitMQ management API (messages per second).',
    unit: '{message}/s',
    labels: [L.VHOST, L.QUEUE, L.MESSAGING_OPERATION_NAME],
    producedBy: 'exporter',
  },
  RABBITMQ_QUEUE_OPERATIONS: {
    name: 'eda_rabbitmq_queue_operation_messages_total',
    type: 'counter',
    help: 'Messages published to, delivered from (deliver and get), acknowledged in and redelivered from a queue: RabbitMQ\'s cumulative management API message_stats, so rate() over it is exact (it restarts with the queue or the node).',
    unit: '{message}',
    labels: [L.VHOST, L.QUEUE, L.MESSAGING_OPERATION_NAME],
    producedBy: 'exporter',
  },
  EXPORTER_RABBITMQ_VIA: {
    name: 'eda_exporter_rabbitmq_via',
    type: 'gauge',
    help: 'Where the last RabbitMQ collection read its numbers: 1 for management (the full picture), prometheus (RabbitMQ\'s own endpoint, management statistics disabled: no rates, no DLQ topology) or amqp (passive declares of known queues only).',
    unit: '1',
    labels: [L.VIA],
    producedBy: 'exporter',
  },
  EXPORTER_DEGRADED: {
    name: 'eda_exporter_degraded',
    type: 'gauge',
    help: 'Whether the target was read through a fallback that sees less than the normal path (RabbitMQ: AMQP passive declares, which cannot list queues): 1 degraded, 0 complete.',
    unit: '1',
    labels: [L.TARGET],
    producedBy: 'exporter',
  },
  EXPORTER_LAST_COLLECTION: {
    name: 'eda_exporter_last_collection_timestamp_seconds',
    type: 'gauge',
    help: 'When the broker state behind the target\'s exported values was read (Unix seconds): time() minus this is the age of every cached value of the target (up to one interval plus a collection); it stays put while collections fail.',
    unit: 's',
    labels: [L.TARGET],
    producedBy: 'exporter',
  },
  EXPORTER_COLLECTED_OBJECTS: {
    name: 'eda_exporter_collected_objects',
    type: 'gauge',
    help: 'What the last successful collection read from the target, by object: groups, group_partitions (committed partitions with lag), topics and partitions whose offsets were read, dlqs (Kafka); queues and dlqs (RabbitMQ).',
    unit: '{object}',
    labels: [L.TARGET, L.OBJECT],
    producedBy: 'exporter',
  },
  EXPORTER_PARTIAL_FAILURES: {
    name: 'eda_exporter_partial_failures_total',
    type: 'counter',
    help: 'Requests that failed inside a collection that still succeeded, by request: describe_group, fetch_offsets, metadata, list_offsets, fetch_records (Kafka); management, management_statistics, check_queue (RabbitMQ); other. Only the series that request feeds go stale; the rest keep updating.',
    unit: '{failure}',
    labels: [L.TARGET, L.REQUEST],
    producedBy: 'exporter',
  },
  SERVICE_INFO: SERVICE_INFO_METRIC,
  DLQ_INFLOW: {
    name: 'eda_dlq_inflow_messages_total',
    type: 'counter',
    help: 'Messages that entered a dead-letter topic or queue since the exporter started, attributed to the source topic or queue (_unknown when it cannot be told). vhost: RabbitMQ only.',
    unit: '{message}',
    labels: [L.SYSTEM, L.VHOST, L.DLQ, L.SOURCE],
    producedBy: 'exporter',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRIC;

/** Machine-readable list of every metric (docs/reference/telemetry.md, dashboard and alert checks). */
export const METRICS: readonly MetricDefinition[] = Object.values(METRIC);
