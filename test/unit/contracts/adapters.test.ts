import { ConfigError, UnsupportedError } from '../../../core/errors';
import { createCapturingChannel } from '../../../contracts/capturing-channel';
import { amqpMetadata } from '../../../contracts/consumer/amqp-metadata';
import { kafkaMetadata } from '../../../contracts/consumer/kafka-metadata';
import { toConsumeMessage } from '../../../contracts/consumer/to-consume-message';
import { toEachMessagePayload } from '../../../contracts/consumer/to-each-message-payload';
import { brokerOptionsFromEnv, DEFAULT_CONSUMER_VERSION_SELECTORS } from '../../../contracts/provider/broker-options';
import { createMessageCapture } from '../../../contracts/provider/message-capture';
import { toProviderMessage } from '../../../contracts/provider/to-provider-message';
import { orderPlacedExpectation } from '../../../examples/contracts/inventory-contract';
import { sendEmailExpectation } from '../../../examples/contracts/notification-contract';
import { createOrderService } from '../../../examples/order-service/order-service';
import { sampleOrder } from '../../../examples/sample-orders';

const order = sampleOrder(1, { orderId: 'order-1' });

async function placeCaptured() {
  const capture = createMessageCapture();
  await createOrderService({ producer: capture.producer, channel: capture.channel, ordersTopic: 'orders.placed', notificationsExchange: 'notifications', emailRoutingKey: 'email.send' }).placeOrder(order);
  capture.close();
  return capture;
}

test('provider side: the real producer code is captured with topic, key, headers and value, and the instrumentation\u2019s headers', async () => {
  const capture = await placeCaptured();
  const kafka = capture.kafka();
  expect(kafka).toMatchObject({ transport: 'kafka', topic: 'orders.placed', key: 'order-1' });
  expect(kafka.headers).toMatchObject({ 'event-type': 'OrderPlaced', 'content-type': 'application/json' });
  // Added by the eda-harness instrumentation wrapped around the capturing producer, as in production.
  expect(Number(kafka.headers['eda-produced-at'])).toBeGreaterThan(0);
  const amqp = capture.amqp();
  expect(amqp).toMatchObject({ transport: 'amqp', exchange: 'notifications', routingKey: 'email.send', properties: { contentType: 'application/json', persistent: true } });
  expect(capture.all()).toHaveLength(2);
});

test('provider side: a captured message becomes a Pact message with every metadata key the consumer side declares', async () => {
  const capture = await placeCaptured();
  const kafka = toProviderMessage(capture.kafka());
  expect(Object.keys(kafka.__pactMessageMetadata)).toEqual(expect.arrayContaining(Object.keys(kafkaMetadata(orderPlacedExpectation))));
  expect(kafka.message).toMatchObject({ eventType: 'OrderPlaced', payload: { orderId: 'order-1' } });
  const amqp = toProviderMessage(capture.amqp());
  expect(Object.keys(amqp.__pactMessageMetadata)).toEqual(expect.arrayContaining(Object.keys(amqpMetadata(sendEmailExpectation))));
  expect(amqp.__pactMessageMetadata).toMatchObject({ amqp_exchange: 'notifications', amqp_routing_key: 'email.send', 'amqp_header_x-message-type': 'SendEmail', contentType: 'application/json' });
});

test('consumer side: a Pact message becomes a kafkajs EachMessagePayload (Buffers, as kafkajs delivers) and an amqplib ConsumeMessage', () => {
  const kafka = toEachMessagePayload({ contents: { content: { a: 1 } }, metadata: { kafka_topic: 't', kafka_key: 'k', 'kafka_header_event-type': 'X' } }, { partition: 2, offset: '7' });
  expect(kafka).toMatchObject({ topic: 't', partition: 2, message: { key: Buffer.from('k'), value: Buffer.from('{"a":1}'), offset: '7', headers: { 'event-type': Buffer.from('X') } } });
  const amqp = toConsumeMessage({ contents: { content: { a: 1 } }, metadata: { amqp_exchange: 'ex', amqp_routing_key: 'rk', contentType: 'application/json', amqp_header_h: 'v' } });
  expect(amqp.fields).toMatchObject({ exchange: 'ex', routingKey: 'rk', redelivered: false });
  expect(amqp.properties).toMatchObject({ contentType: 'application/json', headers: { h: 'v' } });
  expect(amqp.content.toString()).toBe('{"a":1}');
  expect(() => toEachMessagePayload({ contents: { content: {} }, metadata: {} })).toThrow('kafka_topic');
  expect(() => toConsumeMessage({ contents: { content: {} }, metadata: { amqp_exchange: 'x' } })).toThrow('amqp_routing_key');
});

