import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReferencePacts } from './reference-pacts';
import { runMain } from '../../support/run-main';

let pacts: string;

beforeAll(async () => {
  pacts = await writeReferencePacts();
});

/** Runs the CLI in-process and returns its exit code and what it printed. */
const cli = (...argv: string[]) => runMain(argv);

const fixture = (name: string) => join(__dirname, 'fixtures', `${name}.ts`);

test('verify: the real order service passes both consumers\u2019 pacts and exits 0', async () => {
  const { code, out } = await cli('contracts', 'verify', '--pacts', pacts, '--no-broker');
  expect(out).toContain('PASS  "an OrderPlaced event" (given a customer places an order with two lines)');
  expect(out).toContain('PASS  "a SendEmail command for an order confirmation"');
  expect(out).toContain('2 interaction(s): 2 passed, 0 failed. Contract verified.');
  expect(code).toBe(0);
});

test('verify: a producer that drops a required field exits 1, naming the consumer, interaction and field', async () => {
  const { code, out } = await cli('contracts', 'verify', '--pacts', pacts, '--no-broker', '--provider-module', fixture('drops-required-field'));
  expect(code).toBe(1);
  expect(out).toContain('FAIL  "an OrderPlaced event"');
  expect(out).toContain('inventory-service: "an OrderPlaced event": $.payload.lines[0].quantity: missing: the consumer relies on this field');
  // The other consumer does not use that field: its contract still holds.
  expect(out).toContain('PASS  "a SendEmail command for an order confirmation"');
});

test('verify: a producer that renames the topic exits 1, naming the interaction and the metadata key', async () => {
  const { code, out } = await cli('contracts', 'verify', '--pacts', pacts, '--no-broker', '--provider-module', fixture('renames-topic'));
  expect(code).toBe(1);
  expect(out).toMatch(/inventory-service: "an OrderPlaced event": metadata "kafka_topic": .*orders\.placed.*orders\.created/);
});

test('verify: a producer that changes a field\u2019s type exits 1, naming the field and the type', async () => {
  const { code, out } = await cli('contracts', 'verify', '--pacts', pacts, '--no-broker', '--provider-module', fixture('changes-field-type'));
  expect(code).toBe(1);
  expect(out).toContain(`inventory-service: "an OrderPlaced event": $.payload.lines[0].quantity: Expected '1' (String) to be an integer`);
});

test('verify: nothing to verify (no pacts, or a provider name the module does not define) exits 2', async () => {
  const missing = await cli('contracts', 'verify', '--pacts', join(pacts, 'nope'), '--no-broker');
  expect(missing.code).toBe(2);
  expect(missing.err).toContain('no pact file or directory');
  const wrong = await cli('contracts', 'verify', '--pacts', pacts, '--no-broker', '--provider', 'billing-service');
  expect(wrong.code).toBe(2);
  expect(wrong.err).toContain('does not match the provider module');
});

test('list: shows each pact with its interactions and transport', async () => {
  const { code, out } = await cli('contracts', 'list', '--pacts', pacts);
  expect(code).toBe(0);
  expect(out).toContain('inventory-service -> order-service  (pact 4.0, 1 interaction(s))');
  expect(out).toContain('- "an OrderPlaced event"  [kafka orders.placed (keyed)]  given a customer places an order with two lines');
  expect(out).toContain('- "a SendEmail command for an order confirmation"  [amqp notifications / email.send]');
});

test('verify --report-json: HTTP interactions next to the message pacts are skipped, listed in the summary and the JSON report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eda-cli-mixed-'));
  for (const f of ['inventory-service-order-service.json', 'notification-service-order-service.json']) copyFileSync(join(pacts, f), join(dir, f));
  const web = { consumer: { name: 'web-shop' }, provider: { name: 'order-service' }, interactions: [{ description: 'a request for an order', request: { method: 'GET', path: '/orders/1' }, response: { status: 200 } }], metadata: { pactSpecification: { version: '3.0.0' } } };
  writeFileSync(join(dir, 'web-shop-order-service.json'), JSON.stringify(web));
  const reportFile = join(dir, 'out', 'report.json');
  const { code, out } = await cli('contracts', 'verify', '--pacts', dir, '--no-broker', '--report-json', reportFile);
  expect(out).toContain('SKIP  "a request for an order": not verified, an HTTP interaction');
  expect(out).toContain('2 interaction(s): 2 passed, 0 failed. 1 skipped (not message interactions). Contract verified.');
  expect(code).toBe(0);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { passed: boolean; skipped: unknown[] };
  expect(report.passed).toBe(true);
  expect(report.skipped).toEqual([expect.objectContaining({ consumer: 'web-shop', type: 'Synchronous/HTTP' })]);
  const list = await cli('contracts', 'list', '--pacts', dir, '--consumer', 'web-shop');
  expect(list.out).toContain('- "a request for an order"  [http GET /orders/1]');
});
