import { ConfigError } from '@eda-harness/core';
import type { PactBrokerOptions } from '../types';

/** Selectors used when none are configured: the consumers' main branches and whatever is deployed or released. */
export const DEFAULT_CONSUMER_VERSION_SELECTORS: readonly Record<string, unknown>[] = [{ mainBranch: true }, { matchingBranch: true }, { deployedOrReleased: true }];

/**
 * Pact Broker settings from the standard variables, or undefined when PACT_BROKER_BASE_URL is
 * unset (local pact files are verified then). PACT_BROKER_TOKEN or PACT_BROKER_USERNAME /
 * PACT_BROKER_PASSWORD authenticate; PACT_CONSUMER_VERSION_SELECTORS (a JSON array) picks the
 * pacts; PACT_PUBLISH_VERIFICATION_RESULTS=true publishes results for PACT_PROVIDER_VERSION on
 * PACT_PROVIDER_BRANCH; PACT_ENABLE_PENDING and PACT_INCLUDE_WIP_PACTS_SINCE as in Pact.
 */
export function brokerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PactBrokerOptions | undefined {
  const url = env['PACT_BROKER_BASE_URL']?.trim();
  if (!url) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigError(`PACT_BROKER_BASE_URL is not an http(s) URL: "${url}"`, { hint: 'for example https://pact-broker.example.com; unset it to verify local pact files' });
  }
  let selectors = DEFAULT_CONSUMER_VERSION_SELECTORS;
  const raw = env['PACT_CONSUMER_VERSION_SELECTORS'];
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'object' && s !== null && !Array.isArray(s))) throw new Error('not an array of objects');
      if (parsed.length === 0) throw new Error('an empty list selects no pacts');
      selectors = parsed as Record<string, unknown>[];
    } catch (err) {
      throw new ConfigError(`PACT_CONSUMER_VERSION_SELECTORS is not a JSON array of selectors: ${(err as Error).message}`, {
        hint: 'for example [{"mainBranch":true},{"deployedOrReleased":true}]',
      });
    }
  }
  const publish = flag(env, 'PACT_PUBLISH_VERIFICATION_RESULTS');
  const providerVersion = env['PACT_PROVIDER_VERSION'];
  if (publish && !providerVersion) throw new ConfigError('PACT_PUBLISH_VERIFICATION_RESULTS=true needs PACT_PROVIDER_VERSION (for example the git commit)');
  const opt = (name: string) => env[name] || undefined;
  const token = opt('PACT_BROKER_TOKEN');
  const username = opt('PACT_BROKER_USERNAME');
  const password = opt('PACT_BROKER_PASSWORD');
  const branch = opt('PACT_PROVIDER_BRANCH');
  const wip = opt('PACT_INCLUDE_WIP_PACTS_SINCE');
  const buildUrl = opt('PACT_BUILD_URL');
  if (token && (username || password)) {
    throw new ConfigError('PACT_BROKER_TOKEN and PACT_BROKER_USERNAME / PACT_BROKER_PASSWORD are both set', { hint: 'a broker takes a token or a username and password: unset one of them' });
  }
  if (Boolean(username) !== Boolean(password)) {
    throw new ConfigError(`PACT_BROKER_${username ? 'USERNAME' : 'PASSWORD'} is set without PACT_BROKER_${username ? 'PASSWORD' : 'USERNAME'}`, { hint: 'set both, or use PACT_BROKER_TOKEN' });
  }
  if (wip && Number.isNaN(Date.parse(wip))) throw new ConfigError(`PACT_INCLUDE_WIP_PACTS_SINCE is not a date: "${wip}"`, { hint: 'for example 2026-01-01' });
  const enablePending = flag(env, 'PACT_ENABLE_PENDING');
  return {
    url,
    consumerVersionSelectors: selectors,
    publishVerificationResult: publish,
    enablePending,
    ...(token ? { token } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(providerVersion ? { providerVersion } : {}),
    ...(branch ? { providerVersionBranch: branch } : {}),
    ...(wip ? { includeWipPactsSince: wip } : {}),
    ...(buildUrl ? { buildUrl } : {}),
  };
}

/** A true/false variable: unset or empty is false; anything but true/false (any case) is a {@link ConfigError}. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? '').trim().toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(`${name} must be true or false, not "${env[name] ?? ''}"`);
}
