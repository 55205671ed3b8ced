import { ConfigError } from '@eda-harness/core';
import type { JaegerOptions } from './types';

/** Every port Jaeger listens on, each from the run's allocator: nothing of its defaults is used. */
export interface JaegerPorts {
  readonly otlpGrpc: number;
  readonly otlpHttp: number;
  readonly queryHttp: number;
  readonly queryGrpc: number;
  readonly healthHttp: number;
  readonly healthGrpc: number;
  /** Jaeger's own metrics (the collector's telemetry, Prometheus format); its default is 0.0.0.0:8888. */
  readonly metrics: number;
}

export const JAEGER_PORT_NAMES: readonly (keyof JaegerPorts)[] = ['otlpGrpc', 'otlpHttp', 'queryHttp', 'queryGrpc', 'healthHttp', 'healthGrpc', 'metrics'];

export const DEFAULT_JAEGER_MAX_TRACES = 100_000;

/** `maxTraces` checked: a positive integer (a ConfigError names the bad value). */
export function checkJaegerOptions(options: JaegerOptions, source = 'withJaeger'): JaegerOptions {
  const max = options.maxTraces;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 1)) {
    throw new ConfigError(`${source}: maxTraces must be a positive integer (got ${String(max)})`);
  }
  return options;
}

/**
 * Jaeger v2's configuration (an OpenTelemetry Collector config) for one run: OTLP receivers (gRPC
 * and HTTP), memory storage, the query extension (HTTP and gRPC APIs), a health check, and Jaeger's
 * own metrics, every endpoint on 127.0.0.1 and a port of its own. Jaeger's default all-in-one
 * config listens on more (Jaeger Thrift, Zipkin, remote sampling, expvar, zpages): none of those is
 * configured, so none listens.
 */
export function jaegerConfig(ports: JaegerPorts, options: JaegerOptions = {}): string {
  checkJaegerOptions(options);
  for (const name of JAEGER_PORT_NAMES) {
    const port = ports[name];
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`internal: Jaeger's ${name} port is ${String(port)}`);
  }
  const at = (port: number): string => `127.0.0.1:${port}`;
  const maxTraces = options.maxTraces ?? DEFAULT_JAEGER_MAX_TRACES;
  return `# Written by eda-harness for one run: every endpoint on 127.0.0.1.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${ports.metrics}
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: ${maxTraces}
  jaeger_query:
    storage:
      traces: memory_store
    # Span times exactly as the services reported them.
    max_clock_skew_adjust: 0s
    # Jaeger traces its own queries by default, exporting them over OTLP/gRPC to the default
    # collector port (whatever listens there, another run's Jaeger say), and its exit waits for that.
    enable_tracing: false
    http:
      endpoint: ${at(ports.queryHttp)}
    grpc:
      endpoint: ${at(ports.queryGrpc)}
  healthcheckv2:
    use_v2: true
    http:
      endpoint: ${at(ports.healthHttp)}
    grpc:
      endpoint: ${at(ports.healthGrpc)}
      transport: tcp

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${at(ports.otlpGrpc)}
      http:
        endpoint: ${at(ports.otlpHttp)}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
`;
}

/** Every `host:port` a config names as an endpoint or a listening address (for checks and tests). */
export function jaegerConfigListens(config: string): string[] {
  const endpoints = [...config.matchAll(/^\s*endpoint:\s*(\S+)\s*$/gm)].map((m) => m[1] as string);
  const prometheus = /prometheus:\s*\n\s*host:\s*(\S+)\s*\n\s*port:\s*(\d+)/.exec(config);
  return prometheus ? [...endpoints, `${prometheus[1]}:${prometheus[2]}`] : endpoints;
}
