import { trace } from '../shared/otel-api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface TracePipelineOptions {
  readonly serviceName: string;
  readonly traceExporter?: SpanExporter | undefined;
  readonly sampler?: Sampler | undefined;
  readonly instrumentations?: readonly Instrumentation[] | undefined;
}

export interface TracePipeline {
  /** Exports every finished span now, whichever exporters the SDK built. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

interface Flushable {
  forceFlush(): Promise<void>;
}

function isFlushable(value: unknown): value is Flushable {
  return typeof value === 'object' && value !== null && typeof (value as { forceFlush?: unknown }).forceFlush === 'function';
}

/**
 * The tracer provider the API hands spans to. NodeSDK keeps its own provider private; the one it
 * registered globally is the same object. If another provider was registered first, NodeSDK's
 * registration fails and spans go to that one, so flushing it is still flushing where they went.
 */
function registeredTracerProvider(): Flushable | undefined {
  const global: unknown = trace.getTracerProvider();
  const getDelegate = (global as { getDelegate?: () => unknown }).getDelegate;
  const provider = typeof getDelegate === 'function' ? getDelegate.call(global) : global;
  return isFlushable(provider) ? provider : undefined;
}

/**
 * Starts NodeSDK's trace pipeline and nothing else. Without an explicit exporter, the SDK builds
 * its span processors from the environment exactly as a bare NodeSDK would: OTEL_TRACES_EXPORTER
 * (default otlp), OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL (default
 * http/protobuf), the endpoints, headers and OTEL_BSP_* settings.
 */
export function startTracePipeline(options: TracePipelineOptions): TracePipeline {
  // Loaded here, not at import: the SDK and its exporters are ~0.5 s of module loading that
  // services using only the wrappers (with their own SDK set-up) should not pay.
  const { NodeSDK, resources } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    // `serviceName` goes in the base resource, not in NodeSDK's serviceName option: the SDK merges
    // that option over the detected attributes, so it would beat OTEL_SERVICE_NAME. Detected
    // attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) merge over the base, so the
    // deployment's environment wins over the code.
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ 'service.name': options.serviceName })),
    ...(options.traceExporter ? { traceExporter: options.traceExporter } : {}),
    ...(options.sampler ? { sampler: options.sampler } : {}),
    // The metrics of this package are prom-client's; a default OTLP metrics or logs exporter
    // would only log connection errors.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [...(options.instrumentations ?? [])],
  });
  sdk.start();
  const provider = registeredTracerProvider();
  return {
    forceFlush: async () => {
      await provider?.forceFlush();
    },
    shutdown: () => sdk.shutdown(),
  };
}
