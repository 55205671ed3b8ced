import { OPERATION_NAME } from './attributes';

// Span names: `{operation} {destination}`, destination omitted when unknown. The destination in a
// span name (and in a metric label) must be of low cardinality: temporary and anonymous
// destinations are named by a fixed placeholder instead.

/** The RabbitMQ default exchange has the empty name; the `dlq` label spells it this way. */
export const AMQP_DEFAULT_EXCHANGE = 'amq.default' as const;

/** What a destination's name is worth as a span name or metric label. */
export type DestinationKind = 'named' | 'temporary' | 'anonymous';

/** The fixed names temporary and anonymous destinations get in span names and metric labels. */
export const DESTINATION_PLACEHOLDER = { temporary: '(temporary)', anonymous: '(anonymous)' } as const;

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
   * routing key is a queue name, so it is used there (a placeholder for a temporary or anonymous queue).
   */
  amqpPublish: (exchange: string, routingKey: string, kind: DestinationKind = rabbitMqQueueKind(routingKey)) =>
    spanName(OPERATION_NAME.RABBITMQ_PUBLISH, rabbitMqPublishLabel(exchange, routingKey, kind)),
  /** AMQP `consume` delivery (CONSUMER). */
  amqpProcess: (queue: string, kind: DestinationKind = rabbitMqQueueKind(queue)) => spanName(OPERATION_NAME.RABBITMQ_PROCESS, destinationLabel(queue, kind)),
  /** AMQP `get` (CLIENT). */
  amqpReceive: (queue: string, kind: DestinationKind = rabbitMqQueueKind(queue)) => spanName(OPERATION_NAME.RABBITMQ_RECEIVE, destinationLabel(queue, kind)),
} as const;

function spanName(operation: string, destination: string | undefined): string {
  return destination ? `${operation} ${destination}` : operation;
}

/** `name`, or the placeholder of its kind: the destination as a span name or metric label shows it. */
export function destinationLabel(name: string, kind: DestinationKind): string {
  return kind === 'named' ? name : DESTINATION_PLACEHOLDER[kind];
}

/**
 * The low-cardinality destination of a RabbitMQ publish (span name, `messaging_destination_name`
 * label): the exchange, or on the default exchange the queue the routing key names. `kind` is
 * the routing key's kind (it matters on the default exchange only).
 */
export function rabbitMqPublishLabel(exchange: string, routingKey: string, kind: DestinationKind = rabbitMqQueueKind(routingKey)): string {
  return exchange !== '' ? exchange : destinationLabel(routingKey, kind);
}

/** RabbitMQ server-named queues (`amq.gen-…`, or the empty name that asks for one): anonymous. */
export function isAnonymousQueue(queue: string): boolean {
  return queue === '' || queue.startsWith('amq.gen-');
}

/** Direct reply-to (`amq.rabbitmq.reply-to` and the `amq.rabbitmq.reply-to.…` addresses replies go to): temporary. */
export function isTemporaryQueue(queue: string): boolean {
  return queue.startsWith('amq.rabbitmq.reply-to');
}

/** What RabbitMQ's naming alone tells about a queue; queues declared exclusive are temporary too, but only the declaration says so. */
export function rabbitMqQueueKind(queue: string): DestinationKind {
  if (isTemporaryQueue(queue)) return 'temporary';
  return isAnonymousQueue(queue) ? 'anonymous' : 'named';
}

/**
 * `messaging.destination.name` of a RabbitMQ publish (semconv v1.44): `{exchange}:{routing key}`,
 * an empty part omitted (the default exchange and key `orders` give `orders`).
 */
export function rabbitMqPublishDestination(exchange: string, routingKey: string): string {
  if (exchange === '') return routingKey;
  return routingKey === '' ? exchange : `${exchange}:${routingKey}`;
}

/**
 * `messaging.destination.name` of a RabbitMQ delivery (semconv v1.44):
 * `{exchange}:{routing key}:{queue}`, empty parts omitted, and the routing key and queue given once
 * when they are equal (the default exchange, key and queue `orders` give `orders`).
 */
export function rabbitMqConsumeDestination(exchange: string, routingKey: string, queue: string): string {
  const key = routingKey === queue ? '' : routingKey;
  let out = exchange;
  if (key !== '') out = out === '' ? key : `${out}:${key}`;
  if (queue !== '') out = out === '' ? queue : `${out}:${queue}`;
  return out;
}
