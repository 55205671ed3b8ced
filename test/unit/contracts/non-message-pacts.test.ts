import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyProvider } from '../../../contracts/provider/verify-provider';
import { ORDER_PLACED_DESCRIPTION } from '../../../examples/contracts/inventory-contract';
import { orderServiceProvider } from '../../../examples/contracts/order-service-provider';
import { writeReferencePacts } from './reference-pacts';

// A provider's pacts folder may hold its HTTP consumers' pacts next to the message ones, and a
// pact may be of a specification nobody knows: neither may crash the run (Pact's proxy used to
// forward HTTP interactions to 127.0.0.1:80 and die of an uncaught ECONNREFUSED after a minute).

let reference: string;
beforeAll(async () => {
  reference = await writeReferencePacts();
});

const INVENTORY = 'inventory-service-order-service.json';
const NOTIFICATION = 'notification-service-order-service.json';
const HTTP_INTERACTION = { description: 'a request for an order', request: { method: 'GET', path: '/orders/1' }, response: { status: 200, body: { id: '1' } } };

function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'eda-mixed-pacts-'));
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === 'string') copyFileSync(join(reference, content), join(dir, name));
    else writeFileSync(join(dir, name), JSON.stringify(content));
  }
  return dir;
}

const v2HttpPact = (version = '2.0.0') => ({ consumer: { name: 'web-shop' }, provider: { name: 'order-service' }, interactions: [HTTP_INTERACTION], metadata: { pactSpecification: { version } } });
const referencePact = (name: string) => JSON.parse(readFileSync(join(reference, name), 'utf8')) as { interactions: unknown[]; metadata: { pactSpecification: { version: string } } };
const verify = (dir: string) => verifyProvider(orderServiceProvider(), { pacts: [dir], broker: false });

test('a V2 HTTP pact next to message pacts is skipped with a note; the message pacts before and after it are verified', async () => {
  const started = Date.now();
  const report = await verify(folder({ 'a-inventory.json': INVENTORY, 'b-web-shop.json': v2HttpPact(), 'c-notification.json': NOTIFICATION }));
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(report.interactions.map((i) => [i.consumer, i.passed])).toEqual([
    ['inventory-service', true],
    ['notification-service', true],
  ]);
  expect(report.skipped).toEqual([{ consumer: 'web-shop', description: 'a request for an order', type: 'Synchronous/HTTP', reason: expect.stringContaining('an HTTP interaction') }]);
  expect(report.passed).toBe(true);
  expect(report.sources).toHaveLength(3);
});

test('a V4 pact mixing messages with HTTP and synchronous-message interactions: the message is verified, the others skipped', async () => {
  const mixed = referencePact(INVENTORY);
  mixed.interactions.push({ type: 'Synchronous/HTTP', key: 'h1', ...HTTP_INTERACTION }, { type: 'Synchronous/Messages', key: 's1', description: 'a stock query', request: { contents: { content: 'x' } }, response: [] });
  const report = await verify(folder({ 'inventory.json': mixed }));
  expect(report.interactions).toEqual([expect.objectContaining({ description: ORDER_PLACED_DESCRIPTION, passed: true })]);
  expect(report.skipped.map((s) => [s.description, s.type])).toEqual([
    ['a request for an order', 'Synchronous/HTTP'],
    ['a stock query', 'Synchronous/Messages'],
  ]);
});

test('pacts with nothing but HTTP interactions: nothing could be verified (an error, not a passed or failed report)', async () => {
  await expect(verify(folder({ 'web-shop.json': v2HttpPact() }))).rejects.toThrow('nothing could be verified for provider "order-service": its pacts hold no message interaction, only 1 skipped one(s)');
});

test('a pact of an unknown or missing specification version is an error before any pact is verified', async () => {
  const factory = jest.fn(() => new Promise<never>(() => undefined));
  const provider = { ...orderServiceProvider(), messages: { [ORDER_PLACED_DESCRIPTION]: factory } };
  const unknown = { ...referencePact(NOTIFICATION), metadata: { pactSpecification: { version: '5.0.0' } } };
  const dir = folder({ 'a-inventory.json': INVENTORY, 'b-notification.json': unknown });
  await expect(verifyProvider(provider, { pacts: [dir], broker: false })).rejects.toThrow(`${join(dir, 'b-notification.json')}: pact specification version "5.0.0" is not supported`);
  expect(factory).not.toHaveBeenCalled();
  const missing = { ...referencePact(NOTIFICATION), metadata: {} };
  await expect(verify(folder({ 'n.json': missing }))).rejects.toThrow('does not say which pact specification it follows (metadata.pactSpecification.version)');
  await expect(verify(folder({ 'n.json': v2HttpPact('banana') }))).rejects.toThrow('pact specification version "banana" is not supported');
});

test('a pact URL is fetched and filtered like a file; an unreachable one is an error naming it', async () => {
  const body = readFileSync(join(reference, INVENTORY), 'utf8');
  const server = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pacts/latest`;
  try {
    const report = await verifyProvider(orderServiceProvider(), { pacts: [url], broker: false });
    expect(report.sources).toEqual([url]);
    expect(report.interactions).toEqual([expect.objectContaining({ consumer: 'inventory-service', passed: true })]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await expect(verifyProvider(orderServiceProvider(), { pacts: [url], broker: false })).rejects.toThrow(`cannot fetch the pact ${url}`);
});

test('no pacts for the provider or consumer: the error says which pacts are there', async () => {
  const dir = folder({ 'a-inventory.json': INVENTORY });
  await expect(verifyProvider(orderServiceProvider(), { pacts: [dir], broker: false, consumers: ['billing'] })).rejects.toThrow(
    expect.objectContaining({ message: `no pacts for provider "order-service" from consumer "billing" in ${dir}`, hint: 'the pacts there are: inventory-service -> order-service' }),
  );
});
