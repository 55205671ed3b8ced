import type { Consumer, Kafka, Producer } from 'kafkajs';
import { markedHandle, unmark } from '../shared/handle';
import type { InstrumentationHandle, KafkaInstrumentationOptions } from '../types';
import { createKafkaInstrumenter } from './instrumenter';

// Registered symbol: two copies of this package (CJS + ESM, or a bundle) see the same mark.
const INSTRUMENTED = Symbol.for('eda-harness.instrumentation.kafka');

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
  return markedHandle(kafka, INSTRUMENTED, () => {
    const instrumenter = createKafkaInstrumenter(options);
    instrumenter.patchFactories(kafka);
    return () => instrumenter.restore();
  });
}

/** Restores a client instrumented by {@link instrumentKafka} (and its producers and consumers). */
export function uninstrumentKafka(kafka: Kafka): void {
  unmark(kafka, INSTRUMENTED);
}

/**
 * Instruments one producer you already have (for example one created before instrumentKafka);
 * pass its `transactionalId` to have it on transaction spans.
 */
export function instrumentKafkaProducer(producer: Producer, options: KafkaInstrumentationOptions & { transactionalId?: string } = {}): InstrumentationHandle {
  const instrumenter = createKafkaInstrumenter(options);
  instrumenter.instrumentProducer(producer, options.transactionalId);
  return { uninstrument: () => instrumenter.restore() };
}

/** Instruments one consumer you already have; pass `groupId` (otherwise learned when it joins). */
export function instrumentKafkaConsumer(consumer: Consumer, options: KafkaInstrumentationOptions & { groupId?: string } = {}): InstrumentationHandle {
  const instrumenter = createKafkaInstrumenter(options);
  instrumenter.instrumentConsumer(consumer, options.groupId);
  return { uninstrument: () => instrumenter.restore() };
}
