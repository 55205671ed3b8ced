import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, KafkaMessage, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { waitFor } from '../../../core/wait-for';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { instrumentKafka, recordDeadLetter, startTelemetry, traceKafkaMessage } from '../../../instrumentation/index';
import type { TelemetryHandle } from '../../../instrumentation/index';
import { METRIC } from '../../../semconv/index';
import { sample } from '../../support/exposition';
import { uniqueName } from '../../support/names';

/**
 * DeadLetterRatioHigh divides each consumer group's dead letters by that group's consumption, so
 * eda_dlq_messages_total must name the group exactly as messaging_client_consumed_messages_total
 * does. On a real broker: two groups read one topic, one with eachMessage and one with eachBatch +
 * traceKafkaMessage, and each dead-letters the poison messages with recordDeadLetter() without
 * naming its group; the counter carries the group of the handler it was called from.
 */

let env: StartedEnvironment;
let telemetry: TelemetryHandle;
let registry: Registry;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];

beforeAll(async () => {
  registry = new Registry();
  telemetry = await startTelemetry({ serviceName: 'dlq-group-it', metricsPort: false, registry, traceExporter: new InMemorySpanExporter() });
  env = await new Environment().withKafka().withToxiproxy(false).start();
  const brokers = env.getKafkaBrokers();
  kafka = instrumentKafka(new Kafka({ clientId: 'dlq-group-it', brokers, logLevel: logLevel.NOTHING }), { registry, brokers, clientId: 'dlq-group-it' });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await telemetry?.shutdown();
  await env?.stop();
});

async function consume(groupId: string, topic: string, config: Parameters<Consumer['run']>[0]): Promise<void> {
  const consumer = kafka.consumer({ groupId });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run(config);
}

const isPoison = (m: KafkaMessage): boolean => m.value?.toString() === 'poison';

it('recordDeadLetter inside an instrumented handler counts the dead letter for that handler\'s consumer group, as the consumed counter names it', async () => {
  const topic = uniqueName('dlq-group');
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await producer.send({ topic, messages: ['ok', 'poison', 'ok', 'poison', 'ok'].map((value) => ({ value })) });
  const perMessage = uniqueName('dlq-each');
  const perBatch = uniqueName('dlq-batch');
  await consume(perMessage, topic, {
    eachMessage: async ({ message }) => {
      if (isPoison(message)) recordDeadLetter({ system: 'kafka', source: topic, dlq: `${topic}.DLT`, reason: 'handler_error', registry });
    },
  });
  await consume(perBatch, topic, {
    eachBatch: async ({ batch, resolveOffset }) => {
      for (const message of batch.messages) {
        try {
          await traceKafkaMessage(message, () => {
            if (isPoison(message)) throw new Error('poison');
          });
        } catch {
          recordDeadLetter({ system: 'kafka', source: batch.topic, dlq: `${topic}.DLT`, reason: 'handler_error', registry });
        }
        resolveOffset(message.offset);
      }
    },
  });
  // Outside any handler the group is unknown, unless named.
  recordDeadLetter({ system: 'kafka', source: topic, dlq: `${topic}.DLT`, reason: 'decode_error', registry });
  recordDeadLetter({ system: 'kafka', source: topic, dlq: `${topic}.DLT`, reason: 'decode_error', consumerGroup: 'named-by-caller', registry });

  const dlq = async (group: string): Promise<number> => sample(await registry.metrics(), METRIC.DLQ_MESSAGES.name, { source: topic, messaging_consumer_group_name: group });
  const consumed = async (group: string): Promise<number> =>
    sample(await registry.metrics(), METRIC.CONSUMED_MESSAGES.name, { messaging_destination_name: topic, messaging_consumer_group_name: group });
  await waitFor(async () => (await consumed(perMessage)) === 5 && (await consumed(perBatch)) === 5, { description: 'both groups to consume the 5 messages', timeoutMs: 60_000 });
  await waitFor(async () => (await dlq(perMessage)) === 2 && (await dlq(perBatch)) === 2, { description: 'each group to count its 2 dead letters', timeoutMs: 10_000 });
  const text = await registry.metrics();
  const dlqSeries = text.split('\n').filter((l) => l.startsWith(`${METRIC.DLQ_MESSAGES.name}{`) && l.includes(`source="${topic}"`));
  // Two groups' handler errors, the caller-named one, and one without a group (label left out, i.e. empty).
  expect(dlqSeries.map((l) => /messaging_consumer_group_name="([^"]*)"/.exec(l)?.[1] ?? '').sort()).toEqual(['', 'named-by-caller', perBatch, perMessage].sort());
}, 120_000);
