import { ToxiproxyClient } from '../../../environment/native/toxiproxy-client';
import { httpServes } from '../../../environment/native/native-node';
import { HttpRequestError, NotReadyError, ToxiproxyError } from '../../../core/errors';
import { waitFor } from '../../../core/wait-for';
import { closedPort, startHttpServer } from '../core/local-http';

/** The environment's HTTP calls on core's requestJson: typed errors with the HTTP error as cause. */
let server: Awaited<ReturnType<typeof startHttpServer>>;
let base: string;
let readyAfter = 0;

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    if (req.url === '/version') return void res.end('2.12.0\n');
    if (req.url === '/proxies' && req.method === 'POST') return void res.writeHead(409).end('proxy already exists');
    if (req.url === '/proxies/kafka-1/toxics') return void res.end(JSON.stringify([{ name: 'latency_downstream_1', type: 'latency', stream: 'downstream', attributes: {} }]));
    if (req.url === '/reset') return void res.writeHead(503).end('busy');
    if (req.url === '/-/ready') return void (--readyAfter > 0 ? res.writeHead(404).end('plugin loading') : res.end('ready'));
    res.writeHead(404).end();
  });
  base = server.base;
});
afterAll(() => server.close());

describe('ToxiproxyClient', () => {
  it('reads the version and JSON answers', async () => {
    const client = new ToxiproxyClient(base);
    await expect(client.version()).resolves.toBe('2.12.0');
    await expect(client.listToxics('kafka-1')).resolves.toEqual([expect.objectContaining({ name: 'latency_downstream_1' })]);
  });

  it('turns a refusal into a non-retriable ToxiproxyError naming the call, with the HttpRequestError as cause', async () => {
    const err = (await new ToxiproxyClient(base).createProxy('kafka-1', '127.0.0.1:1', '127.0.0.1:2').catch((e: unknown) => e)) as ToxiproxyError;
    expect(err).toBeInstanceOf(ToxiproxyError);
    expect(err.message).toMatch(/^Toxiproxy API POST \/proxies: .*HTTP 409: proxy already exists/);
    expect(err.retriable).toBe(false);
    expect(err.cause).toBeInstanceOf(HttpRequestError);
    expect((err.cause as HttpRequestError).status).toBe(409);
  });

  it('a 5xx or an unreachable API is a retriable ToxiproxyError', async () => {
    await expect(new ToxiproxyClient(base).reset()).rejects.toMatchObject({ code: 'TOXIPROXY_API', retriable: true });
    const port = await closedPort();
    const err = (await new ToxiproxyClient(`http://127.0.0.1:${port}`).version().catch((e: unknown) => e)) as ToxiproxyError;
    expect(err).toBeInstanceOf(ToxiproxyError);
    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/GET \/version: .*unreachable/);
  });
});

describe('httpServes (readiness probe)', () => {
  it('is true on 2xx; any other answer is a retriable NotReadyError, so waitFor keeps polling', async () => {
    readyAfter = 3;
    const err = (await httpServes(`${base}/-/ready`).catch((e: unknown) => e)) as NotReadyError;
    expect(err).toBeInstanceOf(NotReadyError);
    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/HTTP 404: plugin loading/);
    await expect(waitFor(() => httpServes(`${base}/-/ready`), { description: 'ready', intervalMs: 5, timeoutMs: 2000 })).resolves.toBe(true);
  });
});
