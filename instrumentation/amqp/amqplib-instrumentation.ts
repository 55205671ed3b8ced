import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import { FactoryPatchingInstrumentation } from '../shared/otel-instrumentation';
import type { FactoryInstrumenter } from '../shared/otel-instrumentation';
import { packageVersionSafe } from '../shared/version';
import type { AmqpInstrumentationOptions } from '../types';
import { createAmqpInstrumenter } from './instrumenter';

export type AmqplibInstrumentationConfig = InstrumentationConfig & Omit<AmqpInstrumentationOptions, 'tracerProvider'>;

/** amqplib/lib/channel_model.js (promise API) or amqplib/lib/callback_model.js (callback API). */
interface ModelModule {
  ChannelModel?: { prototype: Record<string, unknown> };
  CallbackModel?: { prototype: Record<string, unknown> };
}

const SUPPORTED = ['>=0.10.0 <3'];

/**
 * For `registerInstrumentations` users: patches `createChannel` / `createConfirmChannel` of
 * `ChannelModel.prototype` (amqplib/lib/channel_model.js, the promise API) and of
 * `CallbackModel.prototype` (amqplib/lib/callback_model.js, `amqplib/callback_api`), and
 * instruments every channel they create with the wrappers `instrumentAmqp` uses. CommonJS only;
 * ESM and bundled apps use `instrumentAmqp`, or call `patch()` with one of those modules
 * themselves (amqplib's `exports` map hides lib/: require it by path, next to
 * `require.resolve('amqplib')`).
 */
export class AmqplibInstrumentation extends FactoryPatchingInstrumentation<AmqplibInstrumentationConfig, ModelModule> {
  constructor(config: AmqplibInstrumentationConfig = {}) {
    super('eda-harness/amqplib', packageVersionSafe(), config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    const files = ['amqplib/lib/channel_model.js', 'amqplib/lib/callback_model.js'].map((name) => new InstrumentationNodeModuleFile(name, SUPPORTED, ...this.moduleHooks()));
    return new InstrumentationNodeModuleDefinition('amqplib', SUPPORTED, undefined, undefined, files);
  }

  protected factoryOwner(moduleExports: ModelModule): object | undefined {
    return moduleExports?.ChannelModel?.prototype ?? moduleExports?.CallbackModel?.prototype;
  }

  protected createInstrumenter(options: AmqpInstrumentationOptions): FactoryInstrumenter {
    return createAmqpInstrumenter(options);
  }
}
