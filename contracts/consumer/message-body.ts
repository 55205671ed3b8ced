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

/** The metadata entries under a prefix, prefix removed: the headers. Values as text. */
export function prefixedEntries(metadata: Readonly<Record<string, unknown>>, prefix: string): [string, string][] {
  return Object.entries(metadata)
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => [k.slice(prefix.length), typeof v === 'string' ? v : JSON.stringify(v)]);
}

export function metadataText(metadata: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = metadata[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}
