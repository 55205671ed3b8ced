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

beforeAll(async () => {
  const dir = await writeReferencePacts();
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
