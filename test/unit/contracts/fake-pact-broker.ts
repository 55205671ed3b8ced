import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePactBroker {
  readonly url: string;
  /** Every request: method, path, Authorization header and body. */
  readonly requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  /** Bodies POSTed to the verification-results links. */
  readonly results: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Just enough of the Pact Broker's HAL API for a provider verification: the index, the
 * pacts-for-verification resource (GET then POST with selectors), the pact documents, and the
 * links the verifier follows to publish results (provider, branch version, results). No real
 * broker runs here (it needs Ruby or Docker); the Rust verifier talks to this over real HTTP.
 */
export async function startFakePactBroker(pactFiles: readonly string[]): Promise<FakePactBroker> {
  const requests: FakePactBroker['requests'] = [];
  const results: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const send = (status: number, doc: unknown) => {
        res.writeHead(status, { 'content-type': 'application/hal+json' });
        res.end(JSON.stringify(doc));
      };
      if (path === '/') return send(200, { _links: { 'pb:provider-pacts-for-verification': { href: `${base}/pacts/provider/{provider}/for-verification`, templated: true } } });
      if (path.endsWith('/for-verification')) {
        if (req.method === 'GET') return send(200, { _links: { self: { href: `${base}${path}` } } });
        return send(200, {
          _embedded: { pacts: pactFiles.map((_, i) => ({ shortDescription: `pact ${i}`, verificationProperties: { pending: false, notices: [] }, _links: { self: { href: `${base}/pacts/${i}`, name: `pact ${i}` } } })) },
        });
      }
      const pact = /^\/pacts\/(\d+)$/.exec(path);
      if (pact) {
        const doc = JSON.parse(readFileSync(pactFiles[Number(pact[1])] ?? '', 'utf8')) as Record<string, unknown>;
        return send(200, { ...doc, _links: { 'pb:publish-verification-results': { href: `${base}/results/${pact[1]}` }, 'pb:provider': { href: `${base}/provider` } } });
      }
      if (path === '/provider') {
        return send(200, { _links: { self: { href: `${base}/provider` }, 'pb:branch-version': { href: `${base}/branches/{branch}/versions/{version}`, templated: true } } });
      }
      if (path.startsWith('/results/')) results.push(JSON.parse(body) as Record<string, unknown>);
      return send(req.method === 'GET' ? 404 : 201, { _links: { self: { href: `${base}${path}` } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    results,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
