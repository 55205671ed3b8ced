import type { Consumer, ConsumerRunConfig, EachMessagePayload } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafkaConsumer } from '@eda-harness/instrumentation';
import type { KafkaHandlingOptions } from '../types';

type EachMessage = (payload: EachMessagePayload) => Promise<void>;

/**
 * Runs a kafkajs `eachMessage` handler on one payload the way kafkajs would, with the eda-harness
 * instrumentation wrapped around it exactly as in production (instrumentKafkaConsumer on a
 * consumer whose run() we intercept). The handler's error propagates unchanged.
 */
export async function runKafkaHandler<R>(payload: EachMessagePayload, handler: (payload: EachMessagePayload) => Promise<R> | R, options: KafkaHandlingOptions = {}): Promise<R> {
  let registered: EachMessage | undefined;
  const consumer = {
    run: async (config: ConsumerRunConfig) => {
      registered = config.eachMessage;
    },
  } as unknown as Consumer;
  // A private registry unless the test brings one: contract tests must not leak series into the global one.
  const instrumentation = instrumentKafkaConsumer(consumer, { groupId: options.groupId ?? 'contract-test', registry: new Registry(), ...options.instrumentation });
  try {
    let result: { value: R } | undefined;
    await consumer.run({
      eachMessage: async (p) => {
        result = { value: await handler(p) };
      },
    });
    if (!registered) throw new Error('consumer.run() did not receive eachMessage');
    await registered(payload);
    if (!result) throw new Error('the handler did not run');
    return result.value;
  } finally {
    instrumentation.uninstrument();
  }
}
