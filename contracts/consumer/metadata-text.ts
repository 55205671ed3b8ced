// Reading Pact message metadata back into transport facts: values arrive as JSON, handlers want text.

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
