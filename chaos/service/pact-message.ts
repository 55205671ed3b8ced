import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '@eda-harness/core';
import type { InputMessage } from './config';

/**
 * An input template from a pact's example message, so the harness sends what the consumer's
 * contract says it reads: the interaction's content, with the input id written at `idPath`, fresh
 * UUIDs and timestamps where the example has fixed ones, and the `kafka_header_*` / `amqp_header_*` metadata as
 * headers (and `contentType` as a RabbitMQ input's content type) (`kafka_key` says the key is the business id: the input id is used).
 */
export interface PactMessageOptions {
  /** Where the business id goes, as a JSON path: `$.payload.orderId`. */
  readonly idPath: string;
  /** Paths given a fresh UUID per input (an event id the service deduplicates on). */
  readonly uuidPaths?: readonly string[];
  /** Paths given the send time, ISO 8601. */
  readonly nowPaths?: readonly string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function pathParts(path: string, source: string): string[] {
  if (!/^\$(\.[A-Za-z_][\w-]*)+$/.test(path)) throw new ConfigError(`${source}: path ${JSON.stringify(path)} is not of the form $.field.field`, { hint: 'for example idPath: "$.payload.orderId"' });
  return path.split('.').slice(1);
}

function setAt(root: Json, parts: readonly string[], value: Json, path: string, source: string): void {
  let node: Json = root;
  for (const [i, part] of parts.entries()) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new ConfigError(`${source}: ${path} does not exist in the example message (${parts.slice(0, i).join('.') || '$'} is not an object)`);
    if (i === parts.length - 1) {
      if (!(part in node)) throw new ConfigError(`${source}: ${path} does not exist in the example message`, { hint: `its fields: ${Object.keys(node).join(', ')}` });
      node[part] = value;
      return;
    }
    node = node[part] ?? null;
  }
}

/** The template for one interaction of a pact (a parsed pact, or a pact file's path). */
export function pactMessage(pact: unknown, description: string, options: PactMessageOptions): (id: string, key: string, seq: number) => InputMessage {
  let source = 'the pact';
  if (typeof pact === 'string') {
    source = `pact ${pact}`;
    try {
      pact = JSON.parse(readFileSync(pact, 'utf8')) as unknown;
    } catch (err) {
      throw new ConfigError(`${source} could not be read: ${errorMessage(err)}`, { hint: 'name the pact file the consumer test wrote (pacts/<consumer>-<provider>.json)' });
    }
  }
  const interactions = (pact as { interactions?: unknown } | null)?.interactions;
  if (!Array.isArray(interactions)) throw new ConfigError(`${source} has no interactions: it is not a pact file`);
  const all = interactions as { description?: unknown; contents?: { content?: unknown }; metadata?: Record<string, unknown> }[];
  const found = all.find((i) => i.description === description);
  if (!found) throw new ConfigError(`${source} has no interaction ${JSON.stringify(description)}`, { hint: `its interactions: ${all.map((i) => JSON.stringify(i.description)).join(', ')}` });
  const content = found.contents?.content;
  if (typeof content !== 'object' || content === null) throw new ConfigError(`${source}: interaction ${JSON.stringify(description)} has no JSON content (only JSON message pacts are supported)`);
  const at = `${source}, interaction ${JSON.stringify(description)}`;
  const idParts = pathParts(options.idPath, at);
  const uuids = (options.uuidPaths ?? []).map((p) => ({ p, parts: pathParts(p, at) }));
  const nows = (options.nowPaths ?? []).map((p) => ({ p, parts: pathParts(p, at) }));
  const metadata = found.metadata ?? {};
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    const prefix = ['kafka_header_', 'amqp_header_'].find((p) => k.startsWith(p));
    if (prefix !== undefined && typeof v === 'string') headers[k.slice(prefix.length)] = v;
  }
  const contentType = typeof metadata['contentType'] === 'string' ? { contentType: metadata['contentType'] } : {};
  const keyIsId = typeof metadata['kafka_key'] === 'string';
  // Checked once now, so a wrong path fails before any broker starts.
  const build = (id: string): InputMessage => {
    const body = JSON.parse(JSON.stringify(content)) as Json;
    setAt(body, idParts, id, options.idPath, at);
    for (const u of uuids) setAt(body, u.parts, randomUUID(), u.p, at);
    for (const n of nows) setAt(body, n.parts, new Date().toISOString(), n.p, at);
    return { value: JSON.stringify(body), headers, ...contentType, ...(keyIsId ? { key: id } : {}) };
  };
  build('check');
  return (id) => build(id);
}
