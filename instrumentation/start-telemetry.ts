import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { register as globalRegister } from 'prom-client';
import type { Registry, RegistryContentType } from 'prom-client';
import { serveMetrics } from './telemetry/metrics-server';
import type { MetricsServer } from './telemetry/metrics-server';
import { startTracePipeline } from './telemetry/trace-pipeline';
import { registerServiceInfo, resolveServiceName } from './telemetry/service-info';

/**
 * Default port of /metrics: next to Prometheus' 9464 (which the OpenTelemetry Prometheus exporter
 * and the eda-harness exporter take), so an instrumented service and either of them can share a host.
 */
export const DEFAULT_METRICS_PORT = 9465;
/** Loopback: a library exposes nothing to the network unless told to. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** Sets the /metrics interface when the code passes no `metricsHost` (a container sets 0.0.0.0). */
export const METRICS_HOST_ENV = 'EDA_METRICS_HOST';

export interface TelemetryOptions {
  /**
   * `service.name` of every span, unless the environment names the service: OTEL_SERVICE_NAME, then
   * `service.name` in OTEL_RESOURCE_ATTRIBUTES, win over this value.
   */
  readonly serviceName: string;
  /** Port of the /metrics server (default 9465; 0 = any free port; false = no server). */
  readonly metricsPort?: number | false;
  /**
   * Interface to listen on. Default: EDA_METRICS_HOST if set, else 127.0.0.1 (loopback only).
   * Pass '0.0.0.0' (or set EDA_METRICS_HOST=0.0.0.0) for a Prometheus on another host or container.
   */
  readonly metricsHost?: string;
  /** Default "/metrics". */
  readonly metricsPath?: string;
  /** Registry to serve (default prom-client's global one, which the wrappers use by default). */
  readonly registry?: Registry<RegistryContentType>;
  /**
   * Writes `eda_service_info{service_name="<service.name>"} 1` into the registry (default true): the
   * dashboards join it on the scrape target to name the service behind the instrumentation's series.
   * The name is the spans' `service.name` (OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES, then
   * `serviceName`). One series, written once; no other metric of the registry gets a label.
   * false: no info series (the dashboards fall back to a `service_name` label on the series, then the job).
   */
  readonly serviceInfo?: boolean;
  /**
   * Span exporter, batched with the OTEL_BSP_* settings. Default: the exporters the OpenTelemetry
   * SDK builds from the environment, by its rules: OTEL_TRACES_EXPORTER (default otlp), and for
   * otlp OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL (default http/protobuf).
   */
  readonly traceExporter?: SpanExporter;
  /** Default: the SDK's (OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, else parent-based always-on). */
  readonly sampler?: Sampler;
  /** OpenTelemetry instrumentations to register (for example KafkaJsInstrumentation). */
  readonly instrumentations?: readonly Instrumentation[];
}

/** A running telemetry setup; `await using telemetry = await startTelemetry(...)` ends it. */
export interface TelemetryHandle extends AsyncDisposable {
  /** http://host:port/metrics, or undefined without a metrics server. */
  readonly metricsUrl: string | undefined;
  readonly metricsPort: number | undefined;
  readonly registry: Registry<RegistryContentType>;
  /** Exports every finished span now. */
  forceFlush(): Promise<void>;
  /**
   * Flushes spans, shuts the SDK down and closes the metrics server. It does not disconnect your
   * clients or end the process: on SIGTERM, disconnect them first, then call this (see the README).
   */
  shutdown(): Promise<void>;
}

function metricsHostOf(options: TelemetryOptions): string {
  const fromEnv = process.env[METRICS_HOST_ENV]?.trim();
  return options.metricsHost ?? (fromEnv ? fromEnv : DEFAULT_METRICS_HOST);
}

/**
 * Sets up @opentelemetry/sdk-node for traces and serves prom-client's registry on /metrics. OTel
 * metrics and logs pipelines are not started: the metrics of this package are prom-client's.
 * Nothing started here keeps the process alive.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<TelemetryHandle> {
  const registry = options.registry ?? globalRegister;
  // Before anything starts: a name clash in the registry is an error with nothing to undo.
  const removeServiceInfo = options.serviceInfo === false ? undefined : registerServiceInfo(registry, resolveServiceName(options.serviceName));
  const pipeline = startTracePipeline(options);
  let server: MetricsServer | undefined;
  if (options.metricsPort !== false) {
    try {
      server = await serveMetrics(registry, { host: metricsHostOf(options), port: options.metricsPort ?? DEFAULT_METRICS_PORT, path: options.metricsPath ?? '/metrics' });
    } catch (err) {
      removeServiceInfo?.();
      await pipeline.shutdown().catch(() => undefined);
      throw err;
    }
  }

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= Promise.all([pipeline.shutdown(), server?.close()]).then(() => removeServiceInfo?.());
    return stopped;
  };
  return {
    metricsUrl: server?.url,
    metricsPort: server?.port,
    registry,
    forceFlush: () => pipeline.forceFlush(),
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
