import { ATTR } from './attributes';
import type { AttributeName, MessagingSystem } from './attributes';

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
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_KAFKA_MESSAGE_KEY, A.MESSAGING_CLIENT_ID, A.SERVER_ADDRESS, A.SERVER_PORT],
  },
  {
    name: 'transaction',
    kind: 'INTERNAL',
    system: 'kafka',
    when: 'producer.transaction() until commit() / abort(); sends inside are its children; the transactional id when the producer came from an instrumented Kafka client (or was given to instrumentKafkaProducer)',
    attributes: [A.MESSAGING_SYSTEM, A.EDA_KAFKA_TRANSACTIONAL_ID, A.ERROR_TYPE],
  },
  {
    name: 'process {topic}',
    kind: 'CONSUMER',
    system: 'kafka',
    when: 'one per eachMessage call (link to the producer; parent too unless an ambient span exists), one per eachBatch call (links to every message), one per traceKafkaMessage() inside a batch',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_DESTINATION_PARTITION_ID, A.MESSAGING_CONSUMER_GROUP_NAME, A.MESSAGING_KAFKA_OFFSET, A.MESSAGING_KAFKA_MESSAGE_KEY, A.MESSAGING_KAFKA_MESSAGE_TOMBSTONE, A.MESSAGING_BATCH_MESSAGE_COUNT, A.MESSAGING_CLIENT_ID, A.SERVER_ADDRESS, A.SERVER_PORT, A.EDA_E2E_LATENCY_MS, A.ERROR_TYPE],
  },
  {
    name: 'publish {exchange}',
    kind: 'PRODUCER',
    system: 'rabbitmq',
    when: 'one per channel.publish / sendToQueue (default exchange: named after the queue; a temporary or anonymous queue: `publish (temporary)` / `publish (anonymous)`); on confirm channels it ends at the broker\'s confirm, ERROR on nack',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_DESTINATION_TEMPORARY, A.MESSAGING_DESTINATION_ANONYMOUS, A.MESSAGING_RABBITMQ_ROUTING_KEY, A.MESSAGING_MESSAGE_ID, A.MESSAGING_MESSAGE_CONVERSATION_ID, A.SERVER_ADDRESS, A.SERVER_PORT, A.ERROR_TYPE],
  },
  {
    name: 'process {queue}',
    kind: 'CONSUMER',
    system: 'rabbitmq',
    when: 'one per consumed delivery, from handler start until ack / nack / reject (immediately for noAck); temporary and anonymous queues give `process (temporary)` / `process (anonymous)`',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_DESTINATION_TEMPORARY, A.MESSAGING_DESTINATION_ANONYMOUS, A.MESSAGING_RABBITMQ_ROUTING_KEY, A.MESSAGING_RABBITMQ_DELIVERY_TAG, A.MESSAGING_MESSAGE_ID, A.MESSAGING_MESSAGE_CONVERSATION_ID, A.EDA_SETTLEMENT, A.EDA_REQUEUE, A.EDA_REDELIVERED, A.EDA_DEAD_LETTER_EXCHANGE, A.EDA_E2E_LATENCY_MS, A.SERVER_ADDRESS, A.SERVER_PORT, A.ERROR_TYPE],
  },
  {
    name: 'receive {queue}',
    kind: 'CLIENT',
    system: 'rabbitmq',
    when: 'one per channel.get; links to the message\'s producer',
    attributes: [...COMMON, A.MESSAGING_DESTINATION_NAME, A.MESSAGING_DESTINATION_TEMPORARY, A.MESSAGING_DESTINATION_ANONYMOUS, A.MESSAGING_RABBITMQ_ROUTING_KEY, A.MESSAGING_RABBITMQ_DELIVERY_TAG, A.MESSAGING_MESSAGE_ID, A.MESSAGING_MESSAGE_CONVERSATION_ID, A.EDA_REDELIVERED, A.SERVER_ADDRESS, A.SERVER_PORT, A.ERROR_TYPE],
  },
];
