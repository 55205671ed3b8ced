import type { EachMessagePayload, IHeaders } from 'kafkajs';
import { METADATA_KEY } from '../metadata-keys';
import type { PactMessage } from '../types';
import { messageBody } from './message-body';
import { metadataText, prefixedText, requiredMetadataText } from './metadata-text';

export interface EachMessagePayloadOptions {
  readonly partition?: number;
  readonly offset?: string;
  /** Record timestamp (ms); default now. */
  readonly timestamp?: number;
}

/**
 * A Pact message as kafkajs hands it to `eachMessage`: topic and key from the metadata, headers
 * as Buffers (as kafkajs delivers them), the value as bytes. Heartbeat and pause are inert.
 */
export function toEachMessagePayload(message: PactMessage, options: EachMessagePayloadOptions = {}): EachMessagePayload {
  const [topic] = requiredMetadataText(message.metadata, [METADATA_KEY.KAFKA_TOPIC], 'a Kafka message contract', 'declare it with expectKafkaMessage({ topic, ... })');
  const key = metadataText(message.metadata, METADATA_KEY.KAFKA_KEY);
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(prefixedText(message.metadata, METADATA_KEY.KAFKA_HEADER_PREFIX))) headers[name] = Buffer.from(value);
  return {
    topic,
    partition: options.partition ?? 0,
    message: {
      key: key === undefined ? null : Buffer.from(key),
      value: messageBody(message),
      headers,
      timestamp: String(options.timestamp ?? Date.now()),
      attributes: 0,
      offset: options.offset ?? '0',
    },
    heartbeat: async () => undefined,
    pause: () => () => undefined,
  };
}
