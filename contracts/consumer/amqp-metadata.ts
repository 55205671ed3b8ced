import type { Metadata } from '@pact-foundation/pact';
import { JSON_CONTENT_TYPE, METADATA_KEY } from '../metadata-keys';
import type { AmqpMessageExpectation } from '../types';

/** The transport facts of an AMQP expectation as Pact metadata: exchange, routing key, content type, headers. */
export function amqpMetadata(expectation: AmqpMessageExpectation): Metadata {
  const metadata: Metadata = {
    [METADATA_KEY.CONTENT_TYPE]: expectation.contentType ?? JSON_CONTENT_TYPE,
    [METADATA_KEY.AMQP_EXCHANGE]: expectation.exchange,
    [METADATA_KEY.AMQP_ROUTING_KEY]: expectation.routingKey,
  };
  for (const [name, value] of Object.entries(expectation.headers ?? {})) metadata[`${METADATA_KEY.AMQP_HEADER_PREFIX}${name}`] = value;
  return metadata;
}
