import { context, propagation, trace } from '@opentelemetry/api';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A global OTel setup for unit tests: in-memory spans, async context, W3C propagators. */
export interface OtelFixture {
  readonly exporter: InMemorySpanExporter;
  readonly provider: BasicTracerProvider;
  spans(name?: string): ReadableSpan[];
  reset(): void;
  close(): Promise<void>;
}

export function installOtel(): OtelFixture {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const cm = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(cm);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  return {
    exporter,
    provider,
    spans: (name) => exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name),
    reset: () => exporter.reset(),
    close: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      cm.disable();
    },
  };
}

/**
 * The fixture for the calling test file: installed before its first test, its spans cleared before
 * each, closed after the last. Call at the top level of the file; use it inside tests.
 */
export function useOtel(): OtelFixture {
  let installed: OtelFixture | undefined;
  beforeAll(() => {
    installed = installOtel();
  });
  afterAll(async () => {
    await installed?.close();
  });
  beforeEach(() => installed?.reset());
  const current = (): OtelFixture => {
    if (!installed) throw new Error('useOtel(): the fixture exists only while the tests run');
    return installed;
  };
  return {
    get exporter() {
      return current().exporter;
    },
    get provider() {
      return current().provider;
    },
    spans: (name) => current().spans(name),
    reset: () => current().reset(),
    close: () => current().close(),
  };
}

/**
 * The global (SDK) provider behind a counter of the spans asked of it: pass `provider` as an
 * instrumentation's `tracerProvider` to see how many spans it starts through the SDK.
 */
export function countingProvider(): { provider: TracerProvider; started: () => number } {
  let n = 0;
  const provider: TracerProvider = {
    getTracer(name, version) {
      const real = trace.getTracerProvider().getTracer(name, version);
      const tracer: Tracer = {
        startSpan(spanName, options, ctx) {
          n++;
          return real.startSpan(spanName, options, ctx);
        },
        startActiveSpan: real.startActiveSpan.bind(real) as Tracer['startActiveSpan'],
      };
      return tracer;
    },
  };
  return { provider, started: () => n };
}
