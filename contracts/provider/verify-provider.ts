import { Verifier } from '@pact-foundation/pact';
import type { MessageDescriptor, MessageProviders, VerifierOptions } from '@pact-foundation/pact';
import { ContractError, errorMessage } from '@eda-harness/core';
import { defaultPactDir } from '../consumer/default-pact-dir';
import { findPactFiles } from '../find-pact-files';
import { readPact } from '../read-pact';
import type { MessageProviderDefinition, PactBrokerOptions, PactSummary, StateParams, VerificationReport, VerifyProviderOptions, InteractionResult } from '../types';
import { brokerOptionsFromEnv } from './broker-options';
import { parseVerification } from './parse-verification';
import type { RawVerification } from './parse-verification';
import { toProviderMessage } from './to-provider-message';

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/**
 * Verifies a message provider against its consumers' pacts: for every interaction, sets up the
 * provider states, runs the provider's real code through its message factory (captured, no
 * broker), and has Pact's verifier compare body and metadata with what the consumer expects.
 *
 * Pacts come from local files or directories (default `pacts/`), or from a Pact Broker when
 * PACT_BROKER_BASE_URL is set (or `broker` is given). Resolves with a per-interaction report;
 * a failed verification is a report with `passed: false`, not an exception. Throws
 * {@link ContractError} when there is nothing to verify or Pact cannot run.
 */
export async function verifyProvider(definition: MessageProviderDefinition, options: VerifyProviderOptions = {}): Promise<VerificationReport> {
  // Pact's native library reports usage to Pact's servers unless told not to; CI runs stay offline by default.
  process.env['PACT_DO_NOT_TRACK'] ??= 'true';
  const broker = options.broker === false ? undefined : (options.broker ?? brokerOptionsFromEnv());
  const interactions: InteractionResult[] = [];
  const problems: string[] = [];
  const sources: string[] = [];
  const collect = (r: { interactions: InteractionResult[]; problems: string[] }) => {
    interactions.push(...r.interactions);
    problems.push(...r.problems);
  };
  if (broker) {
    sources.push(broker.url);
    collect(await runVerifier(definition, { ...brokerVerifierOptions(broker), ...(options.consumers ? { consumerFilters: [...options.consumers] } : {}) }, undefined, options));
  } else {
    const paths = options.pacts ?? [defaultPactDir()];
    const urls = paths.filter(isUrl);
    const pacts = findPactFiles(paths.filter((p) => !isUrl(p)))
      .map(readPact)
      .filter((p) => p.provider === definition.provider && (!options.consumers || options.consumers.includes(p.consumer)));
    if (pacts.length === 0 && urls.length === 0) {
      throw new ContractError(`no pacts for provider "${definition.provider}" in ${paths.join(', ')}`, { hint: 'run the consumer contract tests first, or point --pacts at the pact files' });
    }
    // One verifier run per pact file: each result is attributed to its consumer without guessing.
    for (const pact of pacts) {
      sources.push(pact.file);
      collect(await runVerifier(definition, { pactUrls: [pact.file] }, pact, options));
    }
    for (const url of urls) {
      sources.push(url);
      collect(await runVerifier(definition, { pactUrls: [url] }, undefined, options));
    }
  }
  return { provider: definition.provider, passed: problems.length === 0 && interactions.length > 0 && interactions.every((i) => i.passed || i.pending), sources, interactions, problems };
}

function brokerVerifierOptions(b: PactBrokerOptions): Record<string, unknown> {
  return {
    pactBrokerUrl: b.url,
    ...(b.token ? { pactBrokerToken: b.token } : {}),
    ...(b.username ? { pactBrokerUsername: b.username } : {}),
    ...(b.password ? { pactBrokerPassword: b.password } : {}),
    ...(b.consumerVersionSelectors ? { consumerVersionSelectors: [...b.consumerVersionSelectors] } : {}),
    ...(b.enablePending ? { enablePending: true } : {}),
    ...(b.includeWipPactsSince ? { includeWipPactsSince: b.includeWipPactsSince } : {}),
    ...(b.publishVerificationResult ? { publishVerificationResult: true } : {}),
    ...(b.providerVersion ? { providerVersion: b.providerVersion } : {}),
    ...(b.providerVersionBranch ? { providerVersionBranch: b.providerVersionBranch } : {}),
    ...(b.buildUrl ? { buildUrl: b.buildUrl } : {}),
  };
}

async function runVerifier(definition: MessageProviderDefinition, source: Record<string, unknown>, pact: PactSummary | undefined, options: VerifyProviderOptions): Promise<{ interactions: InteractionResult[]; problems: string[] }> {
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
        await fn((params ?? {}) as StateParams);
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
        return toProviderMessage(await factory({ description, states }));
      } catch (err) {
        factoryErrors.set(description, errorMessage(err));
        throw err;
      }
    };
  }
  let raw: string;
  try {
    raw = await new Verifier({
      provider: definition.provider,
      logLevel: options.logLevel ?? 'error',
      messageProviders,
      stateHandlers,
      ...source,
    } as unknown as VerifierOptions).verifyProvider();
  } catch (err) {
    // A failed verification rejects with the same JSON as a successful one resolves with.
    raw = errorMessage(err);
  }
  let parsed: RawVerification;
  try {
    parsed = JSON.parse(raw) as RawVerification;
  } catch {
    throw new ContractError(`Pact verification could not run: ${raw}`);
  }
  return parseVerification(parsed, pact, factoryErrors);
}
