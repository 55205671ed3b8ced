import { verifyProvider } from '../../../contracts/provider/verify-provider';
import type { CapturedMessage, MessageProviderDefinition } from '../../../contracts/types';
import { ORDER_PLACED_DESCRIPTION } from '../../../examples/contracts/inventory-contract';
import { SEND_EMAIL_DESCRIPTION } from '../../../examples/contracts/notification-contract';
import { STATE_ORDER_WITH_TWO_LINES } from '../../../examples/contracts/order-service-contract';
import { orderServiceProvider } from '../../../examples/contracts/order-service-provider';
import { writeReferencePacts } from './reference-pacts';

// A message factory (or a state setup) that never settles fails its interaction within the
// deadline and says so, instead of costing Pact's 30 s request timeout and an HTTP error.

let pacts: string;
beforeAll(async () => {
  pacts = await writeReferencePacts();
});

const never = () => new Promise<CapturedMessage>(() => undefined);
const verify = (definition: MessageProviderDefinition) => verifyProvider(definition, { pacts: [pacts], broker: false, consumers: ['inventory-service'], factoryTimeoutMs: 300 });

test('a factory that never resolves fails its interaction quickly with "the factory did not resolve within N ms"', async () => {
  const real = orderServiceProvider();
  const started = Date.now();
  const report = await verifyProvider({ ...real, messages: { ...real.messages, [ORDER_PLACED_DESCRIPTION]: never } }, { pacts: [pacts], broker: false, factoryTimeoutMs: 300 });
  expect(Date.now() - started).toBeLessThan(10_000);
  const inventory = report.interactions.find((i) => i.description === ORDER_PLACED_DESCRIPTION);
  expect(inventory?.passed).toBe(false);
  expect(inventory?.mismatches).toEqual([{ kind: 'error', where: 'message factory', message: expect.stringContaining('the factory did not resolve within 300 ms') }]);
  // The other consumer's interaction is still verified.
  expect(report.interactions.find((i) => i.description === SEND_EMAIL_DESCRIPTION)?.passed).toBe(true);
});

test('a state setup that never resolves fails the interaction with the state and the deadline', async () => {
  const real = orderServiceProvider();
  const report = await verify({ ...real, states: { [STATE_ORDER_WITH_TWO_LINES]: () => new Promise(() => undefined) } });
  expect(report.interactions[0]?.mismatches).toEqual([{ kind: 'error', where: 'message factory', message: `provider state "${STATE_ORDER_WITH_TWO_LINES}" setup failed: it did not resolve within 300 ms` }]);
});

test('a factory that resolves with something that is not a captured message says what it got', async () => {
  const real = orderServiceProvider();
  const report = await verify({ ...real, messages: { [ORDER_PLACED_DESCRIPTION]: (() => undefined) as unknown as () => CapturedMessage } });
  expect(report.interactions[0]?.mismatches[0]?.message).toContain(`the factory for "${ORDER_PLACED_DESCRIPTION}" resolved with undefined, not a captured message`);
});
