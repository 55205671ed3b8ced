import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SpanExporter, SpanProcessor, Sampler } from '@opentelemetry/sdk-trace-base';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { register as globalRegister } from 'prom-client';
import type { Registry, RegistryContentType } from 'prom-client';

export interface TelemetryOptions {
  /** `service.name` of every span (OTEL_SERVICE_NAME, if set, wins as usual for resources from env). */
  readonly serviceName: string;
  /** Port of the /metrics server (default 9464, Prometheus' convention; 0 = any free port; false = no server). */
  readonly metricsPort?: number | false;
  /** Interface to listen on (default 0.0.0.0, so a Prometheus elsewhere can scrape). */
  readonly metricsHost?: string;
  /** Default "/metrics". */
  readonly metricsPath?: string;
  /** Registry to serve (default prom-client's global one, which the wrappers use by default). */
  readonly registry?: Registry<RegistryContentType>;
  /**
   * Span exporter. Default: OTLP/HTTP (JSON) configured by the standard OTEL_EXPORTER_OTLP_* variables,
   * unless OTEL_TRACES_EXPORTER is set, in which case the SDK builds the exporters it names.
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
  /** Flushes spans, shuts the SDK down and closes the metrics server. */
  shutdown(): Promise<void>;
}

/**
 * Sets up @opentelemetry/sdk-node for traces (OTLP/HTTP by default) and serves prom-client's
 * registry on /metrics. OTel metrics and logs pipelines are not started: the metrics of this
 * package are prom-client's, and a default OTLP metrics exporter would only log connection errors.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<TelemetryHandle> {
  // Loaded here, not at import: the SDK and exporter are ~0.5 s of module loading that services
  // using only the wrappers (with their own SDK set-up) should not pay.
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const registry = options.registry ?? globalRegister;
  const processors: SpanProcessor[] = [];
  const fromEnv = options.traceExporter === undefined && (process.env['OTEL_TRACES_EXPORTER'] ?? '') !== '';
  if (!fromEnv) processors.push(new BatchSpanProcessor(options.traceExporter ?? new OTLPTraceExporter()));
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    ...(fromEnv ? {} : { spanProcessors: processors }),
    ...(options.sampler ? { sampler: options.sampler } : {}),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [...(options.instrumentations ?? [])],
  });
  sdk.start();

  let server: Server | undefined;
  let metricsPort: number | undefined;
  let metricsUrl: string | undefined;
  const requestedPort = options.metricsPort;
  if (requestedPort !== false) {
    const host = options.metricsHost ?? '0.0.0.0';
    const path = options.metricsPath ?? '/metrics';
    server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== path) {
        res.writeHead(404).end();
        return;
      }
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
      );
    });
    const s = server;
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(requestedPort ?? 9464, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await sdk.shutdown().catch(() => undefined);
      throw err;
    }
    metricsPort = (s.address() as AddressInfo).port;
    metricsUrl = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${metricsPort}${path}`;
  }

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      const closing = server ? new Promise<void>((resolve) => server?.close(() => resolve())) : Promise.resolve();
      server?.closeAllConnections();
      await Promise.all([sdk.shutdown(), closing]);
    })();
    return stopped;
  };
  return {
    metricsUrl,
    metricsPort,
    registry,
    forceFlush: async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
