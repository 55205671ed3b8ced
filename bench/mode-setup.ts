/**
 * The OpenTelemetry set-up of one benchmark mode (see bench/modes.ts), shared by the
 * micro-benchmark's and the broker benchmark's workers so both measure the same thing:
 *   none             no OpenTelemetry at all
 *   sdk              SDK registered (AsyncLocalStorage context, W3C propagation, AlwaysOn), no instrumentation
 *   eda              eda-harness wrappers, every span sampled (AlwaysOn), prom-client metrics on
 *   eda-unsampled    eda-harness, ParentBased(AlwaysOn), every incoming/active parent unsampled
 *   eda-unsampled-skip  the same with followParentSampling (no span for an unsampled parent)
 *   eda-ratio        eda-harness, ParentBased(TraceIdRatioBased(0.01)), messages without a parent
 *   contrib          @opentelemetry/instrumentation-kafkajs / -amqplib, AlwaysOn, no MeterProvider
 *   contrib-metrics  the same with an SDK MeterProvider (contrib then records its metrics)
 *   floor            (micro-benchmark only) one SDK span per message and W3C propagation, written by
 *                    hand (bench/floor-instrumentation.ts), AlwaysOn: the least a span-per-message
 *                    instrumentation costs
 * Spans go through a BatchSpanProcessor into an exporter that counts and discards them (the cost
 * measured is the instrumentation's, not a network's). Patching the clients is left to each worker:
 * the micro-benchmark patches fakes, the broker benchmark the real modules.
 */
import { ROOT_CONTEXT, TraceFlags, metrics, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { Mode } from './modes';

export interface ModeSetUp {
  readonly mode: Mode;
  readonly provider: NodeTracerProvider | undefined;
  /** eda-harness wrappers are applied in this mode. */
  readonly eda: boolean;
  /** The contrib instrumentations are applied in this mode. */
  readonly contrib: boolean;
  /** The hand-written floor instrumentation is applied in this mode. */
  readonly floor: boolean;
  /** Incoming messages and producers' active parents are unsampled. */
  readonly unsampledParent: boolean;
  /** Messages carry no parent and producers run without one (root sampling decides). */
  readonly rootOnly: boolean;
  /** Options for instrumentKafka / instrumentAmqp. */
  readonly edaOptions: Record<string, unknown>;
  /** The `traceparent` incoming messages carry (undefined: none, in eda-ratio). */
  readonly traceparent: string | undefined;
  /** The context producers send under: an active (remote) parent, unsampled where the mode says. */
  readonly producerParent: Context;
  /** Spans exported so far. */
  spans(): number;
}

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** Registers the tracer (and for contrib-metrics the meter) provider of `mode`; call before the clients are required. */
export function setUpMode(mode: Mode): ModeSetUp {
  let exported = 0;
  class CountingExporter implements SpanExporter {
    export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
      exported += spans.length;
      done({ code: ExportResultCode.SUCCESS });
    }
    async shutdown(): Promise<void> {}
  }

  const unsampledParent = mode === 'eda-unsampled' || mode === 'eda-unsampled-skip';
  const rootOnly = mode === 'eda-ratio';

  let provider: NodeTracerProvider | undefined;
  if (mode !== 'none') {
    let sampler: Sampler = new AlwaysOnSampler();
    if (unsampledParent) sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() });
    if (rootOnly) sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) });
    provider = new NodeTracerProvider({
      sampler,
      spanProcessors: [new BatchSpanProcessor(new CountingExporter(), { maxQueueSize: 65_536, maxExportBatchSize: 512, scheduledDelayMillis: 100 })],
    });
    provider.register();
  }
  if (mode === 'contrib-metrics') {
    const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
    // A reader that is never collected: the cost measured is recording, as in any SDK set-up.
    class IdleReader extends MetricReader {
      protected async onShutdown(): Promise<void> {}
      protected async onForceFlush(): Promise<void> {}
    }
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new IdleReader()] }));
  }

  const flags = unsampledParent ? TraceFlags.NONE : TraceFlags.SAMPLED;
  return {
    mode,
    provider,
    eda: mode.startsWith('eda'),
    contrib: mode.startsWith('contrib'),
    floor: mode === 'floor',
    unsampledParent,
    rootOnly,
    edaOptions: mode === 'eda-unsampled-skip' ? { followParentSampling: true } : {},
    traceparent: rootOnly ? undefined : `00-${TRACE_ID}-${PARENT_SPAN_ID}-0${flags}`,
    producerParent: rootOnly ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: flags, isRemote: true }),
    spans: () => exported,
  };
}
