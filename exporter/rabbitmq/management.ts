import { ConfigError, HttpRequestError, requestText } from '@eda-harness/core';
import { settingDescription } from '../config';
import { redactCredentials } from '../setting-rules';
import { requestTextWithCa } from './https-text';

/**
 * The few management HTTP API calls the exporter makes (GET /api/queues, /api/exchanges,
 * /api/bindings), with credentials taken from the URL or given apart (fetch refuses URLs with
 * credentials). Queues and exchanges are read page by page and only the columns the exporter uses
 * are asked for: on a server with thousands of queues a full /api/queues answer is megabytes of
 * backing-queue internals, garbage collection and per-consumer details nobody reads.
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

export interface ManagementExchange {
  readonly name: string;
  readonly vhost: string;
  /** direct, fanout, topic, headers, or a plugin's type (x-delayed-message, x-consistent-hash…). */
  readonly type: string;
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
  exchanges(): Promise<ManagementExchange[]>;
  /**
   * True when the server keeps no statistics (`management_agent.disable_metrics_collector`): its
   * queues then come without message counts, and the numbers must be read elsewhere.
   */
  statisticsDisabled(): Promise<boolean>;
}

export interface ManagementClientOptions {
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  readonly vhost?: string;
  /** Per HTTP request (each page is one), default 5 000 ms. */
  readonly timeoutMs?: number;
  /** Items per page for queues and exchanges (default 500, the most RabbitMQ serves in one page). */
  readonly pageSize?: number;
  /** PEM file of the CA(s) that signed an https management API's certificate (default: Node's CAs). */
  readonly caFile?: string;
}

/** A TLS failure to trust the server's certificate, from anywhere in an error's cause chain. */
export interface CertificateFailure {
  /** OpenSSL's or Node's code: SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID… */
  readonly code: string;
  readonly reason: string;
}

const CERTIFICATE_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_[A-Z_]+)$/;

/** The certificate failure behind `err` (fetch wraps it in a TypeError, core in an HttpRequestError), if that is what it is. Pure. */
export function certificateFailure(err: unknown): CertificateFailure | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_CODES.test(code)) return { code, reason: String((e as { message?: unknown }).message ?? code) };
  }
  return undefined;
}

/**
 * One line saying the management API's certificate is not trusted and what to set: the URL, the
 * CA file in use (or that none is), the setting's every spelling. Not retriable: the certificate
 * will not start being trusted by itself.
 */
export function untrustedCertificate(base: string, tls: CertificateFailure, caFile: string | undefined, cause?: unknown): HttpRequestError {
  const setting = settingDescription('managementCaFile');
  const why = `${tls.reason}, ${tls.code}`;
  let message: string;
  let hint: string;
  if (tls.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    message = `RabbitMQ management API ${base}: its TLS certificate is not for this host name (${why})`;
    hint = 'Use a management URL with a host name the certificate names (its subject alternative names).';
  } else if (caFile === undefined) {
    message = `RabbitMQ management API ${base}: its TLS certificate is not signed by a CA this machine trusts (${why}); set the CA that signed it as ${setting}`;
    hint = "The CA is the file RabbitMQ has as management.ssl.cacertfile, in PEM form.";
  } else {
    message = `RabbitMQ management API ${base}: its TLS certificate is not signed by the CA in ${caFile} (${why}), given as ${setting}`;
    hint = "Give the CA that signed the management certificate (RabbitMQ's management.ssl.cacertfile), in PEM form.";
  }
  return new HttpRequestError(message, { cause, retriable: false, hint });
}

const CREDENTIALS_HINT = 'Check the management user and password (default guest / guest, which only works from localhost).';
/** Pages requested in parallel after the first: enough to hide latency, few enough to spare the management database. */
const PAGES_AT_ONCE = 4;
/** RabbitMQ refuses page_size above 500. */
export const MAX_MANAGEMENT_PAGE_SIZE = 500;

/** The columns of /api/queues the snapshot reads (message_stats: the cumulative counts and the smoothed rates). */
export const QUEUE_COLUMNS = [
  'name',
  'vhost',
  'messages',
  'messages_ready',
  'messages_unacknowledged',
  'consumers',
  'arguments',
  'effective_policy_definition',
  'head_message_timestamp',
  ...['publish', 'deliver_get', 'ack', 'redeliver', 'deliver_no_ack', 'get_no_ack'].map((f) => `message_stats.${f}`),
  ...['publish', 'deliver_get', 'ack', 'redeliver'].map((f) => `message_stats.${f}_details`),
] as const;
const EXCHANGE_COLUMNS = ['name', 'vhost', 'type'] as const;
const BINDING_COLUMNS = ['source', 'vhost', 'destination', 'destination_type', 'routing_key'] as const;

/** One page of a paginated management answer. */
interface Page<T> {
  readonly items: T[];
  readonly page_count?: number;
}

/**
 * Every failure is an HttpRequestError (unreachable or timed out, retriable; or the status and the
 * start of the body) saying it was the management API, with a hint on 401.
 */
