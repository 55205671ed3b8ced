import { HttpRequestError } from '../../../core/errors';
import { requestJson } from '../../../core/http-json';
import { closedPort, startHttpServer } from './local-http';

let server: Awaited<ReturnType<typeof startHttpServer>>;
let base: string;
const seen: { method: string; url: string; body: string; type: string | undefined }[] = [];

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', body: req.body, type: req.headers['content-type'] });
    if (req.url === '/json') return void res.end(JSON.stringify({ ok: true }));
    if (req.url === '/empty') return void res.end();
    if (req.url === '/teapot') return void res.writeHead(418).end('short and stout');
    if (req.url === '/down') return void res.writeHead(503).end();
    if (req.url === '/html') return void res.end('<html>');
    if (req.url === '/slow') return; // never answers
    res.writeHead(404).end();
  });
  base = server.base;
});
afterAll(() => server.close());

describe('requestJson', () => {
  it('parses a JSON answer, reads an empty body as undefined and sends a body as JSON', async () => {
    await expect(requestJson(`${base}/json`)).resolves.toEqual({ ok: true });
    await expect(requestJson(`${base}/empty`, { method: 'POST', body: { a: 1 } })).resolves.toBeUndefined();
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/empty', body: '{"a":1}', type: 'application/json' });
  });

  it('a 4xx is a non-retriable HttpRequestError with the status and the body', async () => {
    const err = (await requestJson(`${base}/teapot`).catch((e: unknown) => e)) as HttpRequestError;
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err).toMatchObject({ status: 418, body: 'short and stout', retriable: false, code: 'HTTP_REQUEST' });
    expect(err.message).toBe(`GET ${base}/teapot answered HTTP 418: short and stout`);
  });

  it('a 5xx is retriable', async () => {
    await expect(requestJson(`${base}/down`)).rejects.toMatchObject({ status: 503, retriable: true });
  });

  it('a body that is not JSON says so', async () => {
    await expect(requestJson(`${base}/html`)).rejects.toThrow(`GET ${base}/html answered with a body that is not JSON: <html>`);
  });

  it('a server that never answers times out as a retriable error naming the limit', async () => {
    const err = (await requestJson(`${base}/slow`, { timeoutMs: 100 }).catch((e: unknown) => e)) as HttpRequestError;
    expect(err.message).toBe(`GET ${base}/slow did not answer within 100 ms`);
    expect(err.retriable).toBe(true);
  });

  it('a closed port is unreachable, with the reason', async () => {
    const port = await closedPort();
    await expect(requestJson(`http://127.0.0.1:${port}/x`)).rejects.toThrow(/is unreachable \(.*ECONNREFUSED/);
  });
});
