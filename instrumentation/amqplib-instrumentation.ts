import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import type { Channel } from 'amqplib';
import { createAmqpChannelInstrumenter } from './amqp';
import { Patcher } from './patcher';
import type { AmqpInstrumentationOptions } from './types';
import { packageVersionSafe } from './version';

export type AmqplibInstrumentationConfig = InstrumentationConfig & Omit<AmqpInstrumentationOptions, 'tracerProvider'>;

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
interface ChannelModelModule {
  ChannelModel?: { prototype: Record<string, unknown> };
}

/**
 * For `registerInstrumentations` users: patches `ChannelModel.prototype.createChannel` /
 * `createConfirmChannel` (amqplib/lib/channel_model.js) and instruments every channel they
 * return with the wrappers `instrumentAmqp` uses. CommonJS only; ESM and bundled apps use
 * `instrumentAmqp`, or call `patch(require('amqplib/lib/channel_model'))` themselves.
 */
export class AmqplibInstrumentation extends InstrumentationBase<AmqplibInstrumentationConfig> {
  private state: { patcher: Patcher; channels: ReturnType<typeof createAmqpChannelInstrumenter> } | undefined;

  constructor(config: AmqplibInstrumentationConfig = {}) {
    super('eda-harness/amqplib', packageVersionSafe(), config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    const file = new InstrumentationNodeModuleFile(
      'amqplib/lib/channel_model.js',
      ['>=0.10.0 <3'],
      (moduleExports: ChannelModelModule) => {
        this.patch(moduleExports);
        return moduleExports;
      },
      (moduleExports: ChannelModelModule | undefined) => {
        if (moduleExports) this.unpatch(moduleExports);
      },
    );
    return new InstrumentationNodeModuleDefinition('amqplib', ['>=0.10.0 <3'], undefined, undefined, [file]);
  }

  /** Patches amqplib's channel_model module object. Idempotent. */
  patch(moduleExports: ChannelModelModule): void {
    const proto = moduleExports?.ChannelModel?.prototype;
    if (!proto) return;
    if (!this.state) {
      const provider: TracerProvider = { getTracer: (): Tracer => this.tracer };
      this.state = { patcher: new Patcher(), channels: createAmqpChannelInstrumenter({ ...this.getConfig(), tracerProvider: provider }) };
    }
    const { channels } = this.state;
    for (const method of ['createChannel', 'createConfirmChannel']) {
      this.state.patcher.wrap(proto, method, (original: AnyFunction) =>
        function instrumentedCreateChannel(this: unknown, ...args: unknown[]): unknown {
          return Promise.resolve(original.apply(this, args)).then((channel: unknown) => {
            if (typeof channel === 'object' && channel !== null) channels.instrument(channel as Channel);
            return channel;
          });
        },
      );
    }
  }

  unpatch(_moduleExports?: ChannelModelModule): void {
    if (!this.state) return;
    this.state.patcher.restoreAll();
    this.state.channels.restore();
    this.state = undefined;
  }
}
