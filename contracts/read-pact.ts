import { readFileSync } from 'node:fs';
import { ContractError } from '@eda-harness/core';
import { METADATA_KEY } from './metadata-keys';
import type { PactSummary } from './types';

/** The interaction type of an asynchronous message: the only kind eda-harness's verifier produces. */
export const MESSAGE_TYPE = 'Asynchronous/Messages';
const HTTP_TYPE = 'Synchronous/HTTP';

type Json = Record<string, unknown>;

/** A pact file as read: its summary, and the document itself (for a copy that holds only its messages). */
export interface PactDocument {
  readonly summary: PactSummary;
  readonly json: Json;
}

/** Reads one pact file (V1–V3 `interactions`, V3 `messages` or V4 `interactions`) into a summary. */
export function readPact(file: string): PactSummary {
  return readPactDocument(file).summary;
}

export function readPactDocument(file: string): PactDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ContractError(`${file} is not a readable pact file: ${(err as Error).message}`, { cause: err });
  }
  return parsePactDocument(text, file);
}

/**
 * Parses a pact document read from `source` (a file or URL). Anything that is not a pact (not a
 * JSON object, no consumer or provider name, an interaction that is not an object or has no
 * description) is a {@link ContractError} naming the source and what is wrong.
 */
export function parsePactDocument(text: string, source: string): PactDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ContractError(`${source} is not a readable pact file: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(parsed)) throw new ContractError(`${source} is not a pact file: it holds ${describe(parsed)}, not a JSON object`);
  const raw = parsed;
  const consumer = (raw['consumer'] as Json | undefined)?.['name'];
  const provider = (raw['provider'] as Json | undefined)?.['name'];
  if (typeof consumer !== 'string' || typeof provider !== 'string' || consumer === '' || provider === '') {
    throw new ContractError(`${source} is not a pact file (no consumer / provider name)`);
  }
  const spec = (((raw['metadata'] as Json | undefined)?.['pactSpecification'] as Json | undefined)?.['version']);
  const specification = typeof spec === 'string' ? spec : 'unknown';
  const major = specificationMajor(specification);
  const interactions = [...entries(raw, 'interactions', source), ...entries(raw, 'messages', source)].map(({ item, key }) => {
    const type = interactionType(item, key, major);
    const transport = type === HTTP_TYPE ? describeHttp(item) : describeTransport(isObject(item['metadata']) ? item['metadata'] : {});
    return { description: item['description'] as string, type, states: states(item), transport };
  });
  return { summary: { file: source, consumer, provider, specification, interactions }, json: raw };
}

/** The major version of a pact specification ("4.0" → 4), or undefined when it is not a version. */
export function specificationMajor(specification: string): number | undefined {
  const m = /^v?(\d+)(\.\d+){0,2}$/i.exec(specification.trim());
  return m ? Number(m[1]) : undefined;
}

/** The document with only its asynchronous message interactions (what the message verifier can verify). */
export function messagesOnly(doc: PactDocument): Json {
  const major = specificationMajor(doc.summary.specification);
  const interactions = doc.json['interactions'];
  if (!Array.isArray(interactions)) return doc.json;
  return { ...doc.json, interactions: interactions.filter((i: Json) => interactionType(i, 'interactions', major) === MESSAGE_TYPE) };
}

function entries(raw: Json, key: 'interactions' | 'messages', source: string): { item: Json; key: 'interactions' | 'messages' }[] {
  const list = raw[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ContractError(`${source} is not a valid pact file: "${key}" is ${describe(list)}, not a list`);
  return list.map((item: unknown, index) => {
    const where = `${source}: ${key}[${index}]`;
    if (!isObject(item)) throw new ContractError(`${where} is ${describe(item)}, not an interaction`, { hint: 'a pact file lists its interactions as JSON objects with a "description"' });
    if (typeof item['description'] !== 'string' || item['description'] === '') throw new ContractError(`${where} has no "description"`);
    const ps = item['providerStates'];
    if (ps !== undefined && (!Array.isArray(ps) || !ps.every((s) => isObject(s) && typeof s['name'] === 'string'))) {
      throw new ContractError(`${where} ("${item['description']}"): "providerStates" is not a list of { "name": … } objects`);
    }
    return { item, key };
  });
}

/** V4 interactions say their type; older pacts keep HTTP in `interactions` and messages (V3) in `messages`. */
function interactionType(item: Json, key: 'interactions' | 'messages', major: number | undefined): string {
  if (key === 'messages') return MESSAGE_TYPE;
  if (typeof item['type'] === 'string' && (major === undefined || major >= 4)) return item['type'];
  return HTTP_TYPE;
}

function states(item: Json): string[] {
  const list = (item['providerStates'] as readonly Json[] | undefined) ?? [];
  return list.map((s) => String(s['name'])).concat(typeof item['providerState'] === 'string' ? [item['providerState']] : []);
}

function describeHttp(item: Json): string {
  const request = isObject(item['request']) ? item['request'] : {};
  const method = typeof request['method'] === 'string' ? request['method'].toUpperCase() : '?';
  return `http ${method} ${typeof request['path'] === 'string' ? request['path'] : '/'}`;
}

function describeTransport(m: Json): string {
  const text = (k: string) => (m[k] === undefined ? undefined : String(m[k]));
  const topic = text(METADATA_KEY.KAFKA_TOPIC);
  if (topic !== undefined) {
    const key = text(METADATA_KEY.KAFKA_KEY);
    return `kafka ${topic}${key === undefined ? '' : ` (keyed)`}`;
  }
  const exchange = text(METADATA_KEY.AMQP_EXCHANGE);
  if (exchange !== undefined) return `amqp ${exchange === '' ? '(default exchange)' : exchange} / ${text(METADATA_KEY.AMQP_ROUTING_KEY) ?? ''}`;
  return 'message';
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v} (${JSON.stringify(v)})`;
}
