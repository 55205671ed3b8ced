import type { InteractionResult, Mismatch, PactSummary, SkippedInteraction } from '../types';
import { skipReason } from './plan-pacts';

interface RawMismatch {
  readonly type?: string;
  readonly path?: string;
  readonly key?: string;
  readonly expected?: unknown;
  readonly actual?: unknown;
  readonly mismatch?: string;
}

interface RawError {
  readonly interaction?: string;
  readonly mismatch?: { readonly type?: string; readonly mismatches?: readonly RawMismatch[]; readonly message?: string };
}

/** The JSON the Pact verifier returns (pactffi_verifier_json). */
export interface RawVerification {
  readonly result?: boolean;
  readonly interactionResults?: readonly { readonly description?: string; readonly result?: unknown }[];
  readonly errors?: readonly RawError[];
  readonly pendingErrors?: readonly RawError[];
  readonly output?: readonly string[];
}

// The verifier colours its output; the escape character is built, not written, to keep the regex readable.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * Turns the verifier's JSON into one result per interaction: passed, or each mismatch with where
 * it is (a JSONPath in the body, or a metadata key). `factoryErrors` are failures of our own
 * message factories, which the verifier only sees as an HTTP 500. HTTP interactions (a broker's
 * pacts are not filtered beforehand; the verifier's output says which ones got a response) are
 * skipped, not failed.
 */
export function parseVerification(
  raw: RawVerification,
  pact: PactSummary | undefined,
  factoryErrors: ReadonlyMap<string, string>,
): { interactions: InteractionResult[]; skipped: SkippedInteraction[]; problems: string[] } {
  const errors = raw.errors ?? [];
  const pendingErrors = raw.pendingErrors ?? [];
  const interactions =
    pact?.interactions.map((i) => ({ description: i.description, states: i.states })) ??
    (raw.interactionResults ?? []).map((r) => ({ description: String(r.description ?? ''), states: [] as readonly string[] }));
  const blocks = blocksFromOutput(raw.output ?? []);
  const belongsTo = (e: RawError, description: string) => typeof e.interaction === 'string' && (e.interaction.endsWith(` - ${description}`) || e.interaction === description);
  const results = interactions.map((i, index) => {
    const mine = (list: readonly RawError[]) => list.filter((e) => belongsTo(e, i.description));
    const failed = mine(errors);
    const pending = mine(pendingErrors);
    const mismatches = [...failed, ...pending].flatMap(toMismatches);
    const factoryError = factoryErrors.get(i.description);
    if (factoryError !== undefined) {
      // No message was produced: the verifier's mismatches only describe an HTTP 500; ours says why.
      mismatches.splice(0, mismatches.length, { kind: 'error', where: 'message factory', message: factoryError });
    }
    const consumer = pact?.consumer ?? consumerOf(failed[0]?.interaction ?? pending[0]?.interaction) ?? blocks[index]?.consumer ?? 'unknown consumer';
    const http = pact === undefined && blocks[index]?.http === true;
    return { consumer, description: i.description, states: i.states, passed: failed.length === 0 && pending.length === 0 && factoryError === undefined, pending: pending.length > 0 && failed.length === 0, mismatches, http };
  });
  const problems = errors
    .filter((e) => !interactions.some((i) => belongsTo(e, i.description)))
    .map((e) => clean([e.interaction, e.mismatch?.message].filter(Boolean).join(': ')));
  return {
    interactions: results.filter((r) => !r.http).map(({ http: _http, ...r }) => r),
    skipped: results.filter((r) => r.http).map((r) => ({ consumer: r.consumer, description: r.description, type: 'Synchronous/HTTP', reason: skipReason('Synchronous/HTTP') })),
    problems,
  };
}

function toMismatches(e: RawError): Mismatch[] {
  const m = e.mismatch;
  if (!m) return [{ kind: 'error', where: 'verification', message: 'failed without details' }];
  if (m.type !== 'mismatches') return [{ kind: 'error', where: 'message', message: clean(m.message ?? String(m.type)) }];
  return (m.mismatches ?? []).flatMap((x): Mismatch[] => {
    // Pact reports a removed field at its parent ("$.a: Actual map is missing the following keys: b, c");
    // one mismatch per field, at the field's own path, names exactly what the provider dropped.
    const missing = /missing the following keys: (.+)$/.exec(x.mismatch ?? '');
    if (x.type === 'BodyMismatch' && missing?.[1]) {
      return missing[1].split(/,\s*/).map((key) => ({ kind: 'body', where: `${x.path ?? '$'}.${key}`, message: 'missing: the consumer relies on this field' }));
    }
    const kind = x.type === 'MetadataMismatch' ? 'metadata' : x.type === 'BodyMismatch' || x.type === 'BodyTypeMismatch' ? 'body' : 'error';
    const out: Mismatch = {
      kind,
      where: kind === 'metadata' ? `metadata "${x.key ?? '?'}"` : (x.path ?? '$'),
      message: clean(x.mismatch ?? 'mismatch'),
      ...(x.expected === undefined ? {} : { expected: text(x.expected) }),
      ...(x.actual === undefined ? {} : { actual: text(x.actual) }),
    };
    return [out];
  });
}

function consumerOf(interaction: string | undefined): string | undefined {
  return interaction ? /between (.+?) and /.exec(interaction)?.[1] : undefined;
}

/**
 * Broker runs: for each interaction, in the order of the verifier's output, its consumer and
 * whether it is an HTTP interaction (the verifier "returns a response" for those, where a message
 * "generates a message").
 */
function blocksFromOutput(output: readonly string[]): { consumer: string; http: boolean }[] {
  const out: { consumer: string; http: boolean }[] = [];
  let current: string | undefined;
  for (const chunk of output) {
    for (const line of clean(chunk).split('\n')) {
      const header = /Verifying a pact between (.+?) and /.exec(line);
      if (header) current = header[1];
      else if (current && /^ {2}\S.*\(.*verification\)/.test(line)) out.push({ consumer: current, http: false });
      else if (/^ {4}returns a response which/.test(line) && out.length > 0) (out[out.length - 1] as { http: boolean }).http = true;
    }
  }
  return out;
}

function clean(s: string): string {
  return s.replace(ANSI, '');
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
