import type { ConsumeMessage } from 'amqplib';
import { ContractError } from '@eda-harness/core';
import { METADATA_KEY } from '../metadata-keys';
import type { PactMessage } from '../types';
import { messageBody } from './message-body';
import { metadataText, prefixedEntries } from './metadata-text';

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
  const exchange = metadataText(message.metadata, METADATA_KEY.AMQP_EXCHANGE);
  const routingKey = metadataText(message.metadata, METADATA_KEY.AMQP_ROUTING_KEY);
  if (exchange === undefined || routingKey === undefined) {
    throw new ContractError(`an AMQP message contract needs the "${METADATA_KEY.AMQP_EXCHANGE}" and "${METADATA_KEY.AMQP_ROUTING_KEY}" metadata`, {
      hint: 'declare them with expectAmqpMessage({ exchange, routingKey, ... })',
    });
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of prefixedEntries(message.metadata, METADATA_KEY.AMQP_HEADER_PREFIX)) headers[name] = value;
  return {
    content: messageBody(message),
    fields: { deliveryTag: options.deliveryTag ?? 1, redelivered: options.redelivered ?? false, exchange, routingKey, consumerTag: options.consumerTag ?? 'contract-test' },
    properties: {
      contentType: metadataText(message.metadata, METADATA_KEY.CONTENT_TYPE),
      contentEncoding: undefined,
      headers,
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
