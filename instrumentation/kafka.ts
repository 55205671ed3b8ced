import type { Consumer, Kafka, Producer } from 'kafkajs';
import { instrumentConsumer } from './kafka-consumer';
import { instrumentProducer } from './kafka-producer';
import { createKafkaRuntime } from './kafka-runtime';
import type { KafkaRuntime } from './kafka-runtime';
import { Patcher } from './patcher';
import type { InstrumentationHandle, KafkaInstrumentationOptions } from './types';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

// Registered symbol: two copies of this package (CJS + ESM, or a bundle) see the same mark.
const INSTRUMENTED = Symbol.for('eda-harness.instrumentation.kafka');

interface Marked {
  [INSTRUMENTED]?: InstrumentationHandle;
}

/**
 * Instruments a kafkajs `Kafka` client: every producer and consumer it creates from now on is
 * traced and measured. Returns the same client, so it composes: `instrumentKafka(new Kafka(cfg))`.
 * Instrumenting twice is a no-op; {@link uninstrumentKafka} restores the originals, including on
 * producers and consumers created in between.
 */
export function instrumentKafka<T extends Kafka>(kafka: T, options: KafkaInstrumentationOptions = {}): T {
  kafkaHandle(kafka, options);
  return kafka;
}

/** Like {@link instrumentKafka}, returning the handle that undoes it. */
export function kafkaHandle(kafka: Kafka, options: KafkaInstrumentationOptions = {}): InstrumentationHandle {
  const marked = kafka as Kafka & Marked;
  const existing = marked[INSTRUMENTED];
  if (existing) return existing;
  const patcher = new Patcher();
  const k = createKafkaRuntime(options, patcher);
  patcher.wrap(kafka, 'producer', (original) => getFactoryPatch(k, original, (p) => instrumentProducer(p as Producer, k)));
  patcher.wrap(kafka, 'consumer', (original) =>
    getFactoryPatch(k, original, (c, args) => {
      const groupId = (args[0] as { groupId?: unknown } | undefined)?.groupId;
      instrumentConsumer(c as Consumer, k, typeof groupId === 'string' ? groupId : undefined);
    }),
  );
  const handle = handleFor(k, () => delete marked[INSTRUMENTED]);
  Object.defineProperty(marked, INSTRUMENTED, { value: handle, configurable: true, enumerable: false, writable: true });
  return handle;
}

/** Restores a client instrumented by {@link instrumentKafka} (and its producers and consumers). */
export function uninstrumentKafka(kafka: Kafka): void {
  (kafka as Kafka & Marked)[INSTRUMENTED]?.uninstrument();
}

/** Instruments one producer you already have (for example one created before instrumentKafka). */
export function instrumentKafkaProducer(producer: Producer, options: KafkaInstrumentationOptions = {}): InstrumentationHandle {
  const k = createKafkaRuntime(options, new Patcher());
  instrumentProducer(producer, k);
  return handleFor(k);
}

/** Instruments one consumer you already have; pass `groupId` (otherwise learned when it joins). */
export function instrumentKafkaConsumer(consumer: Consumer, options: KafkaInstrumentationOptions & { groupId?: string } = {}): InstrumentationHandle {
  const k = createKafkaRuntime(options, new Patcher());
  instrumentConsumer(consumer, k, options.groupId);
  return handleFor(k);
}

function handleFor(k: KafkaRuntime, also?: () => void): InstrumentationHandle {
  return {
    uninstrument() {
      k.patcher.restoreAll();
      for (const remove of k.listeners.splice(0)) k.tap.guard.run('kafka.events.unsubscribe', remove);
      also?.();
    },
  };
}

/** kafka.producer(...) / kafka.consumer(...): call the original, then instrument what it built. */
function getFactoryPatch(k: KafkaRuntime, original: AnyFunction, instrument: (client: object, args: unknown[]) => void): AnyFunction {
  return function instrumentedFactory(this: unknown, ...args: unknown[]): unknown {
    const client = original.apply(this, args);
    if (typeof client === 'object' && client !== null) k.tap.guard.run('kafka.instrumentClient', () => instrument(client, args));
    return client;
  };
}
