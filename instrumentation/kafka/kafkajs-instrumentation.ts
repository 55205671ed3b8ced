import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import { FactoryPatchingInstrumentation } from '../shared/otel-instrumentation';
import type { FactoryInstrumenter } from '../shared/otel-instrumentation';
import { packageVersionSafe } from '../shared/version';
import type { KafkaInstrumentationOptions } from '../types';
import { createKafkaInstrumenter } from './instrumenter';

export type KafkaJsInstrumentationConfig = InstrumentationConfig & Omit<KafkaInstrumentationOptions, 'tracerProvider'>;

interface KafkaModule {
  Kafka?: { prototype: Record<string, unknown> };
}

/**
 * For `registerInstrumentations({ instrumentations: [new KafkaJsInstrumentation()] })` users:
 * patches `Kafka.prototype.producer` / `.consumer` when kafkajs is required, and instruments what
 * they build with exactly the wrappers `instrumentKafka` uses. CommonJS only (require hooks);
 * ESM and bundled apps use `instrumentKafka` instead, or call `patch(kafkajsModule)` themselves.
 */
export class KafkaJsInstrumentation extends FactoryPatchingInstrumentation<KafkaJsInstrumentationConfig, KafkaModule> {
  constructor(config: KafkaJsInstrumentationConfig = {}) {
    super('eda-harness/kafkajs', packageVersionSafe(), config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition('kafkajs', ['>=2.0.0 <3'], ...this.moduleHooks());
  }

  protected factoryOwner(moduleExports: KafkaModule): object | undefined {
    return moduleExports?.Kafka?.prototype;
  }

  protected createInstrumenter(options: KafkaInstrumentationOptions): FactoryInstrumenter {
    return createKafkaInstrumenter(options);
  }
}
