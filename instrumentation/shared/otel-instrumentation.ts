import { InstrumentationBase } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Tracer, TracerProvider } from '@opentelemetry/api';

/** What a broker's instrumenter offers an OTel Instrumentation class. */
export interface FactoryInstrumenter {
  /** Patches the client factories of `owner` (a prototype) so that what they build is instrumented. */
  patchFactories(owner: object): void;
  /** Restores everything patched, the prototype and every client instrumented through it. */
  restore(): void;
}

/**
 * What KafkaJsInstrumentation and AmqplibInstrumentation share: a broker instrumenter created at
 * the first patch with the tracer this instrumentation was given (setTracerProvider, like any OTel
 * instrumentation), patching a prototype found in the hooked module, undone by unpatch.
 */
export abstract class FactoryPatchingInstrumentation<C extends InstrumentationConfig, M> extends InstrumentationBase<C> {
  // No field initialisers: InstrumentationBase calls init()/enable() from its constructor.
  private instrumenter: FactoryInstrumenter | undefined;

  /** The object whose factories are patched (Kafka.prototype, ChannelModel.prototype), if the module has it. */
  protected abstract factoryOwner(moduleExports: M): object | undefined;

  protected abstract createInstrumenter(options: C & { readonly tracerProvider: TracerProvider }): FactoryInstrumenter;

  /** The patch / unpatch pair for a module definition or file in init(). */
  protected moduleHooks(): [(moduleExports: M) => M, (moduleExports: M | undefined) => void] {
    return [
      (moduleExports) => {
        this.patch(moduleExports);
        return moduleExports;
      },
      (moduleExports) => {
        if (moduleExports) this.unpatch(moduleExports);
      },
    ];
  }

  /** Patches the module object (what `require()` returns for the hooked module or file). Idempotent. */
  patch(moduleExports: M): void {
    const owner = this.factoryOwner(moduleExports);
    if (!owner) return;
    const tracerProvider: TracerProvider = { getTracer: (): Tracer => this.tracer };
    this.instrumenter ??= this.createInstrumenter({ ...this.getConfig(), tracerProvider });
    this.instrumenter.patchFactories(owner);
  }

  /** Restores the prototype and every client instrumented through it. */
  unpatch(_moduleExports?: M): void {
    this.instrumenter?.restore();
    this.instrumenter = undefined;
  }
}
