import type { PactMessage } from '../types';

/** The message body as the bytes a broker would deliver: Buffers as they are, JSON serialised. */
export function messageBody(message: PactMessage): Buffer {
  const content = message.contents.content;
  if (Buffer.isBuffer(content)) return content;
  return Buffer.from(typeof content === 'string' && !isJsonMetadata(message) ? content : JSON.stringify(content));
}

function isJsonMetadata(message: PactMessage): boolean {
  const ct = message.metadata['contentType'];
  return typeof ct !== 'string' || ct.includes('json');
}
