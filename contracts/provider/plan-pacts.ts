import { ContractError, errorMessage, requestText } from '@eda-harness/core';
import { findPactFiles } from '../find-pact-files';
import { MESSAGE_TYPE, messagesOnly, parsePactDocument, readPactDocument, specificationMajor } from '../read-pact';
import type { PactDocument } from '../read-pact';
import type { PactSummary, SkippedInteraction } from '../types';

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** One pact to verify: its message interactions, and what is skipped (HTTP, synchronous messages). */
export interface PactPlan {
  /** The pact, its interactions restricted to the asynchronous messages the verifier is given. */
  readonly summary: PactSummary;
  readonly skipped: readonly SkippedInteraction[];
  /** The original file when it holds only messages; otherwise the document to hand over as a copy. */
  readonly file: string | undefined;
  readonly document: Record<string, unknown>;
}

/** Why an interaction of this type is not verified (the report's note). */
export function skipReason(type: string): string {
  if (type === 'Synchronous/HTTP') return 'an HTTP interaction: eda-harness verifies message interactions (verify HTTP ones with your HTTP provider tests)';
  if (type === 'Synchronous/Messages') return 'a synchronous (request/response) message: eda-harness verifies asynchronous messages';
  return `interaction type "${type}": eda-harness verifies asynchronous messages`;
}

/**
 * Reads every pact under `paths` (files, directories, http(s) URLs, fetched with the credentials
 * Pact would send) before anything is verified: one that cannot be read or is not a pact stops
 * the run with a {@link ContractError}.
 */
export async function loadPacts(paths: readonly string[]): Promise<PactDocument[]> {
  const docs = findPactFiles(paths.filter((p) => !isUrl(p))).map(readPactDocument);
  for (const url of paths.filter(isUrl)) {
    let text: string;
    try {
      text = await requestText(url, { timeoutMs: 15_000, headers: brokerAuth() });
    } catch (err) {
      throw new ContractError(`cannot fetch the pact ${url}: ${errorMessage(err)}`, { cause: err });
    }
    docs.push(parsePactDocument(text, url));
  }
  return docs;
}

/** The credentials Pact itself sends with a pact URL: PACT_BROKER_TOKEN, or PACT_BROKER_USERNAME / PASSWORD. */
function brokerAuth(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = env['PACT_BROKER_TOKEN'];
  if (token) return { authorization: `Bearer ${token}` };
  const user = env['PACT_BROKER_USERNAME'];
  return user ? { authorization: `Basic ${Buffer.from(`${user}:${env['PACT_BROKER_PASSWORD'] ?? ''}`).toString('base64')}` } : {};
}

/**
 * What the message verifier is given for one pact: its asynchronous messages only. Every other
 * interaction is skipped with a note (the verifier would send it to an HTTP provider that does not
 * exist). A pact whose specification version is missing or unknown is a {@link ContractError}.
 */
export function planPact(doc: PactDocument): PactPlan {
  const { summary } = doc;
  const major = specificationMajor(summary.specification);
  if (summary.specification === 'unknown') {
    throw new ContractError(`${summary.file} does not say which pact specification it follows (metadata.pactSpecification.version)`, {
      hint: 'pact files written by a Pact library carry it; eda-harness verifies specification 1.x to 4.x',
    });
  }
  if (major === undefined || major < 1 || major > 4) {
    throw new ContractError(`${summary.file}: pact specification version "${summary.specification}" is not supported`, {
      hint: 'eda-harness verifies pacts of specification 1.x to 4.x (messages: V3 "messages", V4 "Asynchronous/Messages" interactions)',
    });
  }
  const messages = summary.interactions.filter((i) => i.type === MESSAGE_TYPE);
  const skipped = summary.interactions
    .filter((i) => i.type !== MESSAGE_TYPE)
    .map((i) => ({ consumer: summary.consumer, description: i.description, type: i.type, reason: skipReason(i.type) }));
  const copy = skipped.length > 0 || isUrl(summary.file);
  return { summary: { ...summary, interactions: messages }, skipped, file: copy ? undefined : summary.file, document: skipped.length > 0 ? messagesOnly(doc) : doc.json };
}

/** The summaries of every pact under `paths` (files, directories, http(s) URLs), as `contracts list` shows them. */
export async function readPacts(paths: readonly string[]): Promise<PactSummary[]> {
  return (await loadPacts(paths)).map((d) => d.summary);
}
