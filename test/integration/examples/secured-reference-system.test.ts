import { kafkaClientSecurity, securedListenerSettings } from '../../../core/index';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { startReferenceSystem } from '../../../examples/reference-system';
import type { ReferenceSystem } from '../../../examples/reference-system';
import { startTraffic } from '../../../examples/traffic';
import { uniqueName } from '../../support/names';
import { until } from '../../support/until';

/**
 * The reference system (what `eda-harness start --kafka-security sasl_ssl` runs) against a secured
 * Kafka: every Kafka client of it (the topic's creation, the order service's producer, the
 * inventory consumer group) reaches the SASL_SSL listener with the options core's
 * kafkaClientSecurity builds from getKafkaSecurity(), and orders flow end to end.
 */

let env: StartedEnvironment;
let system: ReferenceSystem | undefined;

beforeAll(async () => {
  env = await new Environment().withKafka({ security: 'sasl_ssl' }).withRabbitMq().withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  await system?.stop();
  await env?.stop();
});

test('orders placed over SCRAM-SHA-512/TLS are reserved once each by the inventory consumer group', async () => {
  const security = env.getKafkaSecurity();
  system = await startReferenceSystem({
    kafkaBrokers: security.brokers,
    kafkaSecurity: kafkaClientSecurity(securedListenerSettings(security)),
    amqpUrl: env.getAmqpUrl(),
    prefix: uniqueName('secured-ref'),
  });
  const stats = await startTraffic(system, { ordersPerSecond: 20, maxOrders: 10 }).done;
  expect(stats.errors).toBe(0);
  const inventory = system.inventory.store;
  await until('10 reservations', () => inventory.reservations().length === 10, { timeoutMs: 60_000 });
  expect(inventory.rejected).toBe(0);
}, 180_000);

test('the same system given the secured listener without its security options cannot start (the options are what makes it connect)', async () => {
  const security = env.getKafkaSecurity();
  const start = startReferenceSystem({ kafkaBrokers: security.brokers, amqpUrl: env.getAmqpUrl(), prefix: uniqueName('plain-to-secured') });
  await expect(start).rejects.toThrow();
}, 120_000);
