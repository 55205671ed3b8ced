import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequestError } from '../../../core/errors';
import { createManagementClient } from '../../../exporter/rabbitmq/management';

/** The management client against a stand-in HTTP server on a free local port (no RabbitMQ). */

let server: Server;
let port: number;
const seen: { url: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (req.headers.authorization !== `Basic ${Buffer.from('monitor:s3cret').toString('base64')}`) return void res.writeHead(401).end('{"error":"not_authorised"}');
    if (req.url === '/api/queues/%2F') return void res.end(JSON.stringify([{ name: 'q', vhost: '/', messages_ready: 2 }]));
    if (req.url === '/api/bindings') return void res.end(JSON.stringify({ not: 'a list' }));
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
    expect(seen.at(-1)?.url).toBe('/api/queues/%2F');
  });

  it('credentials given apart win over the URL', async () => {
    const client = createManagementClient({ url: `http://guest:guest@127.0.0.1:${port}`, user: 'monitor', password: 's3cret', vhost: '/' });
    await expect(client.queues()).resolves.toHaveLength(1);
  });

  it('a 401 is a non-retriable HttpRequestError naming the management API, with a hint about the credentials', async () => {
    const err = await failure(createManagementClient({ url: `http://127.0.0.1:${port}` }).queues());
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err).toMatchObject({ status: 401, retriable: false, code: 'HTTP_REQUEST' });
    expect(err.message).toBe(`RabbitMQ management API: GET http://127.0.0.1:${port}/api/queues answered HTTP 401: {"error":"not_authorised"}`);
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
    expect(err.message).toMatch(new RegExp(`^RabbitMQ management API: GET http://127.0.0.1:${closedPort}/api/queues is unreachable`));
  });
});
