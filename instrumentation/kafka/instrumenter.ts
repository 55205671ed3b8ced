import type { Consumer, Producer } from 'kafkajs';
import { Patcher } from '../shared/patcher';
import type { AnyFunction } from '../shared/patcher';
import type { KafkaInstrumentationOptions } from '../types';
import { instrumentConsumer } from './consumer';
import { instrumentProducer } from './producer';
import { createKafkaRuntime } from './runtime';
import type { KafkaRuntime } from './runtime';

/**
 * One set of Kafka instrumentation state (tracer, metrics, patched methods, event listeners),
 * shared by the explicit wrappers (instrumentKafka & co.) and KafkaJsInstrumentation.
 */
export interface KafkaInstrumenter {
  /**
   * Patches `owner.producer` / `owner.consumer` (a `Kafka` client, or `Kafka.prototype`) so every
   * producer and consumer they build from now on is instrumented. Idempotent.
   */
  patchFactories(owner: object): void;
  /** Instruments one producer (send, sendBatch, transaction); its transactionalId labels transaction spans. */
  instrumentProducer(producer: Producer, transactionalId?: string): void;
  /** Instruments one consumer (run, instrumentation events); without `groupId` it is learned on join. */
  instrumentConsumer(consumer: Consumer, groupId: string | undefined): void;
  /** Restores every method patched through this instrumenter and removes its event listeners. */
  restore(): void;
}

export function createKafkaInstrumenter(options: KafkaInstrumentationOptions): KafkaInstrumenter {
  const k = createKafkaRuntime(options, new Patcher());
  return {
    patchFactories(owner) {
      k.patcher.wrap(owner, 'producer', (original) => getFactoryPatch(k, original, (client, args) => instrumentProducer(client as Producer, k, transactionalIdOf(args[0]))));
      k.patcher.wrap(owner, 'consumer', (original) => getFactoryPatch(k, original, (client, args) => instrumentConsumer(client as Consumer, k, groupIdOf(args[0]))));
    },
    instrumentProducer: (producer, transactionalId) => instrumentProducer(producer, k, transactionalId),
    instrumentConsumer: (consumer, groupId) => instrumentConsumer(consumer, k, groupId),
    restore() {
      k.patcher.restoreAll();
      k.listeners.removeAll((remove) => k.tap.guard.run('kafka.events.unsubscribe', remove));
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

/** The transactionalId of kafka.producer({ transactionalId }), when it is a string. */
function transactionalIdOf(config: unknown): string | undefined {
  const id = (config as { transactionalId?: unknown } | undefined)?.transactionalId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The groupId of kafka.consumer({ groupId }), when it is a string. */
function groupIdOf(config: unknown): string | undefined {
  const groupId = (config as { groupId?: unknown } | undefined)?.groupId;
  return typeof groupId === 'string' ? groupId : undefined;
}
