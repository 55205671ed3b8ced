import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { errorMessage, HttpRequestError } from '@eda-harness/core';

/**
 * GET over https trusting the CA(s) of a PEM file, with the errors of core's requestText (fetch
 * takes no CA option). The file is read at each request, so a renewed CA is picked up without a
 * restart; a file that cannot be read is a non-retriable error naming it.
 */
export async function requestTextWithCa(
  url: string,
  options: { readonly caFile: string; readonly headers?: Readonly<Record<string, string>>; readonly timeoutMs?: number },
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let ca: Buffer;
  try {
    ca = await readFile(options.caFile);
  } catch (err) {
    throw new HttpRequestError(`GET ${url}: cannot read the CA file ${options.caFile}: ${errorMessage(err)}`, { cause: err, retriable: false });
  }
  return new Promise<string>((resolve, reject) => {
    const req = request(url, { method: 'GET', ca, headers: { ...options.headers }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(unreachable(url, err, timeoutMs)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(text);
        const excerpt = text.trim().slice(0, 300);
        reject(
          new HttpRequestError(`GET ${url} answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`, {
            status,
            body: excerpt,
            retriable: status >= 500 || status === 408 || status === 429,
          }),
        );
      });
    });
    req.on('error', (err) => reject(unreachable(url, err, timeoutMs)));
    req.end();
  });
}

function unreachable(url: string, err: Error, timeoutMs: number): HttpRequestError {
  const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
  // A certificate the CA does not vouch for is not going to fix itself: not retriable.
  const certificate = /certificate|self[- ]signed|CERT_|SSL/i.test(`${(err as { code?: string }).code ?? ''} ${err.message}`);
  const why = timedOut ? `did not answer within ${timeoutMs} ms` : `is unreachable (${err.message})`;
  return new HttpRequestError(`GET ${url} ${why}`, { cause: err, retriable: !certificate });
}
