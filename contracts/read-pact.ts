import { readFileSync } from 'node:fs';
import { ContractError } from '@eda-harness/core';
import { METADATA_KEY } from './metadata-keys';
import type { PactSummary } from './types';

interface RawInteraction {
  readonly description?: unknown;
  readonly type?: unknown;
  readonly providerStates?: readonly { readonly name?: unknown }[];
  readonly providerState?: unknown;
  readonly metadata?: Record<string, unknown>;
}

interface RawPact {
  readonly consumer?: { readonly name?: unknown };
  readonly provider?: { readonly name?: unknown };
  readonly interactions?: readonly RawInteraction[];
  readonly messages?: readonly RawInteraction[];
  readonly metadata?: { readonly pactSpecification?: { readonly version?: unknown } };
}

/** Reads one pact file (V3 `messages` or V4 `interactions`) into a summary. */
export function readPact(file: string): PactSummary {
  let raw: RawPact;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as RawPact;
  } catch (err) {
    throw new ContractError(`${file} is not a readable pact file: ${(err as Error).message}`, { cause: err });
  }
  const consumer = raw.consumer?.name;
  const provider = raw.provider?.name;
  if (typeof consumer !== 'string' || typeof provider !== 'string') throw new ContractError(`${file} is not a pact file (no consumer / provider name)`);
  const interactions = [...(raw.interactions ?? []), ...(raw.messages ?? [])].map((i) => ({
    description: String(i.description ?? ''),
    type: typeof i.type === 'string' ? i.type : raw.messages ? 'Asynchronous/Messages' : 'Synchronous/HTTP',
    states: (i.providerStates ?? []).map((s) => String(s.name ?? '')).concat(typeof i.providerState === 'string' ? [i.providerState] : []),
    transport: describeTransport(i.metadata ?? {}),
  }));
  const spec = raw.metadata?.pactSpecification?.version;
  return { file, consumer, provider, specification: typeof spec === 'string' ? spec : 'unknown', interactions };
}

function describeTransport(m: Record<string, unknown>): string {
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
