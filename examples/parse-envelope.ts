import { integer, object, string } from './field-readers';
import { InvalidMessageError } from './invalid-message-error';
import type { MessageEnvelope } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Decodes and checks the envelope of a message (JSON bytes), then the payload with `readPayload`.
 * Only what this service relies on is checked: unknown fields are ignored, so producers can add
 * fields without breaking it (the tolerant-reader half of the schema-evolution rules).
 */
export function parseEnvelope<P>(raw: Buffer | string | null, expectedType: string, supportedVersion: number, readPayload: (payload: unknown) => P): MessageEnvelope<P> {
  if (raw === null) throw new InvalidMessageError('$', 'is empty (tombstone)');
  let body: unknown;
  try {
    body = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new InvalidMessageError('$', 'is not JSON');
  }
  const b = object(body, '$');
  const eventId = string(b['eventId'], '$.eventId');
  if (!UUID.test(eventId)) throw new InvalidMessageError('$.eventId', 'is not a uuid');
  const eventType = string(b['eventType'], '$.eventType');
  if (eventType !== expectedType) throw new InvalidMessageError('$.eventType', `is ${eventType}, expected ${expectedType}`);
  const occurredAt = string(b['occurredAt'], '$.occurredAt');
  if (!ISO_8601.test(occurredAt) || Number.isNaN(Date.parse(occurredAt))) throw new InvalidMessageError('$.occurredAt', 'is not an ISO 8601 date-time');
  const version = integer(b['version'], '$.version');
  if (version !== supportedVersion) throw new InvalidMessageError('$.version', `is ${version}, this service reads version ${supportedVersion}`);
  const metadata = object(b['metadata'], '$.metadata');
  const correlationId = string(metadata['correlationId'], '$.metadata.correlationId');
  return { eventId, eventType, occurredAt, version, payload: readPayload(b['payload']), metadata: { correlationId } };
}
