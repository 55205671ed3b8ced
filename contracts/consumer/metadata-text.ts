import { ContractError } from '@eda-harness/core';

// Reading Pact message metadata back into transport facts: values arrive as JSON, handlers want text.

type Metadata = Readonly<Record<string, unknown>>;

/** The metadata entries under a prefix, prefix removed (the headers), values as text. */
export function prefixedText(metadata: Metadata, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = asText(value);
  return out;
}

export function metadataText(metadata: Metadata, key: string): string | undefined {
  const v = metadata[key];
  return v === undefined || v === null ? undefined : asText(v);
}

/**
 * The values of the metadata keys a transport cannot do without, in the order asked; a
 * ContractError naming every required key when one is missing.
 */
export function requiredMetadataText<const K extends readonly string[]>(metadata: Metadata, keys: K, contract: string, hint: string): { [I in keyof K]: string } {
  const values = keys.map((key) => metadataText(metadata, key));
  if (values.some((v) => v === undefined)) throw new ContractError(`${contract} needs the ${keys.map((k) => `"${k}"`).join(' and ')} metadata`, { hint });
  return values as { [I in keyof K]: string };
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
