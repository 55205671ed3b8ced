import type { Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { ATTR } from '../shared/vocabulary';
import { readProducedAt } from '../shared/header-codec';

const MAX_KEY_ATTRIBUTE_LENGTH = 1024;
// Read once: the compiled import reads every use through the module's re-export getter, per message.
const OFFSET: string = ATTR.MESSAGING_KAFKA_OFFSET;
const MESSAGE_KEY: string = ATTR.MESSAGING_KAFKA_MESSAGE_KEY;
const TOMBSTONE: string = ATTR.MESSAGING_KAFKA_MESSAGE_TOMBSTONE;

/**
 * Offset, key (unless `withKey` is false) and tombstone of one message, as the conventions type them, set on the span: the
 * per-partition attributes went in at start (samplers see them); copying them into a fresh
 * object per message just to add these three cost more than the span itself.
 */
export function setMessageAttributes(span: Span, message: KafkaMessage, withKey: boolean): void {
  const offset = Number(message.offset);
  if (Number.isSafeInteger(offset)) span.setAttribute(OFFSET, offset);
  // Left out when the messageKeyAttribute option says keys count as personal data.
  const key = withKey ? keyAttribute(message.key) : undefined;
  if (key !== undefined) span.setAttribute(MESSAGE_KEY, key);
  if (message.value === null) span.setAttribute(TOMBSTONE, true);
}

/** The key as text when it has an unambiguous text form (UTF-8); binary keys are left out. */
export function keyAttribute(key: unknown): string | undefined {
  if (typeof key === 'string') return key.length <= MAX_KEY_ATTRIBUTE_LENGTH ? key : undefined;
  if (!Buffer.isBuffer(key) || key.length > MAX_KEY_ATTRIBUTE_LENGTH) return undefined;
  // One decode: invalid UTF-8 shows up as U+FFFD (a key really containing U+FFFD is dropped too, fine).
  const text = key.toString('utf8');
  return text.includes('\uFFFD') ? undefined : text;
}

/** produced-at header, else the record timestamp (CreateTime by default). */
export function producedAt(message: KafkaMessage): number | undefined {
  const fromHeader = readProducedAt(message.headers);
  if (fromHeader !== undefined) return fromHeader;
  const ts = Number(message.timestamp);
  return Number.isSafeInteger(ts) && ts > 0 ? ts : undefined;
}