export function createManagementClient(options: ManagementClientOptions): ManagementClient {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    throw new ConfigError(`RabbitMQ management URL ${JSON.stringify(redactCredentials(options.url))} is not a valid URL`, { hint: 'For example http://guest:guest@localhost:15672' });
  }
  if (options.caFile !== undefined && parsed.protocol !== 'https:') {
    throw new ConfigError(`a CA file is set for the RabbitMQ management API but its URL ${JSON.stringify(redactCredentials(options.url))} is not https`, {
      hint: 'Use an https:// management URL, or drop the CA file.',
    });
  }
  const user = options.user ?? (parsed.username ? decodeURIComponent(parsed.username) : 'guest');
  const password = options.password ?? (parsed.password ? decodeURIComponent(parsed.password) : 'guest');
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const scope = options.vhost === undefined ? '' : `/${encodeURIComponent(options.vhost)}`;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pageSize = Math.max(1, Math.min(MAX_MANAGEMENT_PAGE_SIZE, Math.floor(options.pageSize ?? MAX_MANAGEMENT_PAGE_SIZE)));
  const caFile = options.caFile;

  /** `path` with its query; errors name it without the columns (a long list that says nothing). */
  const get = async (path: string): Promise<unknown> => {
    const url = `${base}${path}`;
    const [pathname, query = ''] = path.split('?');
    const params = new URLSearchParams(query);
    params.delete('columns');
    const shown = `${base}${pathname}${params.size > 0 ? `?${params.toString()}` : ''}`;
    let text: string;
    try {
      const request = { headers: { authorization, accept: 'application/json' }, timeoutMs };
      text = caFile === undefined ? await requestText(url, request) : await requestTextWithCa(url, { ...request, caFile });
    } catch (err) {
      if (!(err instanceof HttpRequestError)) throw err;
      const tls = certificateFailure(err);
      if (tls) throw untrustedCertificate(base, tls, caFile, err);
      throw new HttpRequestError(`RabbitMQ management API: ${err.message.replace(url, shown)}`, {
        cause: err,
        retriable: err.retriable,
        ...(err.status !== undefined ? { status: err.status } : {}),
        ...(err.body !== undefined ? { body: err.body } : {}),
        ...(err.status === 401 ? { hint: CREDENTIALS_HINT } : {}),
      });
    }
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new HttpRequestError(`RabbitMQ management API: GET ${shown} answered with a body that is not JSON: ${text.slice(0, 300)}`, { cause: err });
    }
  };

  const notAList = (path: string, answer: unknown): HttpRequestError =>
    new HttpRequestError(`RabbitMQ management API: GET ${base}${path.split('?')[0]} answered with ${answer === undefined ? 'an empty body' : typeof answer}, not a list`);

  const list = async <T>(path: string, columns: readonly string[]): Promise<T[]> => {
    const full = `${path}?columns=${columns.join(',')}`;
    const answer = await get(full);
    if (!Array.isArray(answer)) throw notAList(full, answer);
    return answer as T[];
  };

  /**
   * The first page says how many there are; the rest are asked for a few at a time. A server that
   * ignores pagination (a plain list) is read as one page.
   */
  const paged = async <T>(path: string, columns: readonly string[]): Promise<T[]> => {
    const pageOf = async (page: number): Promise<Page<T> | T[]> => {
      const full = `${path}?columns=${columns.join(',')}&page=${page}&page_size=${pageSize}`;
      const answer = await get(full);
      if (Array.isArray(answer)) return answer as T[];
      const body = answer as Page<T> | undefined;
      if (!body || typeof body !== 'object' || !Array.isArray(body.items)) throw notAList(full, answer);
      return body;
    };
    const first = await pageOf(1);
    if (Array.isArray(first)) return first;
    // page_count is 0 for an empty list; a page past the end would be a 400.
    const pageCount = first.items.length === 0 ? 1 : Math.max(1, first.page_count ?? 1);
    const pages: T[][] = [first.items];
    for (let next = 2; next <= pageCount; next += PAGES_AT_ONCE) {
      const batch = Array.from({ length: Math.min(PAGES_AT_ONCE, pageCount - next + 1) }, (_, i) => pageOf(next + i));
      for (const page of await Promise.all(batch)) pages.push(Array.isArray(page) ? page : page.items);
    }
    return pages.flat();
  };

  return {
    queues: () => paged<ManagementQueue>(`/api/queues${scope}`, QUEUE_COLUMNS),
    exchanges: () => paged<ManagementExchange>(`/api/exchanges${scope}`, EXCHANGE_COLUMNS),
    // /api/bindings has no pagination.
    bindings: () => list<ManagementBinding>(`/api/bindings${scope}`, BINDING_COLUMNS),
    async statisticsDisabled() {
      const answer = (await get('/api/overview?columns=disable_stats')) as { disable_stats?: unknown } | undefined;
      return answer?.disable_stats === true;
    },
  };
}
