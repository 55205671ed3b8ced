import type { ConsumeMessage } from 'amqplib';
import { METADATA_KEY } from '../metadata-keys';
import type { PactMessage } from '../types';
import { messageBody } from './message-body';
import { metadataText, prefixedText, requiredMetadataText } from './metadata-text';

export interface ConsumeMessageOptions {
  readonly deliveryTag?: number;
  readonly consumerTag?: string;
  readonly redelivered?: boolean;
}

/**
 * A Pact message as amqplib hands it to a `consume` callback: exchange and routing key in the
 * fields, content type and headers in the properties, the body as bytes.
 */
export function toConsumeMessage(message: PactMessage, options: ConsumeMessageOptions = {}): ConsumeMessage {
  const [exchange, routingKey] = requiredMetadataText(
    message.metadata,
    [METADATA_KEY.AMQP_EXCHANGE, METADATA_KEY.AMQP_ROUTING_KEY],
    'an AMQP message contract',
    'declare them with expectAmqpMessage({ exchange, routingKey, ... })',
  );
  return {
    content: messageBody(message),
    fields: { deliveryTag: options.deliveryTag ?? 1, redelivered: options.redelivered ?? false, exchange, routingKey, consumerTag: options.consumerTag ?? 'contract-test' },
    properties: {
      contentType: metadataText(message.metadata, METADATA_KEY.CONTENT_TYPE),
      contentEncoding: undefined,
      headers: prefixedText(message.metadata, METADATA_KEY.AMQP_HEADER_PREFIX),
      deliveryMode: 2,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: undefined,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
    },
  };
}
