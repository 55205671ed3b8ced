import { formatReport } from '../../../contracts/provider/format-report';
import { verifyProvider } from '../../../contracts/provider/verify-provider';
import { orderServiceProvider } from '../../../examples/contracts/order-service-provider';

// Runs after the unit project (npm test), so it verifies the pacts the consumer tests just wrote.
test('the order service honours every consumer pact in pacts/', async () => {
  const report = await verifyProvider(orderServiceProvider(), { broker: false });
  console.log(formatReport(report));
  expect(report.interactions.map((i) => [i.consumer, i.description, i.passed])).toEqual([
    ['inventory-service', 'an OrderPlaced event', true],
    ['notification-service', 'a SendEmail command for an order confirmation', true],
  ]);
  expect(report.passed).toBe(true);
});
