/** Span attribute names and values (OpenTelemetry messaging semantic conventions). */

/** Semantic-conventions version the attribute names below follow. */
export const SEMCONV_VERSION = '1.44.0' as const;

export const ATTR = {
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_OPERATION_NAME: 'messaging.operation.name',
  MESSAGING_OPERATION_TYPE: 'messaging.operation.type',
  MESSAGING_DESTINATION_NAME: 'messaging.destination.name',
  MESSAGING_DESTINATION_PARTITION_ID: 'messaging.destination.partition.id',
  MESSAGING_DESTINATION_ANONYMOUS: 'messaging.destination.anonymous',
  MESSAGING_DESTINATION_TEMPORARY: 'messaging.destination.temporary',
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

/**
 * Prometheus labels that say where a series comes from rather than what it measures: the cluster
 * an exporter series describes and the service an instrumented process runs as. Dashboards and
 * alerts filter and group by them; no metric definition lists them among its own labels.
 */
export const RESOURCE_LABEL = {
  /**
   * Default label carrying the Kafka cluster / RabbitMQ server name on every exporter series (the
   * exporter's and the dashboards' `clusterLabel` option renames it).
   */
  CLUSTER: 'cluster',
  /**
   * OpenTelemetry `service.name` as a Prometheus label: on the instrumentation's eda_service_info
   * series, or on series whose `service.name` OTLP ingestion or relabelling promoted.
   */
  SERVICE_NAME: 'service_name',
} as const;

export type ResourceLabelName = (typeof RESOURCE_LABEL)[keyof typeof RESOURCE_LABEL];

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
