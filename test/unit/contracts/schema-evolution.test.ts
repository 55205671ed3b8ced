import { verifyProvider } from '../../../contracts/provider/verify-provider';
import type { InteractionResult, VerificationReport } from '../../../contracts/types';
import { orderServiceProvider } from '../../../examples/contracts/order-service-provider';
import type { OrderServiceOptions, OrderService } from '../../../examples/order-service/order-service';
import { changedEmailCommand, changedEmailOptions, changedOrderService, linesOf, payloadOf } from './fixtures/producer-change';
import { writeReferencePacts } from './reference-pacts';

// The rule set of contracts/SCHEMA-EVOLUTION.md, each rule checked against the reference consumers' pacts.

let pacts: string;
beforeAll(async () => {
  pacts = await writeReferencePacts();
});

const verifyWith = (createService: (o: OrderServiceOptions) => OrderService) => verifyProvider(orderServiceProvider({ createService }), { pacts: [pacts], broker: false });

function failure(report: VerificationReport, consumer: string): InteractionResult {
  const result = report.interactions.find((i) => i.consumer === consumer);
  if (!result) throw new Error(`no result for ${consumer}`);
  return result;
}

test('rule 1: adding optional fields (top level, payload, array items) passes every consumer contract', async () => {
  const report = await verifyWith(
    changedOrderService((event) => {
      event['source'] = 'web-shop';
      payloadOf(event)['giftWrap'] = true;
      for (const line of linesOf(event)) line['discount'] = { percent: 10 };
    }),
  );
  expect(report.interactions.map((i) => [i.consumer, i.passed])).toEqual([
    ['inventory-service', true],
    ['notification-service', true],
  ]);
  expect(report.passed).toBe(true);
});

test('rule 2: removing fields no consumer uses (customerId, total, unitPrice) passes', async () => {
  const report = await verifyWith(
    changedOrderService((event) => {
      delete payloadOf(event)['customerId'];
      delete payloadOf(event)['total'];
      for (const line of linesOf(event)) delete line['unitPrice'];
    }),
  );
  expect(report.passed).toBe(true);
});

test('rule 3: removing a field a consumer uses fails, naming the consumer and the field', async () => {
  const kafka = await verifyWith(changedOrderService((event) => delete payloadOf(event)['orderId']));
  expect(kafka.passed).toBe(false);
  expect(failure(kafka, 'inventory-service').mismatches).toContainEqual(expect.objectContaining({ kind: 'body', where: '$.payload.orderId' }));
  expect(failure(kafka, 'notification-service').passed).toBe(true);

  const amqp = await verifyWith(changedEmailCommand((command) => delete payloadOf(command)['to']));
  expect(amqp.passed).toBe(false);
  expect(failure(amqp, 'notification-service').mismatches).toContainEqual(expect.objectContaining({ kind: 'body', where: '$.payload.to' }));
  expect(failure(amqp, 'inventory-service').passed).toBe(true);
});

test('rule 4: retyping a field a consumer uses fails, naming the consumer, the field and the types', async () => {
  const report = await verifyWith(changedOrderService((event) => (payloadOf(event)['orderId'] = 12345)));
  const inventory = failure(report, 'inventory-service');
  expect(inventory.passed).toBe(false);
  expect(inventory.mismatches).toContainEqual(expect.objectContaining({ where: '$.payload.orderId', message: expect.stringMatching(/12345 \(Integer\).*String/) }));
});

test('rule 5: values the contract pins (eventType, version) cannot change in place: a new version is a new interaction', async () => {
  const report = await verifyWith(changedOrderService((event) => (event['version'] = 2)));
  expect(failure(report, 'inventory-service').mismatches).toContainEqual(expect.objectContaining({ where: '$.version' }));
});

test('rule 5, transport: dropping a header a consumer routes on fails at that metadata key', async () => {
  const report = await verifyWith(changedEmailOptions(({ headers, ...rest }) => ({ ...rest, headers: { ...(headers as object), 'x-message-type': undefined } })));
  expect(failure(report, 'notification-service').mismatches).toContainEqual(expect.objectContaining({ kind: 'metadata', where: 'metadata "amqp_header_x-message-type"' }));
  expect(failure(report, 'inventory-service').passed).toBe(true);
});

test('rule 6: a renamed field is a removal for the consumers that use it', async () => {
  const report = await verifyWith(
    changedOrderService((event) => {
      for (const line of linesOf(event)) {
        line['qty'] = line['quantity'];
        delete line['quantity'];
      }
    }),
  );
  expect(failure(report, 'inventory-service').mismatches).toContainEqual(expect.objectContaining({ where: '$.payload.lines[0].quantity', message: 'missing: the consumer relies on this field' }));
});
