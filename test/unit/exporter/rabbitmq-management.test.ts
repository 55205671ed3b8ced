import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, HttpRequestError } from '../../../core/errors';
import { certificateFailure, createManagementClient, QUEUE_COLUMNS, untrustedCertificate } from '../../../exporter/rabbitmq/management';

/** The management client against a stand-in HTTP server on a free local port (no RabbitMQ). */

let server: Server;
let port: number;
const seen: { url: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== `Basic ${Buffer.from('monitor:s3cret').toString('base64')}`) return void res.writeHead(401).end('{"error":"not_authorised"}');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/queues/%2F') return void res.end(JSON.stringify([{ name: 'q', vhost: '/', messages_ready: 2 }]));
    if (url.pathname === '/api/bindings') return void res.end(JSON.stringify({ not: 'a list' }));
    if (url.pathname === '/api/queues/big') {
      // 7 queues served as RabbitMQ pages them.
      const page = Number(url.searchParams.get('page'));
      const size = Number(url.searchParams.get('page_size'));
      const all = Array.from({ length: 7 }, (_, i) => ({ name: `q${i}`, vhost: 'big' }));
      return void res.end(JSON.stringify({ items: all.slice((page - 1) * size, page * size), page, page_size: size, page_count: Math.ceil(all.length / size), total_count: all.length }));
    }
    if (url.pathname === '/api/exchanges/empty') return void res.end(JSON.stringify({ items: [], page: 1, page_count: 0, total_count: 0 }));
    if (url.pathname === '/api/overview') return void res.end(JSON.stringify({ disable_stats: url.searchParams.get('columns') === 'disable_stats' }));
    if (url.pathname === '/api/queues/slow') return; // never answers
    res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const failure = (p: Promise<unknown>): Promise<HttpRequestError> => p.then(() => Promise.reject(new Error('expected a failure')), (e: unknown) => e as HttpRequestError);

describe('RabbitMQ management client', () => {
  it('sends the credentials of the URL as basic auth (never in the URL) and scopes to the vhost', async () => {
    const client = createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}/`, vhost: '/' });
    await expect(client.queues()).resolves.toEqual([{ name: 'q', vhost: '/', messages_ready: 2 }]);
    expect(seen.at(-1)?.url).toMatch(/^\/api\/queues\/%2F\?/);
  });

  it('credentials given apart win over the URL', async () => {
    const client = createManagementClient({ url: `http://guest:guest@127.0.0.1:${port}`, user: 'monitor', password: 's3cret', vhost: '/' });
    await expect(client.queues()).resolves.toHaveLength(1);
  });

  it('a 401 is a non-retriable HttpRequestError naming the management API, with a hint about the credentials', async () => {
    const err = await failure(createManagementClient({ url: `http://127.0.0.1:${port}` }).queues());
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err).toMatchObject({ status: 401, retriable: false, code: 'HTTP_REQUEST' });
    expect(err.message).toBe(`RabbitMQ management API: GET http://127.0.0.1:${port}/api/queues?page=1&page_size=500 answered HTTP 401: {"error":"not_authorised"}`);
    expect(err.hint).toMatch(/management user and password/);
    expect(err.message).not.toContain('guest');
  });

  it('a 5xx is retriable and has no credentials hint', async () => {
    const err = await failure(createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}`, vhost: 'other' }).queues());
    expect(err).toMatchObject({ status: 503, retriable: true, hint: undefined });
  });

  it('an answer that is not a list is an error, not an empty page', async () => {
    const err = await failure(createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}` }).bindings());
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err.message).toMatch(/not a list/);
  });

  it('an unreachable API is a retriable HttpRequestError', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await failure(createManagementClient({ url: `http://127.0.0.1:${closedPort}` }).queues());
    expect(err).toMatchObject({ retriable: true, status: undefined });
    expect(err.message).toMatch(new RegExp(`^RabbitMQ management API: GET http://127.0.0.1:${closedPort}/api/queues\\?page=1&page_size=500 is unreachable`));
  });

  it('asks only for the columns the exporter reads, and names them in no error', async () => {
    await createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}`, vhost: '/' }).queues();
    const asked = new URL(seen.at(-1)!.url, 'http://x').searchParams.get('columns')!.split(',');
    expect(asked).toEqual([...QUEUE_COLUMNS]);
    expect(asked).not.toContain('backing_queue_status');
    const err = await failure(createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}` }).bindings());
    expect(err.message).not.toContain('columns');
  });

  it('reads every page of a paginated answer, in pages of the configured size', async () => {
    const before = seen.length;
    const queues = await createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}`, vhost: 'big', pageSize: 3 }).queues();
    expect(queues.map((q) => q.name)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6']);
    const pages = seen.slice(before).map((s) => new URL(s.url, 'http://x').searchParams);
    // Pages after the first are asked for together: any order.
    expect(pages.map((p) => [p.get('page'), p.get('page_size')]).sort()).toEqual([
      ['1', '3'],
      ['2', '3'],
      ['3', '3'],
    ]);
  });

  it('an empty paginated list (page_count 0) is one request and no items', async () => {
    const before = seen.length;
    await expect(createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}`, vhost: 'empty' }).exchanges()).resolves.toEqual([]);
    expect(seen.length - before).toBe(1);
  });

  it('page size is capped at 500, the most RabbitMQ serves', async () => {
    await createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}`, vhost: 'big', pageSize: 10_000 }).queues();
    expect(new URL(seen.at(-1)!.url, 'http://x').searchParams.get('page_size')).toBe('500');
  });

  it('tells whether the server keeps statistics', async () => {
    await expect(createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}` }).statisticsDisabled()).resolves.toBe(true);
  });

  it('a request slower than the configured timeout fails as retriable, naming the timeout', async () => {
    const err = await failure(createManagementClient({ url: `http://monitor:s3cret@127.0.0.1:${port}`, vhost: 'slow', timeoutMs: 200 }).queues());
    expect(err).toMatchObject({ retriable: true });
    expect(err.message).toMatch(/did not answer within 200 ms/);
  });
});

