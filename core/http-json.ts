import { HttpRequestError } from './errors';

export interface HttpJsonRequest {
  readonly method?: string;
  /** Sent as JSON with `content-type: application/json`. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request, connect to end of body (default 10 s). */
  readonly timeoutMs?: number;
}

const BODY_EXCERPT = 300;

/**
 * The one HTTP client of eda-harness's own calls (management APIs, Toxiproxy, Prometheus, Jaeger):
 * Node's fetch with a timeout, JSON in and out. An empty body reads as `undefined`. Every failure is
 * an {@link HttpRequestError} naming the method and URL (credentials never appear: pass them as
 * headers, not in the URL): unreachable or timed out (retriable), or the status and the start of
 * the body for a non-2xx answer (retriable for 408, 429 and 5xx).
 */
export async function requestJson<T>(url: string, request: HttpJsonRequest = {}): Promise<T> {
  const text = await requestText(url, request);
  if (text.trim() === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new HttpRequestError(`${request.method ?? 'GET'} ${url} answered with a body that is not JSON: ${text.slice(0, BODY_EXCERPT)}`, { cause: err, body: text.slice(0, BODY_EXCERPT) });
  }
}

/** As {@link requestJson}, returning the body as text. */
export async function requestText(url: string, request: HttpJsonRequest = {}): Promise<string> {
  const method = request.method ?? 'GET';
  const timeoutMs = request.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { accept: 'application/json', ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers };
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method, headers, body: request.body === undefined ? null : JSON.stringify(request.body), signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const failure = err as { name?: unknown; message?: unknown; cause?: { message?: unknown } } | undefined;
    const timedOut = failure?.name === 'TimeoutError' || failure?.name === 'AbortError';
    const reason = typeof failure?.cause?.message === 'string' ? failure.cause.message : String(failure?.message ?? err);
    const why = timedOut ? `did not answer within ${timeoutMs} ms` : `is unreachable (${reason})`;
    // (fetch's errors come from Node's own realm, so they are read by shape, not instanceof; its
    // "fetch failed" keeps the real reason, ECONNREFUSED or ENOTFOUND, in `cause`.)
    throw new HttpRequestError(`${method} ${url} ${why}`, { cause: err, retriable: true });
  }
  if (!res.ok) {
    const excerpt = text.trim().slice(0, BODY_EXCERPT);
    throw new HttpRequestError(`${method} ${url} answered HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, {
      status: res.status,
      body: excerpt,
      retriable: res.status >= 500 || res.status === 408 || res.status === 429,
    });
  }
  return text;
}
