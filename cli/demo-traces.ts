import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { jaegerQuery } from '@eda-harness/environment';
import { renderSpanTree, treeSpanOfTrace } from './demo-report';

/**
 * Where the demo's spans go: to the Jaeger of the environment (OTLP/HTTP), and to the collector
 * the user named in OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as well
 * (both, unless that collector is the Jaeger itself: an external Jaeger is named by those
 * variables). Then the sample trace is read back from Jaeger's query API.
 */

export interface TraceDestinations {
  readonly exporters: readonly SpanExporter[];
  /** For the summary: where the spans go. */
  readonly description: string;
}

export interface TraceDestinationOptions {
  /** The environment's Jaeger OTLP/HTTP base URL (`env.getOtlpEndpoint()`), when the demo runs one. */
  readonly jaegerOtlpUrl: string | undefined;
  /** Whether that Jaeger is the user's (external provider): its endpoint is the user's variable. */
  readonly jaegerIsUsers: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Whether the demo starts (or uses) a Jaeger: yes by default; not with --no-jaeger; not when every
 * service must be the user's (EDA_HARNESS_PROVIDER=external) and no JAEGER_QUERY_URL names theirs,
 * which is said (`note`) rather than failing a demo that runs without it.
 */
export function jaegerPlan(wanted: boolean, env: Readonly<Record<string, string | undefined>>): { readonly start: boolean; readonly note: string | undefined } {
  if (!wanted) return { start: false, note: undefined };
  if (env['EDA_HARNESS_PROVIDER']?.trim() === 'external' && !env['JAEGER_QUERY_URL']?.trim()) {
    return { start: false, note: 'Jaeger: none (EDA_HARNESS_PROVIDER=external and no JAEGER_QUERY_URL names yours: set it, with OTEL_EXPORTER_OTLP_ENDPOINT, to use it); the sample trace is drawn from memory.' };
  }
  return { start: true, note: undefined };
}

/** The OTLP endpoint the user set, or undefined (the traces variable wins, as in the SDK). */
export function userOtlpEndpoint(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  return traces ? traces : base ? base : undefined;
}

/** Which exporters the demo uses, as plain decisions (unit-tested): Jaeger, the user's collector, or both. */
export function traceRouting(options: TraceDestinationOptions): { jaeger: string | undefined; user: string | undefined } {
  const user = userOtlpEndpoint(options.env);
  const jaeger = options.jaegerOtlpUrl === undefined ? undefined : `${options.jaegerOtlpUrl.replace(/\/+$/, '')}/v1/traces`;
  return { jaeger, user: options.jaegerIsUsers && jaeger !== undefined ? undefined : user };
}

/**
 * OTLP/HTTP exporters for the routing decided by {@link traceRouting}: protobuf (the SDK's default)
 * to Jaeger; to the user's collector what OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL asks for
 * (`http/json` or, by default, `http/protobuf`).
 */
export function traceDestinations(options: TraceDestinationOptions): TraceDestinations {
  const { jaeger, user } = traceRouting(options);
  const exporters: SpanExporter[] = [];
  const parts: string[] = [];
  if (jaeger) {
    exporters.push(new OTLPTraceExporter({ url: jaeger }));
    parts.push(`Jaeger (${jaeger}, protobuf)`);
  }
  if (user) {
    // The SDK reads the variables itself (endpoint, headers, …).
    const protocol = (options.env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || options.env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/protobuf').trim();
    exporters.push(protocol === 'http/json' ? new OtlpJsonExporter() : new OTLPTraceExporter());
    parts.push(`your collector (${user}, ${protocol === 'http/json' ? 'JSON' : 'protobuf'})`);
  }
  return { exporters, description: parts.length === 0 ? 'nowhere but this summary (set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector)' : `OTLP/HTTP to ${parts.join(' and ')}` };
}

/** Exports to every destination; done once all answered, failed when any failed (the first error). */
export function exportToAll(exporters: readonly SpanExporter[], spans: ReadableSpan[], done: (result: ExportResult) => void): void {
  if (exporters.length === 0) {
    done({ code: ExportResultCode.SUCCESS });
    return;
  }
  let waiting = exporters.length;
  let failed: ExportResult | undefined;
  for (const e of exporters) {
    e.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) failed ??= result;
      if (--waiting === 0) done(failed ?? { code: ExportResultCode.SUCCESS });
    });
  }
}

/**
 * The sample trace as Jaeger's query API returns it, drawn as a tree, once it holds `minSpans`
 * spans of the three services (each service's batch processor sends on its own schedule).
 */
export async function sampleTraceFromJaeger(queryUrl: string, traceId: string, minSpans: number, services: readonly string[]): Promise<string> {
  const spans = await jaegerQuery(queryUrl).waitForTrace(traceId, { minSpans, services, timeoutMs: 15_000 });
  return renderSpanTree(spans.map(treeSpanOfTrace));
}

/** The command a user runs to fetch the trace (Jaeger's v3 query API, OTLP JSON). */
export function traceCurl(queryUrl: string, traceId: string): string {
  return `curl -s ${queryUrl.replace(/\/+$/, '')}/api/v3/traces/${traceId}`;
}
