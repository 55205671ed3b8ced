import { OPERATION_NAME } from './attributes';

// Span names: `{operation} {destination}`, destination omitted when anonymous or unknown.

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
