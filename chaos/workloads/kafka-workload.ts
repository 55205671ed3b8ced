import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, Producer } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '@eda-harness/core';
import { instrumentKafka } from '@eda-harness/instrumentation';
import { kafkaClientOptions, kafkaConnectionOf } from '../kafka-connection';
import { createTopicsWithLeaders } from '../kafka-topics';
import type { ChaosWorkload, MessageId, RunningWorkload, WorkloadContext } from '../types';
import { POISON_BODY, SETTLE_TIMEOUT_MS, checkRate, goodBody, headersOf, isPoison, poisonSender, recorder, senders, type SendPlacement, type WorkloadOptions } from './traffic';

export interface KafkaWorkloadOptions extends WorkloadOptions {
  /** Partitions of the workload's topic (default 3). */
  readonly partitions?: number;
  /** Run against a three-node cluster (replication factor 3, min.insync.replicas 2). */
  readonly cluster?: boolean;
}

export function kafkaWorkload(options: KafkaWorkloadOptions = {}): ChaosWorkload {
  const { keys, rate, processingMs } = checkRate(options);
  const partitions = options.partitions ?? 3;
  const nodes = options.cluster ? 3 : 1;
  return {
    system: 'kafka',
    needs: { kafkaNodes: nodes },
    description: `${rate} msg/s over ${keys} keys to a ${partitions}-partition topic (acks -1${nodes === 3 ? ', replication factor 3, min.insync.replicas 2' : ''}), one consumer group, dead-letter topic`,
    start: (ctx) => startKafkaWorkload(ctx, { keys, rate, processingMs, partitions, nodes }),
  };
}

async function startKafkaWorkload(ctx: WorkloadContext, o: { keys: number; rate: number; processingMs: number; partitions: number; nodes: number }): Promise<RunningWorkload> {
  const connection = ctx.kafka ?? kafkaConnectionOf(ctx.env, undefined);
  const brokers = connection.brokers;
  const topic = `${ctx.prefix}.orders`;
  const dlq = `${topic}.dlq`;
  const clientId = `chaos-${ctx.prefix}`;
  const rec = recorder(ctx.history, topic);
  const kafka = instrumentKafka(
    new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 8, initialRetryTime: 250, maxRetryTime: 3000 },
      // TLS and SASL when the listener is secured (a refused login is not retried by kafkajs).
      ...kafkaClientOptions(connection),
    }),
    { tracerProvider: ctx.tracerProvider, registry: ctx.registry, brokers, clientId, logger: { warn: (m) => rec.event('connection', `instrumentation: ${m}`) } },
  );
  const replicationFactor = Math.min(o.nodes, 3);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(admin, [
      { topic, numPartitions: o.partitions, replicationFactor },
      { topic: dlq, numPartitions: 1, replicationFactor },
    ]);
  } finally {
    await admin.disconnect();
  }

  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();

  const consumers: Consumer[] = [];
  let closing = false;
  /** A consumer that starts itself again after a crash kafkajs does not restart from. */
  const supervise = async (groupId: string, subscribeTo: string, handle: Parameters<Consumer['run']>[0]): Promise<void> => {
    // restartOnFailure: kafkajs schedules its restart after its own disconnect, so a crash while
    // the workload closes would start a consumer nobody stops, retrying a broker that is gone.
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200, retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3000, restartOnFailure: async () => !closing } });
    consumers.push(consumer);
    consumer.on(consumer.events.CRASH, (e) => {
      const restart = (e.payload as { restart?: boolean }).restart === true;
      rec.event('consume', `${groupId} crashed (${errorMessage(e.payload.error)})${restart ? ', kafkajs restarts it' : ''}`);
      if (restart || closing) return;
      void (async () => {
        await consumer.disconnect().catch(() => undefined);
        for (let attempt = 1; !closing; attempt++) {
          await delay(Math.min(5000, 500 * attempt));
          if (closing) return;
          try {
            await supervise(groupId, subscribeTo, handle);
            rec.event('consume', `${groupId} started again by the workload`);
            return;
          } catch (err) {
            rec.event('consume', `${groupId} restart attempt ${attempt} failed: ${errorMessage(err)}`);
          }
        }
      })();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: subscribeTo, fromBeginning: true });
    await consumer.run(handle);
    // Started while the workload closed (a restart that was under way): it must not outlive it.
    if (closing) await consumer.disconnect().catch(() => undefined);
  };

  try {
    await supervise(`${ctx.prefix}-orders`, topic, {
      eachMessage: async ({ partition, message }) => {
        const consumer = `${ctx.prefix}-orders`;
        if (isPoison(message.value)) {
          // Dead-letter it; if that fails the handler throws and kafkajs redelivers (at least once).
          await producer.send({ topic: dlq, acks: -1, messages: [{ key: message.key, value: message.value, headers: message.headers ?? {} }] });
          return;
        }
        if (o.processingMs > 0) await delay(o.processingMs);
        rec.delivery(message.headers, { consumer, partition, offset: message.offset, redelivered: false, deadLettered: false });
      },
    });
    await supervise(`${ctx.prefix}-dlq-reader`, dlq, {
      eachMessage: async ({ partition, message }) => void rec.delivery(message.headers, { consumer: `${ctx.prefix}-dlq-reader`, partition, offset: message.offset, redelivered: false, deadLettered: true }),
    });
  } catch (err) {
    // Half started: disconnect what did start, or its sockets and timers outlive the scenario.
    closing = true;
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    throw err;
  }

  // Good messages wait at most SETTLE_TIMEOUT_MS for their acknowledgement; poison ones keep kafkajs's default.
  const produce = async (m: MessageId, body: string, options: { timeout?: number } = {}): Promise<SendPlacement> => {
    const [meta] = await producer.send({ topic, acks: -1, ...options, messages: [{ key: m.key, value: body, headers: headersOf(m) }] });
    return meta ? { partition: meta.partition, ...(meta.baseOffset === undefined ? {} : { offset: meta.baseOffset }) } : {};
  };
  const loops = senders(o.keys, o.rate, ctx.prefix, (m) => produce(m, goodBody(m), { timeout: SETTLE_TIMEOUT_MS }), rec);
  const sendPoison = poisonSender(ctx.prefix, rec, (m) => produce(m, POISON_BODY));

  return {
    destination: topic,
    sendPoison,
    stopSending: () => loops.stop(),
    async close() {
      closing = true;
      await loops.stop();
      for (const c of consumers) await c.disconnect().catch((err: unknown) => rec.event('consume', `disconnect: ${errorMessage(err)}`));
      await producer.disconnect().catch((err: unknown) => rec.event('produce', `disconnect: ${errorMessage(err)}`));
    },
    sent: () => rec.sent,
    consumed: () => rec.consumed,
    events: () => rec.events,
  };
}