describe('RabbitMQ management client over HTTPS', () => {
  let dir: string;
  let https: ReturnType<typeof createHttpsServer>;
  let httpsPort: number;

  beforeAll(async () => {
    // A private CA and a server certificate for 127.0.0.1 signed by it (openssl, as operators make them).
    dir = mkdtempSync(join(tmpdir(), 'eda-mgmt-tls-'));
    const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
    https = createHttpsServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== `Basic ${Buffer.from('monitor:s3cret').toString('base64')}`) return void res.writeHead(401).end('{"error":"not_authorised"}');
      res.end(JSON.stringify({ items: [{ name: 'tls-q', vhost: '/' }], page: 1, page_count: 1 }));
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    httpsPort = (https.address() as AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    https.closeAllConnections();
    await new Promise((r) => https.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the configured CA file', async () => {
    const client = createManagementClient({ url: `https://monitor:s3cret@127.0.0.1:${httpsPort}`, caFile: join(dir, 'ca.pem') });
    await expect(client.queues()).resolves.toEqual([{ name: 'tls-q', vhost: '/' }]);
  });

  it('without the CA the certificate is refused, not retried forever', async () => {
    const err = await failure(createManagementClient({ url: `https://monitor:s3cret@127.0.0.1:${httpsPort}`, caFile: join(dir, 'server.pem') }).queues());
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err).toMatchObject({ retriable: false });
    expect(err.message).toMatch(/certificate/i);
  });

  it('no CA file at all: one line naming the URL and the CA setting, not retriable', async () => {
    const err = await failure(createManagementClient({ url: `https://monitor:s3cret@127.0.0.1:${httpsPort}` }).queues());
    expect(err).toMatchObject({ retriable: false });
    // The reason is OpenSSL's (this stand-in sends no chain: UNABLE_TO_VERIFY_LEAF_SIGNATURE; RabbitMQ sends one: SELF_SIGNED_CERT_IN_CHAIN).
    expect(err.message).toMatch(
      new RegExp(
        `^RabbitMQ management API https://127\\.0\\.0\\.1:${httpsPort}: its TLS certificate is not signed by a CA this machine trusts \\(.+, [A-Z_]+\\); ` +
          'set the CA that signed it as rabbitmq\\.managementCaFile \\(--rabbitmq-management-ca-file, RABBITMQ_MANAGEMENT_CA_FILE\\)$',
      ),
    );
    expect(err.message).not.toContain('s3cret');
  });

  it('a CA file that did not sign the certificate is named, with the setting', async () => {
    const wrong = join(dir, 'server.pem');
    const err = await failure(createManagementClient({ url: `https://127.0.0.1:${httpsPort}`, caFile: wrong }).queues());
    expect(err.message).toMatch(new RegExp(`^RabbitMQ management API https://127\\.0\\.0\\.1:${httpsPort}: its TLS certificate is not signed by the CA in ${wrong.replace(/[.\\/]/g, '\\$&')} \\(.*\\), given as rabbitmq\\.managementCaFile`));
    expect(err.hint).toMatch(/management\.ssl\.cacertfile/);
  });

  it('keeps the management API errors (401 with the credentials hint) over HTTPS', async () => {
    const err = await failure(createManagementClient({ url: `https://127.0.0.1:${httpsPort}`, caFile: join(dir, 'ca.pem') }).queues());
    expect(err).toMatchObject({ status: 401, retriable: false });
    expect(err.hint).toMatch(/management user and password/);
  });

  it('an unreadable CA file is named in the error', async () => {
    const err = await failure(createManagementClient({ url: `https://127.0.0.1:${httpsPort}`, caFile: join(dir, 'missing.pem') }).queues());
    expect(err.message).toContain('missing.pem');
  });

  it('a CA file with an http URL is a configuration error', () => {
    expect(() => createManagementClient({ url: 'http://127.0.0.1:15672', caFile: '/etc/ca.pem' })).toThrow(ConfigError);
  });
});

describe('certificate failures', () => {
  it('are found anywhere in the cause chain, by their TLS code', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(certificateFailure(new Error('fetch failed', { cause: new TypeError('x', { cause: tls }) }))).toEqual({ code: 'SELF_SIGNED_CERT_IN_CHAIN', reason: 'self-signed certificate in certificate chain' });
    expect(certificateFailure(Object.assign(new Error('expired'), { code: 'CERT_HAS_EXPIRED' }))).toMatchObject({ code: 'CERT_HAS_EXPIRED' });
    expect(certificateFailure(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(certificateFailure('text')).toBeUndefined();
  });

  it('a certificate for another host name is told apart from an untrusted CA', () => {
    const err = untrustedCertificate('https://rabbit:15671', { code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: "Hostname/IP does not match certificate's altnames" }, '/etc/ca.pem');
    expect(err.message).toBe("RabbitMQ management API https://rabbit:15671: its TLS certificate is not for this host name (Hostname/IP does not match certificate's altnames, ERR_TLS_CERT_ALTNAME_INVALID)");
    expect(err.hint).toMatch(/host name the certificate names/);
    expect(err.retriable).toBe(false);
  });
});
