import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyProvider } from '../../../contracts/provider/verify-provider';
import { orderServiceProvider } from '../../../examples/contracts/order-service-provider';
import { referenceNames } from '../../../examples/reference-names';
import { startFakePactBroker } from './fake-pact-broker';
import type { FakePactBroker } from './fake-pact-broker';
import { writeReferencePacts } from './reference-pacts';

const BROKER_VARS = ['PACT_BROKER_BASE_URL', 'PACT_BROKER_TOKEN', 'PACT_CONSUMER_VERSION_SELECTORS', 'PACT_PUBLISH_VERIFICATION_RESULTS', 'PACT_PROVIDER_VERSION', 'PACT_PROVIDER_BRANCH'];
const saved = Object.fromEntries(BROKER_VARS.map((v) => [v, process.env[v]]));
let broker: FakePactBroker;
let dir: string;

beforeAll(async () => {
  dir = await writeReferencePacts();
  broker = await startFakePactBroker([join(dir, 'inventory-service-order-service.json'), join(dir, 'notification-service-order-service.json')]);
});

afterEach(() => {
  for (const v of BROKER_VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

afterAll(async () => {
  await broker?.close();
});

function useBroker(): void {
  Object.assign(process.env, {
    PACT_BROKER_BASE_URL: broker.url,
    PACT_BROKER_TOKEN: 'ci-token',
    PACT_CONSUMER_VERSION_SELECTORS: '[{"mainBranch":true},{"deployedOrReleased":true}]',
    PACT_PUBLISH_VERIFICATION_RESULTS: 'true',
    PACT_PROVIDER_VERSION: 'c0ffee1',
    PACT_PROVIDER_BRANCH: 'main',
  });
}

test('with PACT_BROKER_* set, pacts come from the broker (token, selectors) and the result is published for the provider version', async () => {
  useBroker();
  // `pacts` points nowhere: the broker, not the file system, is the source.
  const report = await verifyProvider(orderServiceProvider(), { pacts: ['/nonexistent'] });
  expect(report.sources).toEqual([broker.url]);
  expect(report.interactions.map((i) => [i.consumer, i.description, i.passed])).toEqual([
    ['inventory-service', 'an OrderPlaced event', true],
    ['notification-service', 'a SendEmail command for an order confirmation', true],
  ]);
  expect(report.passed).toBe(true);
  expect(broker.requests.every((r) => r.authorization === 'Bearer ci-token')).toBe(true);
  const query = broker.requests.find((r) => r.method === 'POST' && r.path.endsWith('/for-verification'));
  expect(JSON.parse(query?.body ?? '{}')).toMatchObject({ consumerVersionSelectors: [{ mainBranch: true }, { deployedOrReleased: true }], providerVersionBranch: 'main' });
  expect(broker.requests.some((r) => r.method === 'PUT' && r.path === '/branches/main/versions/c0ffee1')).toBe(true);
  expect(broker.results).toEqual([expect.objectContaining({ providerApplicationVersion: 'c0ffee1', success: true }), expect.objectContaining({ providerApplicationVersion: 'c0ffee1', success: true })]);
});

test('a broken provider verified against the broker fails, names the consumer and field, and publishes the failure', async () => {
  useBroker();
  broker.results.length = 0;
  const report = await verifyProvider(orderServiceProvider({ names: referenceNames(undefined, { ordersTopic: 'orders.created' }) }));
  expect(report.passed).toBe(false);
  const inventory = report.interactions.find((i) => i.consumer === 'inventory-service');
  expect(inventory?.mismatches).toContainEqual(expect.objectContaining({ kind: 'metadata', where: 'metadata "kafka_topic"' }));
  expect(broker.results.map((r) => r['success']).sort()).toEqual([false, true]);
});

test('without PACT_BROKER_BASE_URL the broker is never contacted', async () => {
  const before = broker.requests.length;
  delete process.env['PACT_BROKER_BASE_URL'];
  await expect(verifyProvider(orderServiceProvider(), { pacts: ['/nonexistent'] })).rejects.toThrow('no pact file or directory');
  expect(broker.requests.length).toBe(before);
});

test('an unreachable Pact Broker is one clear error, before any verification', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  process.env['PACT_BROKER_BASE_URL'] = `http://127.0.0.1:${port}`;
  await expect(verifyProvider(orderServiceProvider())).rejects.toThrow(`cannot reach the Pact Broker at http://127.0.0.1:${port}/ (PACT_BROKER_BASE_URL): connect ECONNREFUSED`);
});

test('a Pact Broker that refuses the credentials says so, without printing them', async () => {
  const refusing = http.createServer((_req, res) => res.writeHead(401).end());
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  try {
    Object.assign(process.env, { PACT_BROKER_BASE_URL: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`, PACT_BROKER_TOKEN: 'secret-token' });
    const failure = verifyProvider(orderServiceProvider());
    await expect(failure).rejects.toThrow('refused the credentials (HTTP 401)');
    await expect(failure).rejects.not.toThrow('secret-token');
  } finally {
    await new Promise<void>((resolve) => refusing.close(() => resolve()));
  }
});

test('an HTTP consumer\u2019s pact from the broker is skipped with a note; the message pact is verified', async () => {
  const web = join(mkdtempSync(join(tmpdir(), 'eda-web-pact-')), 'web-shop-order-service.json');
  writeFileSync(
    web,
    JSON.stringify({
      consumer: { name: 'web-shop' },
      provider: { name: 'order-service' },
      interactions: [{ description: 'a request for an order', request: { method: 'GET', path: '/orders/1' }, response: { status: 200, body: { id: '1' } } }],
      metadata: { pactSpecification: { version: '2.0.0' } },
    }),
  );
  const mixed = await startFakePactBroker([join(dir, 'inventory-service-order-service.json'), web]);
  try {
    process.env['PACT_BROKER_BASE_URL'] = mixed.url;
    const started = Date.now();
    const report = await verifyProvider(orderServiceProvider());
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(report.interactions.map((i) => [i.consumer, i.description, i.passed])).toEqual([['inventory-service', 'an OrderPlaced event', true]]);
    expect(report.skipped).toEqual([expect.objectContaining({ consumer: 'web-shop', description: 'a request for an order', type: 'Synchronous/HTTP' })]);
    expect(report.passed).toBe(true);
  } finally {
    await mixed.close();
  }
});

test('broker: false verifies the local pacts only, even with PACT_BROKER_BASE_URL set (Pact would read it itself)', async () => {
  useBroker();
  const before = broker.requests.length;
  const report = await verifyProvider(orderServiceProvider(), { pacts: [dir], broker: false });
  expect(report.problems).toEqual([]);
  expect(report.interactions).toHaveLength(2);
  expect(report.passed).toBe(true);
  expect(broker.requests.length).toBe(before);
  expect(process.env['PACT_BROKER_BASE_URL']).toBe(broker.url);
});
