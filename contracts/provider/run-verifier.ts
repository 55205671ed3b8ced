import { Verifier } from '@pact-foundation/pact';
import type { MessageDescriptor, MessageProviders, VerifierOptions } from '@pact-foundation/pact';
import { ContractError, errorMessage, withDeadline } from '@eda-harness/core';
import type { CapturedMessage, InteractionResult, MessageProviderDefinition, PactSummary, SkippedInteraction, StateParams } from '../types';
import { parseVerification } from './parse-verification';
import type { RawVerification } from './parse-verification';
import { toProviderMessage } from './to-provider-message';

export const DEFAULT_FACTORY_TIMEOUT_MS = 10_000;

export interface RunResult {
  interactions: InteractionResult[];
  skipped: SkippedInteraction[];
  problems: string[];
}

// The paths of Pact's own proxy (pact-js Verifier): provider states and messages. Every other
// request is an HTTP interaction, which Pact would forward to a provider base URL (127.0.0.1:80
// when none is given) and crash the process when nothing answers there.
const PACT_PROXY_PATHS = new Set(['/_pactSetup', '/_messages']);
interface ProxyResponse {
  status(code: number): ProxyResponse;
  type(contentType: string): ProxyResponse;
  send(body: string): unknown;
}
const answerHttpInteractions = (req: { path: string }, res: ProxyResponse, next: () => void): void => {
  if (PACT_PROXY_PATHS.has(req.path)) return next();
  res.status(501).type('text/plain').send('eda-harness verifies message interactions only: this HTTP interaction is not verified');
};

/**
 * One run of Pact's message verifier over `source` (pact URLs or broker options), each message
 * produced by the provider's factory within `factoryTimeoutMs`. Failures of our own (a factory
 * that throws or does not resolve, a state setup that fails) fail their interaction with that
 * reason, not with the HTTP error the verifier would see.
 */
export async function runVerifier(definition: MessageProviderDefinition, source: Record<string, unknown>, pact: PactSummary | undefined, options: { logLevel?: string; factoryTimeoutMs?: number }): Promise<RunResult> {
  const timeoutMs = options.factoryTimeoutMs ?? DEFAULT_FACTORY_TIMEOUT_MS;
  const factoryErrors = new Map<string, string>();
  const stateErrors: string[] = [];
  const stateHandlers: Record<string, { setup: (params?: unknown) => Promise<undefined>; teardown: (params?: unknown) => Promise<undefined> }> = {};
  for (const [name, handler] of Object.entries(definition.states ?? {})) {
    const phases = typeof handler === 'function' ? { setup: handler } : handler;
    // Pact's proxy swallows a state handler's error (and goes on); we record it and fail the interaction.
    const guarded = (phase: 'setup' | 'teardown') => async (params?: unknown) => {
      const fn = phases[phase];
      if (!fn) return undefined;
      try {
        await withDeadline(
          Promise.resolve().then(() => fn((params ?? {}) as StateParams)),
          timeoutMs,
          () => new ContractError(`it did not resolve within ${timeoutMs} ms`),
        );
      } catch (err) {
        stateErrors.push(`provider state "${name}" ${phase} failed: ${errorMessage(err)}`);
      }
      return undefined;
    };
    stateHandlers[name] = { setup: guarded('setup'), teardown: guarded('teardown') };
  }
  const descriptions = new Set([...Object.keys(definition.messages), ...(pact?.interactions.map((i) => i.description) ?? [])]);
  const messageProviders: MessageProviders = {};
  for (const description of descriptions) {
    messageProviders[description] = async (descriptor: MessageDescriptor) => {
      try {
        const states = (descriptor.providerStates ?? []).map((s) => ({ name: s.name, params: (s.params ?? {}) as StateParams }));
        const unknown = states.filter((s) => !definition.states?.[s.name]);
        if (unknown.length > 0) throw new ContractError(`provider "${definition.provider}" has no setup for provider state ${unknown.map((s) => `"${s.name}"`).join(', ')}`);
        if (stateErrors.length > 0) throw new ContractError(stateErrors.splice(0).join('; '));
        const factory = definition.messages[description];
        if (!factory) throw new ContractError(`provider "${definition.provider}" has no message factory for "${description}"`);
        const captured = await withDeadline(
          Promise.resolve().then(() => factory({ description, states })),
          timeoutMs,
          () => new ContractError(`the factory did not resolve within ${timeoutMs} ms (does it wait for a broker, or for a promise nothing settles?)`),
        );
        return toProviderMessage(checkCaptured(captured, description));
      } catch (err) {
        factoryErrors.set(description, errorMessage(err));
        throw err;
      }
    };
  }
  let raw: string;
  // Pact reads PACT_BROKER_BASE_URL itself when it is given no broker: a local run (--no-broker)
  // would fetch the broker's pacts too. It is hidden from Pact for the run, then restored.
  const hidden = source['pactBrokerUrl'] === undefined ? process.env['PACT_BROKER_BASE_URL'] : undefined;
  if (hidden !== undefined) delete process.env['PACT_BROKER_BASE_URL'];
  try {
    raw = await new Verifier({
      provider: definition.provider,
      logLevel: options.logLevel ?? 'error',
      messageProviders,
      stateHandlers,
      requestFilter: answerHttpInteractions,
      // Pact's own limit per request (state setup, message) stays above the factory's deadline.
      timeout: Math.max(30_000, timeoutMs + 5_000),
      ...source,
    } as unknown as VerifierOptions).verifyProvider();
  } catch (err) {
    // A failed verification rejects with the same JSON as a successful one resolves with.
    raw = errorMessage(err);
  } finally {
    if (hidden !== undefined) process.env['PACT_BROKER_BASE_URL'] = hidden;
  }
  let parsed: RawVerification;
  try {
    parsed = JSON.parse(raw) as RawVerification;
  } catch {
    throw new ContractError(`Pact verification could not run: ${raw}`);
  }
  return parseVerification(parsed, pact, factoryErrors);
}

function checkCaptured(value: unknown, description: string): CapturedMessage {
  const transport = (value as { transport?: unknown } | null | undefined)?.transport;
  if (transport === 'kafka' || transport === 'amqp') return value as CapturedMessage;
  const got = value === null ? 'null' : typeof value === 'object' ? 'an object without a transport' : String(value);
  throw new ContractError(`the factory for "${description}" resolved with ${got}, not a captured message (return capture.kafka() or capture.amqp() of createMessageCapture())`);
}
