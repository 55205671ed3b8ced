import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import type { Consumer, Producer } from 'kafkajs';
import { instrumentConsumer } from './kafka-consumer';
import { instrumentProducer } from './kafka-producer';
import { createKafkaRuntime } from './kafka-runtime';
import type { KafkaRuntime } from './kafka-runtime';
import { Patcher } from './patcher';
import type { KafkaInstrumentationOptions } from './types';
import { packageVersionSafe } from './version';

export type KafkaJsInstrumentationConfig = InstrumentationConfig & Omit<KafkaInstrumentationOptions, 'tracerProvider'>;

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
interface KafkaModule {
  Kafka?: { prototype: Record<string, unknown> };
}

/**
 * For `registerInstrumentations({ instrumentations: [new KafkaJsInstrumentation()] })` users:
 * patches `Kafka.prototype.producer` / `.consumer` when kafkajs is required, and instruments what
 * they build with exactly the wrappers `instrumentKafka` uses. CommonJS only (require hooks);
 * ESM and bundled apps use `instrumentKafka` instead, or call `patch(kafkajsModule)` themselves.
 */
export class KafkaJsInstrumentation extends InstrumentationBase<KafkaJsInstrumentationConfig> {
  // No field initialisers: InstrumentationBase calls init()/enable() from its constructor.
  private runtime: KafkaRuntime | undefined;

  constructor(config: KafkaJsInstrumentationConfig = {}) {
    super('eda-harness/kafkajs', packageVersionSafe(), config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      'kafkajs',
      ['>=2.0.0 <3'],
      (moduleExports: KafkaModule) => {
        this.patch(moduleExports);
        return moduleExports;
      },
      (moduleExports: KafkaModule | undefined) => {
        if (moduleExports) this.unpatch(moduleExports);
      },
    );
  }

  /** Patches a kafkajs module object (what `require('kafkajs')` returns). Idempotent. */
  patch(moduleExports: KafkaModule): void {
    const proto = moduleExports?.Kafka?.prototype;
    if (!proto) return;
    const k = this.getRuntime();
    for (const [method, instrument] of [
      ['producer', (client: object) => instrumentProducer(client as Producer, k)],
      ['consumer', (client: object, args: unknown[]) => {
        const groupId = (args[0] as { groupId?: unknown } | undefined)?.groupId;
        instrumentConsumer(client as Consumer, k, typeof groupId === 'string' ? groupId : undefined);
      }],
    ] as const) {
      k.patcher.wrap(proto, method, (original: AnyFunction) =>
        function instrumentedFactory(this: unknown, ...args: unknown[]): unknown {
          const client = original.apply(this, args);
          if (typeof client === 'object' && client !== null) k.tap.guard.run('kafka.instrumentClient', () => instrument(client, args));
          return client;
        },
      );
    }
  }

  /** Restores the prototype and every producer/consumer instrumented through it. */
  unpatch(_moduleExports?: KafkaModule): void {
    const k = this.runtime;
    if (!k) return;
    k.patcher.restoreAll();
    for (const remove of k.listeners.splice(0)) k.tap.guard.run('kafka.events.unsubscribe', remove);
    this.runtime = undefined;
  }

  private getRuntime(): KafkaRuntime {
    if (!this.runtime) {
      // Tracer from the provider given to this instrumentation (setTracerProvider), like any OTel instrumentation.
      const provider: TracerProvider = { getTracer: (): Tracer => this.tracer };
      this.runtime = createKafkaRuntime({ ...this.getConfig(), tracerProvider: provider }, new Patcher());
    }
    return this.runtime;
  }
}
