import type { Consumer, ConsumerEvents, ConsumerRunConfig, EachMessagePayload } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafkaConsumer } from '@eda-harness/instrumentation';
import { silentKafkaLogger, unsupported } from '../stand-in';
import type { KafkaHandlingOptions } from '../types';

type EachMessage = (payload: EachMessagePayload) => Promise<void>;

/** kafkajs's consumer event names, as `consumer.events` carries them. */
const CONSUMER_EVENTS: ConsumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
};

/**
 * Runs a kafkajs `eachMessage` handler on one payload the way kafkajs would, with the eda-harness
 * instrumentation wrapped around it exactly as in production (instrumentKafkaConsumer on a
 * consumer whose run() only registers the handler). The handler's error propagates unchanged.
 */
export async function runKafkaHandler<R>(payload: EachMessagePayload, handler: (payload: EachMessagePayload) => Promise<R> | R, options: KafkaHandlingOptions = {}): Promise<R> {
  let registered: EachMessage | undefined;
  const consumer = registeringConsumer((config) => {
    registered = config?.eachMessage;
  });
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

/**
 * A kafkajs consumer with no broker behind it, for the instrumentation to wrap: run() hands its
 * config to `onRun`, connect / disconnect / stop do nothing, `on` registers listeners that never
 * fire; what would need a broker (subscribe, commits, seeking, pausing, group state) throws.
 */
function registeringConsumer(onRun: (config: ConsumerRunConfig | undefined) => void): Consumer {
  const noBroker = (call: string) => unsupported('contract-test consumer', call, 'a consumer contract test runs one handler on one message; do not call the consumer from the handler');
  return {
    run: async (config) => onRun(config),
    connect: async () => undefined,
    disconnect: async () => undefined,
    stop: async () => undefined,
    subscribe: async () => noBroker('consumer.subscribe()'),
    commitOffsets: async () => noBroker('consumer.commitOffsets()'),
    seek: () => noBroker('consumer.seek()'),
    describeGroup: async () => noBroker('consumer.describeGroup()'),
    pause: () => noBroker('consumer.pause()'),
    paused: () => noBroker('consumer.paused()'),
    resume: () => noBroker('consumer.resume()'),
    events: CONSUMER_EVENTS,
    on: () => () => undefined,
    logger: silentKafkaLogger,
  };
}
