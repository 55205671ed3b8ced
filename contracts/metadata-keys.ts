/**
 * Pact metadata keys for transport facts. Kept flat (no nesting) because Pact compares metadata
 * key by key; header keys carry the header name after the prefix.
 */
export const METADATA_KEY = {
  CONTENT_TYPE: 'contentType',
  KAFKA_TOPIC: 'kafka_topic',
  KAFKA_KEY: 'kafka_key',
  KAFKA_HEADER_PREFIX: 'kafka_header_',
  AMQP_EXCHANGE: 'amqp_exchange',
  AMQP_ROUTING_KEY: 'amqp_routing_key',
  AMQP_HEADER_PREFIX: 'amqp_header_',
} as const;

export const JSON_CONTENT_TYPE = 'application/json';
