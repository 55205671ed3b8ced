import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import { FactoryPatchingInstrumentation } from '../shared/otel-instrumentation';
import type { FactoryInstrumenter } from '../shared/otel-instrumentation';
import { packageVersionSafe } from '../shared/version';
import type { AmqpInstrumentationOptions } from '../types';
import { createAmqpInstrumenter } from './instrumenter';

export type AmqplibInstrumentationConfig = InstrumentationConfig & Omit<AmqpInstrumentationOptions, 'tracerProvider'>;

interface ChannelModelModule {
  ChannelModel?: { prototype: Record<string, unknown> };
}

/**
 * For `registerInstrumentations` users: patches `ChannelModel.prototype.createChannel` /
 * `createConfirmChannel` (amqplib/lib/channel_model.js) and instruments every channel they
 * return with the wrappers `instrumentAmqp` uses. CommonJS only; ESM and bundled apps use
 * `instrumentAmqp`, or call `patch(require('amqplib/lib/channel_model'))` themselves.
 */
export class AmqplibInstrumentation extends FactoryPatchingInstrumentation<AmqplibInstrumentationConfig, ChannelModelModule> {
  constructor(config: AmqplibInstrumentationConfig = {}) {
    super('eda-harness/amqplib', packageVersionSafe(), config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    const file = new InstrumentationNodeModuleFile('amqplib/lib/channel_model.js', ['>=0.10.0 <3'], ...this.moduleHooks());
    return new InstrumentationNodeModuleDefinition('amqplib', ['>=0.10.0 <3'], undefined, undefined, [file]);
  }

  protected factoryOwner(moduleExports: ChannelModelModule): object | undefined {
    return moduleExports?.ChannelModel?.prototype;
  }

  protected createInstrumenter(options: AmqpInstrumentationOptions): FactoryInstrumenter {
    return createAmqpInstrumenter(options);
  }
}
