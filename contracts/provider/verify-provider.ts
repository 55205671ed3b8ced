import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ContractError } from '@eda-harness/core';
import { defaultPactDir } from '../consumer/default-pact-dir';
import type { MessageProviderDefinition, PactBrokerOptions, VerificationReport, VerifyProviderOptions } from '../types';
import { checkBrokerReachable } from './broker-check';
import { brokerOptionsFromEnv } from './broker-options';
import { loadPacts, planPact } from './plan-pacts';
import { runVerifier } from './run-verifier';
import type { RunResult } from './run-verifier';

/**
 * Verifies a message provider against its consumers' pacts: for every message interaction, sets
 * up the provider states, runs the provider's real code through its message factory (captured, no
 * broker), and has Pact's verifier compare body and metadata with what the consumer expects.
 * Other interactions (HTTP, synchronous messages) are skipped and listed in `skipped`.
 *
 * Pacts come from local files, directories or URLs (default `pacts/`), or from a Pact Broker when
 * PACT_BROKER_BASE_URL is set (or `broker` is given). Resolves with a per-interaction report;
 * a failed verification is a report with `passed: false`, not an exception. Throws
 * {@link ContractError} when nothing could be verified: no pacts, a pact that cannot be read or
 * is of an unknown specification, an unreachable broker, no message interaction.
 */
export async function verifyProvider(definition: MessageProviderDefinition, options: VerifyProviderOptions = {}): Promise<VerificationReport> {
  // Pact's native library reports usage to Pact's servers unless told not to; CI runs stay offline by default.
  process.env['PACT_DO_NOT_TRACK'] ??= 'true';
  const broker = options.broker === false ? undefined : (options.broker ?? brokerOptionsFromEnv());
  const result: RunResult = { interactions: [], skipped: [], problems: [] };
  const collect = (r: RunResult) => {
    result.interactions.push(...r.interactions);
    result.skipped.push(...r.skipped);
    result.problems.push(...r.problems);
  };
  const sources: string[] = [];
  if (broker) {
    await checkBrokerReachable(broker);
    sources.push(broker.url);
    collect(await runVerifier(definition, { ...brokerVerifierOptions(broker), ...(options.consumers ? { consumerFilters: [...options.consumers] } : {}) }, undefined, options));
  } else {
    const paths = options.pacts ?? [defaultPactDir()];
    const all = await loadPacts(paths);
    const mine = all.filter((d) => d.summary.provider === definition.provider && (!options.consumers || options.consumers.includes(d.summary.consumer)));
    if (mine.length === 0) throw noPacts(definition.provider, options.consumers, paths, all.map((d) => `${d.summary.consumer} -> ${d.summary.provider}`));
    // Every pact is checked before any is verified: a bad one stops the run before it starts.
    const plans = mine.map(planPact);
    const copies = mkdtempSync(join(tmpdir(), 'eda-harness-pacts-'));
    try {
      // One verifier run per pact file: each result is attributed to its consumer without guessing.
      for (const [index, plan] of plans.entries()) {
        sources.push(plan.summary.file);
        result.skipped.push(...plan.skipped);
        if (plan.summary.interactions.length === 0) continue;
        let file = plan.file;
        if (file === undefined) {
          // HTTP interactions are left out of the copy the verifier gets; URL pacts were fetched already.
          file = join(copies, `${index}-${basename(plan.summary.file).replace(/[^\w.-]/g, '_') || 'pact'}${plan.summary.file.endsWith('.json') ? '' : '.json'}`);
          writeFileSync(file, JSON.stringify(plan.document));
        }
        collect(await runVerifier(definition, { pactUrls: [file] }, plan.summary, options));
      }
    } finally {
      rmSync(copies, { recursive: true, force: true });
    }
  }
  if (result.interactions.length === 0) throw nothingVerified(definition.provider, result);
  const { interactions, skipped, problems } = result;
  return { provider: definition.provider, passed: problems.length === 0 && interactions.every((i) => i.passed || i.pending), sources, interactions, skipped, problems };
}

function noPacts(provider: string, consumers: readonly string[] | undefined, paths: readonly string[], found: readonly string[]): ContractError {
  const from = consumers ? ` from consumer ${consumers.map((c) => `"${c}"`).join(' or ')}` : '';
  const seen = [...new Set(found)];
  return new ContractError(`no pacts for provider "${provider}"${from} in ${paths.join(', ')}`, {
    hint: seen.length > 0 ? `the pacts there are: ${seen.join(', ')}` : 'run the consumer contract tests first, or point --pacts at the pact files',
  });
}

function nothingVerified(provider: string, r: RunResult): ContractError {
  if (r.problems.length > 0) return new ContractError(`nothing could be verified for provider "${provider}": ${r.problems.join('; ')}`);
  if (r.skipped.length > 0) {
    return new ContractError(`nothing could be verified for provider "${provider}": its pacts hold no message interaction, only ${r.skipped.length} skipped one(s)`, {
      hint: [...r.skipped.slice(0, 5).map((s) => `${s.consumer}: "${s.description}" is ${s.reason}`), ...(r.skipped.length > 5 ? [`and ${r.skipped.length - 5} more`] : [])].join('\n    '),
    });
  }
  return new ContractError(`nothing could be verified for provider "${provider}": its pacts hold no interactions`, { hint: 'run the consumer contract tests, which write the interactions' });
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
