import { ConfigError, HttpRequestError, requestJson } from '@eda-harness/core';
import { redactCredentials } from '../setting-rules';

/**
 * The few management HTTP API calls the exporter makes (GET /api/queues, GET /api/bindings),
 * with credentials taken from the URL or given apart (fetch refuses URLs with credentials).
 */
export interface ManagementQueue {
  readonly name: string;
  readonly vhost: string;
  readonly messages?: number;
  readonly messages_ready?: number;
  readonly messages_unacknowledged?: number;
  readonly consumers?: number;
  readonly arguments?: Readonly<Record<string, unknown>>;
  readonly effective_policy_definition?: Readonly<Record<string, unknown>> | unknown[];
  /** The head message's `timestamp` property, in seconds, when publishers set one. */
  readonly head_message_timestamp?: number | null;
  readonly message_stats?: Readonly<Record<string, unknown>>;
}

export interface ManagementBinding {
  readonly source: string;
  readonly vhost: string;
  readonly destination: string;
  readonly destination_type: string;
  readonly routing_key: string;
}

export interface ManagementClient {
  queues(): Promise<ManagementQueue[]>;
  bindings(): Promise<ManagementBinding[]>;
}

export interface ManagementClientOptions {
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  readonly vhost?: string;
  readonly timeoutMs?: number;
}

const CREDENTIALS_HINT = 'Check the management user and password (default guest / guest, which only works from localhost).';

/**
 * Every failure is an HttpRequestError (from requestJson: unreachable or timed out, retriable; or
 * the status and the start of the body) saying it was the management API, with a hint on 401.
 */
export function createManagementClient(options: ManagementClientOptions): ManagementClient {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new ConfigError(`RabbitMQ management URL ${JSON.stringify(redactCredentials(options.url))} is not a valid URL`, { hint: 'For example http://guest:guest@localhost:15672' });
  }
  const user = options.user ?? (parsed.username ? decodeURIComponent(parsed.username) : 'guest');
  const password = options.password ?? (parsed.password ? decodeURIComponent(parsed.password) : 'guest');
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const scope = options.vhost === undefined ? '' : `/${encodeURIComponent(options.vhost)}`;
  const timeoutMs = options.timeoutMs ?? 5_000;

  const list = async <T>(path: string): Promise<T[]> => {
    const url = `${base}${path}`;
    let answer: unknown;
    try {
      answer = await requestJson<unknown>(url, { headers: { authorization }, timeoutMs });
    } catch (err) {
      if (!(err instanceof HttpRequestError)) throw err;
      throw new HttpRequestError(`RabbitMQ management API: ${err.message}`, {
        cause: err,
        retriable: err.retriable,
        ...(err.status !== undefined ? { status: err.status } : {}),
        ...(err.body !== undefined ? { body: err.body } : {}),
        ...(err.status === 401 ? { hint: CREDENTIALS_HINT } : {}),
      });
    }
    if (!Array.isArray(answer)) throw new HttpRequestError(`RabbitMQ management API: GET ${url} answered with ${answer === undefined ? 'an empty body' : typeof answer}, not a list`);
    return answer as T[];
  };

  return {
    queues: () => list<ManagementQueue>(`/api/queues${scope}`),
    bindings: () => list<ManagementBinding>(`/api/bindings${scope}`),
  };
}
