import type { Consumer, EachMessagePayload } from 'kafkajs';
import { instrumentedKafka } from '../clients';
import { InvalidMessageError } from '../invalid-message-error';
import type { KafkaServiceOptions, ServiceLogger } from '../types';
import { createInventoryMessageHandler } from './inventory-message-handler';
import { createInventoryStore } from './inventory-store';
import type { InventoryStore } from './inventory-store';

export interface InventoryServiceOptions extends KafkaServiceOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly store?: InventoryStore;
  readonly logger?: ServiceLogger;
}

export interface InventoryService {
  readonly store: InventoryStore;
  readonly consumer: Consumer;
  stop(): Promise<void>;
}

/** Consumes OrderPlaced in a consumer group, instrumented the way a user would do it. */
export async function startInventoryService(options: InventoryServiceOptions): Promise<InventoryService> {
  const kafka = instrumentedKafka(options.clientId ?? 'inventory-service', options.brokers, options.instrumentation, options.security);
  const store = options.store ?? createInventoryStore();
  const handle = createInventoryMessageHandler({ store });
  const consumer = kafka.consumer({ groupId: options.groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async (payload: EachMessagePayload) => {
      try {
        await handle(payload);
      } catch (err) {
        // Retrying a malformed event would block its partition forever: count it and move on.
        if (!(err instanceof InvalidMessageError)) throw err;
        store.recordRejected();
        options.logger?.warn(`inventory: skipped ${payload.topic}[${payload.partition}]@${payload.message.offset}: ${err.message}`);
      }
    },
  });
  return {
    store,
    consumer,
    async stop() {
      await consumer.disconnect();
    },
  };
}
