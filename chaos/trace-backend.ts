import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ProgressSink } from '@eda-harness/core';
import type { StartedEnvironment } from '@eda-harness/environment';
import type { EnvironmentNeeds, SpanRecord, SpanSource } from './types';

/**
 * Where the traces invariant's spans come from: a small strategy a scenario is given
 * (`withTraceBackend(jaegerTraces())`, or `RunOptions.traceBackend`), or picks by itself: Jaeger
 * when the environment has one, else the harness's own recording. A backend adds its export path
 * to the workload's tracer provider for the run, and after the run answers the span records the
 * invariant checks, saying where they came from.
 */

export interface TraceReadRequest {
  /** Every span the workload's tracer provider ended, as the harness recorded them in memory. */
  readonly recorded: readonly SpanRecord[];
  /** Every delivery the run saw (their `traceparent`s name the traces to read). */
  readonly deliveries: readonly { readonly producerTraceId?: string | undefined }[];
  /** Spans per trace that reached the backend another way (a service's, relayed by the harness's receiver), with the relay's failures. */
  readonly relayed?: { readonly perTrace: ReadonlyMap<string, number>; readonly failed: number; readonly lastError: string | undefined };
  readonly progress: ProgressSink;
}

export interface SpansRead {
  readonly spans: readonly SpanRecord[];
  /** Set when the spans were read back from a backend (recorded in the history as a `spans-read` record). */
  readonly source?: SpanSource;
}

/** A backend opened for one run, in its environment. */
export interface TraceBackendRun {
  /** Added to the workload's tracer provider beside the in-memory recording. */
  readonly spanProcessors: readonly SpanProcessor[];
  /** The OTLP/HTTP base URL spans from elsewhere (a service under test) are relayed to, when the backend reads them back. */
  readonly otlpHttpUrl?: string;
  /** Called once the provider was flushed, before the environment stops: the spans the invariant reads. */
  read(request: TraceReadRequest): Promise<SpansRead>;
  /** Ends the export path (the provider's shutdown also ends its processors; this is idempotent). */
  close(): Promise<void>;
}

export interface TraceBackend {
  /** `recorded`, `jaeger`: what the history header's `config.traces` says. */
  readonly name: string;
  /** What the environment must have for it (a scenario that starts its own environment starts it). */
  readonly needs: EnvironmentNeeds;
  /** Opens the backend in the run's environment; a ConfigError when the environment lacks what it needs. */
  open(env: StartedEnvironment, progress: ProgressSink): TraceBackendRun;
}
