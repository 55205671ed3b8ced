import { EdaHarnessError } from '@eda-harness/core';

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

export function createManagementClient(options: ManagementClientOptions): ManagementClient {
  const parsed = new URL(options.url);
  const user = options.user ?? (parsed.username ? decodeURIComponent(parsed.username) : 'guest');
  const password = options.password ?? (parsed.password ? decodeURIComponent(parsed.password) : 'guest');
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const scope = options.vhost === undefined ? '' : `/${encodeURIComponent(options.vhost)}`;
  const timeoutMs = options.timeoutMs ?? 5_000;

  const get = async <T>(path: string): Promise<T> => {
    const url = `${base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new EdaHarnessError('BROKER_UNREACHABLE', `RabbitMQ management API at ${base} did not answer`, { cause: err, retriable: true });
    }
    if (!res.ok) {
      throw new EdaHarnessError('BROKER_UNREACHABLE', `GET ${base}${path}: HTTP ${res.status}`, {
        retriable: res.status >= 500,
        ...(res.status === 401 ? { hint: 'Check the management user and password (default guest / guest, which only works from localhost).' } : {}),
      });
    }
    return (await res.json()) as T;
  };

  return {
    queues: () => get<ManagementQueue[]>(`/api/queues${scope}`),
    bindings: () => get<ManagementBinding[]>(`/api/bindings${scope}`),
  };
}
