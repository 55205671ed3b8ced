import { JSON_CONTENT_TYPE, METADATA_KEY } from '../metadata-keys';
import type { CapturedMessage } from '../types';

/** What Pact's message verifier expects back from a message factory: the body, plus metadata to compare. */
export interface ProviderMessage {
  readonly __pactMessageMetadata: Record<string, string>;
  readonly message: unknown;
}

/**
 * A captured message in Pact's terms: the transport facts become metadata under the same keys
 * the consumer side uses (topic, key, headers; exchange, routing key, content type, headers), and
 * the body is handed over as JSON when it is JSON, so Pact compares it field by field.
 */
export function toProviderMessage(captured: CapturedMessage): ProviderMessage {
  const metadata: Record<string, string> = {};
  let body: string | null;
  if (captured.transport === 'kafka') {
    metadata[METADATA_KEY.KAFKA_TOPIC] = captured.topic;
    if (captured.key !== null) metadata[METADATA_KEY.KAFKA_KEY] = captured.key;
    for (const [name, value] of Object.entries(captured.headers)) metadata[`${METADATA_KEY.KAFKA_HEADER_PREFIX}${name}`] = value;
    body = captured.value;
    metadata[METADATA_KEY.CONTENT_TYPE] = captured.headers['content-type'] ?? (isJson(body) ? JSON_CONTENT_TYPE : 'application/octet-stream');
  } else {
    metadata[METADATA_KEY.AMQP_EXCHANGE] = captured.exchange;
    metadata[METADATA_KEY.AMQP_ROUTING_KEY] = captured.routingKey;
    for (const [name, value] of Object.entries((captured.properties.headers ?? {}) as Record<string, unknown>)) {
      if (value === undefined || value === null) continue; // amqplib drops them too
      metadata[`${METADATA_KEY.AMQP_HEADER_PREFIX}${name}`] = Buffer.isBuffer(value) ? value.toString('utf8') : typeof value === 'string' ? value : JSON.stringify(value);
    }
    body = captured.content.toString('utf8');
    metadata[METADATA_KEY.CONTENT_TYPE] = captured.properties.contentType ?? 'application/octet-stream';
  }
  return { __pactMessageMetadata: metadata, message: isJson(body) ? JSON.parse(body as string) : body };
}

function isJson(text: string | null): boolean {
  if (text === null) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
