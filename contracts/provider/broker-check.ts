import http from 'node:http';
import https from 'node:https';
import { ContractError } from '@eda-harness/core';
import type { PactBrokerOptions } from '../types';

/**
 * Asks the Pact Broker's index (with the configured credentials) before verifying, so that an
 * unreachable broker or refused credentials are one clear error, not a verification "with no
 * pacts found". Credentials never appear in the message. (Node's http, not fetch: fetch refuses
 * some ports a broker may well listen on.)
 */
export async function checkBrokerReachable(broker: PactBrokerOptions, timeoutMs = 10_000): Promise<void> {
  const url = new URL(broker.url);
  const username = broker.username ?? decoded(url.username);
  const password = broker.password ?? decoded(url.password);
  url.username = '';
  url.password = '';
  const shown = url.toString();
  const headers: Record<string, string> = { accept: 'application/hal+json, application/json' };
  if (broker.token) headers['authorization'] = `Bearer ${broker.token}`;
  else if (username) headers['authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const status = await new Promise<number>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).get(url, { headers, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  }).catch((err: unknown) => {
    throw new ContractError(`cannot reach the Pact Broker at ${shown} (PACT_BROKER_BASE_URL): ${(err as Error).message}`, {
      cause: err,
      hint: 'check the URL and that the broker is up, or unset PACT_BROKER_BASE_URL (or pass --no-broker) to verify local pact files',
    });
  });
  if (status === 401 || status === 403) {
    throw new ContractError(`the Pact Broker at ${shown} refused the credentials (HTTP ${status})`, { hint: 'check PACT_BROKER_TOKEN, or PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD' });
  }
  if (status < 200 || status >= 400) {
    throw new ContractError(`the Pact Broker at ${shown} (PACT_BROKER_BASE_URL) answered HTTP ${status}`, { hint: 'is PACT_BROKER_BASE_URL the broker\u2019s base URL?' });
  }
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
