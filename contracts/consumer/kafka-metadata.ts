import type { Metadata } from '@pact-foundation/pact';
import { JSON_CONTENT_TYPE, METADATA_KEY } from '../metadata-keys';
import type { KafkaMessageExpectation } from '../types';

/** The transport facts of a Kafka expectation as Pact metadata: topic, key, the headers relied on. */
export function kafkaMetadata(expectation: KafkaMessageExpectation): Metadata {
  const metadata: Metadata = {
    [METADATA_KEY.CONTENT_TYPE]: expectation.contentType ?? JSON_CONTENT_TYPE,
    [METADATA_KEY.KAFKA_TOPIC]: expectation.topic,
  };
  if (expectation.key !== undefined) metadata[METADATA_KEY.KAFKA_KEY] = expectation.key;
  for (const [name, value] of Object.entries(expectation.headers ?? {})) metadata[`${METADATA_KEY.KAFKA_HEADER_PREFIX}${name}`] = value;
  return metadata;
}