test('capturing channel: the first settlement of a delivery wins, as on a real channel', () => {
  const c = createCapturingChannel();
  const msg = toConsumeMessage({ contents: { content: {} }, metadata: { amqp_exchange: 'x', amqp_routing_key: 'y' } }, { deliveryTag: 9 });
  c.channel.reject(msg, false);
  c.channel.ack(msg);
  expect(c.settlementOf(9)).toEqual({ kind: 'reject', requeue: false });
});

test('the stand-ins refuse what needs a broker, naming the call: a producer transaction, the channel\u2019s connection', async () => {
  const { producer } = createMessageCapture({ instrument: false });
  await expect(producer.transaction()).rejects.toThrow(UnsupportedError);
  await expect(producer.transaction()).rejects.toThrow('producer.transaction() is not supported by the capturing producer');
  expect(() => createCapturingChannel().channel.connection).toThrow('channel.connection is not supported by the capturing channel');
});

test('broker settings come from the standard variables and are never required', () => {
  expect(brokerOptionsFromEnv({})).toBeUndefined();
  expect(brokerOptionsFromEnv({ PACT_BROKER_BASE_URL: 'https://broker.example', PACT_BROKER_TOKEN: 't' })).toEqual({
    url: 'https://broker.example',
    token: 't',
    consumerVersionSelectors: DEFAULT_CONSUMER_VERSION_SELECTORS,
    publishVerificationResult: false,
    enablePending: false,
  });
  expect(
    brokerOptionsFromEnv({
      PACT_BROKER_BASE_URL: 'https://broker.example',
      PACT_CONSUMER_VERSION_SELECTORS: '[{"branch":"main"}]',
      PACT_PUBLISH_VERIFICATION_RESULTS: 'true',
      PACT_PROVIDER_VERSION: 'abc123',
      PACT_PROVIDER_BRANCH: 'main',
    }),
  ).toMatchObject({ consumerVersionSelectors: [{ branch: 'main' }], publishVerificationResult: true, providerVersion: 'abc123', providerVersionBranch: 'main' });
  const url = 'https://broker.example';
  expect(() => brokerOptionsFromEnv({ PACT_BROKER_BASE_URL: url, PACT_CONSUMER_VERSION_SELECTORS: '{"no":1}' })).toThrow(ConfigError);
  expect(() => brokerOptionsFromEnv({ PACT_BROKER_BASE_URL: url, PACT_PUBLISH_VERIFICATION_RESULTS: 'true' })).toThrow('PACT_PROVIDER_VERSION');
});

test('broker variables are checked in their own names, not Pact\u2019s option names', () => {
  const url = 'https://broker.example';
  const bad = (env: NodeJS.ProcessEnv) => () => brokerOptionsFromEnv(env);
  expect(bad({ PACT_BROKER_BASE_URL: 'not a url' })).toThrow('PACT_BROKER_BASE_URL is not an http(s) URL: "not a url"');
  expect(bad({ PACT_BROKER_BASE_URL: 'ftp://broker.example' })).toThrow('PACT_BROKER_BASE_URL is not an http(s) URL');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_BROKER_TOKEN: 't', PACT_BROKER_USERNAME: 'u', PACT_BROKER_PASSWORD: 'p' })).toThrow('PACT_BROKER_TOKEN and PACT_BROKER_USERNAME / PACT_BROKER_PASSWORD are both set');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_BROKER_USERNAME: 'u' })).toThrow('PACT_BROKER_USERNAME is set without PACT_BROKER_PASSWORD');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_BROKER_PASSWORD: 'p' })).toThrow('PACT_BROKER_PASSWORD is set without PACT_BROKER_USERNAME');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_ENABLE_PENDING: 'yes' })).toThrow('PACT_ENABLE_PENDING must be true or false, not "yes"');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_PUBLISH_VERIFICATION_RESULTS: '1' })).toThrow('PACT_PUBLISH_VERIFICATION_RESULTS must be true or false');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_INCLUDE_WIP_PACTS_SINCE: 'last week' })).toThrow('PACT_INCLUDE_WIP_PACTS_SINCE is not a date');
  expect(bad({ PACT_BROKER_BASE_URL: url, PACT_CONSUMER_VERSION_SELECTORS: '[]' })).toThrow('an empty list selects no pacts');
  expect(brokerOptionsFromEnv({ PACT_BROKER_BASE_URL: url, PACT_ENABLE_PENDING: 'TRUE', PACT_INCLUDE_WIP_PACTS_SINCE: '2026-01-01' })).toMatchObject({ enablePending: true, includeWipPactsSince: '2026-01-01' });
});
