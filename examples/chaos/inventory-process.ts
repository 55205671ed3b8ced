import { setTimeout as delay } from 'node:timers/promises';
import type { EachMessagePayload } from 'kafkajs';
import { startTelemetry } from '@eda-harness/instrumentation';
import { instrumentedKafka } from '../clients';
import { InvalidMessageError } from '../invalid-message-error';
import { createInventoryMessageHandler } from '../inventory-service/inventory-message-handler';
import { createFileInventoryStore } from './file-inventory-store';

/**
 * The reference inventory service as a process of its own, for the chaos harness to start, kill
 * and restart: it reads KAFKA_BROKERS and the OTEL_* variables the harness sets, reserves each
 * OrderPlaced with the reference handler into a file-backed store (INVENTORY_STORE_FILE), and
 * commits the processed offsets every 2 s (a common batching of commits), so a kill makes Kafka
 * redeliver the last seconds: the reference handler's idempotency keeps each order reserved once.
 *
 * INVENTORY_VARIANT picks a deliberately broken variant, the harness's negative controls:
 *   no-idempotency            forgets applied event ids: a redelivered order is reserved again
 *   commit-before-processing  commits each offset, then takes 150 ms to reserve: a kill in between loses the order
 */
type Variant = 'reference' | 'no-idempotency' | 'commit-before-processing';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`inventory-process: ${name} is not set`);
  return v;
}

async function main(): Promise<void> {
  const variant = (process.env['INVENTORY_VARIANT'] ?? 'reference') as Variant;
  if (!['reference', 'no-idempotency', 'commit-before-processing'].includes(variant)) throw new Error(`inventory-process: unknown INVENTORY_VARIANT ${variant}`);
  const telemetry = await startTelemetry({ serviceName: 'inventory-service', metricsPort: false });
  const brokers = required('KAFKA_BROKERS').split(',');
  const topic = required('INVENTORY_TOPIC');
  const store = createFileInventoryStore(required('INVENTORY_STORE_FILE'), { idempotent: variant !== 'no-idempotency' });
  const handle = createInventoryMessageHandler({ store });
  const kafka = instrumentedKafka('inventory-service', brokers);
  const consumer = kafka.consumer({ groupId: required('INVENTORY_GROUP'), sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 });
  // kafkajs is quiet here (logLevel NOTHING): say when the consumer crashes and whether it restarts.
  consumer.on(consumer.events.CRASH, ({ payload }) => console.warn(`inventory: consumer crashed (${payload.error.name}: ${payload.error.message}); kafkajs ${payload.restart ? 'restarts it' : 'does not restart it'}`));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const commitFirst = variant === 'commit-before-processing';
  // Offsets processed since the last commit, per partition; committed every 2 s and at shutdown.
  const processed = new Map<string, { topic: string; partition: number; offset: string }>();
  const commit = async (): Promise<void> => {
    const offsets = [...processed.values()];
    processed.clear();
    if (offsets.length > 0) await consumer.commitOffsets(offsets);
  };
  const timer = setInterval(() => void commit().catch((err: unknown) => console.warn(`inventory: commit failed: ${String(err)}`)), 2000);
  await consumer.run({
    autoCommit: false,
    eachMessage: async (payload: EachMessagePayload) => {
      if (commitFirst) {
        await consumer.commitOffsets([{ topic: payload.topic, partition: payload.partition, offset: (BigInt(payload.message.offset) + 1n).toString() }]);
        await delay(150);
      }
      try {
        await handle(payload);
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err;
        store.recordRejected();
        console.warn(`inventory: skipped ${payload.topic}[${payload.partition}]@${payload.message.offset}: ${err.message}`);
      }
      if (!commitFirst) processed.set(`${payload.topic}/${payload.partition}`, { topic: payload.topic, partition: payload.partition, offset: (BigInt(payload.message.offset) + 1n).toString() });
    },
  });
  console.log(`inventory-process (${variant}) consuming ${topic}`);
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await commit().catch(() => undefined);
    await consumer.disconnect().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
