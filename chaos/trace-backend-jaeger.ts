import { setTimeout as delay } from 'node:timers/promises';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigError, errorMessage, type ProgressSink } from '@eda-harness/core';
import { jaegerQuery, type StartedEnvironment } from '@eda-harness/environment';
import { OtlpHttpSpanExporter } from './otlp-http-exporter';
import type { TraceBackend, TraceBackendRun, TraceReadRequest, SpansRead } from './trace-backend';
import { batches, incompleteTraces, spanRecordsOf, traceIdsToFetch, type BackendSpan } from './trace-backend-spans';
import type { SpanRecord, SpanSource } from './types';

/**
 * Jaeger as the traces invariant's source: the workload's spans are exported over real OTLP/HTTP
 * to the environment's Jaeger (or the URLs given), and after the run every trace the invariant
 * needs (every delivery's, every producer span's) is read back through Jaeger's query API. The
 * invariant then checks what Jaeger holds, so a span exported but never stored breaks its message.
 */

/** Reads one trace; an unknown trace is an empty list, any other failure is thrown. */
export interface TraceReader {
  trace(traceId: string): Promise<readonly BackendSpan[]>;
}

export interface JaegerTracesOptions {
  /** Where spans go: an OTLP/HTTP base URL (traces to `<url>/v1/traces`). Default: the environment's Jaeger. */
  readonly otlpHttpUrl?: string;
  /** Where they are read back: Jaeger's query API base URL. Default: the environment's Jaeger. */
  readonly queryUrl?: string;
  /** Traces read at once (default 8). */
  readonly concurrency?: number;
  /**
   * How long to keep asking again for traces Jaeger holds fewer spans of than were exported
   * (default 10 000 ms): it may still be ingesting them. After that, what it has is what is checked.
   */
  readonly settleMs?: number;
  /** How the traces are read (default `jaegerQuery(queryUrl)` from @eda-harness/environment). */
  readonly reader?: (queryUrl: string) => TraceReader;
  /**
   * Test hook: spans for which it returns true are counted as exported but never sent, a loss on
   * the way to Jaeger (the negative control of the traces invariant). Not for production use.
   */
  readonly loseOnTheWay?: (span: ReadableSpan) => boolean;
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_SETTLE_MS = 10_000;
const RETRY_INTERVAL_MS = 500;

/** The OTLP exporter, counting what it was handed per trace and what failed to send. */
class CountingExporter implements SpanExporter {
  readonly perTrace = new Map<string, number>();
  exported = 0;
  failed = 0;
  lastError: string | undefined;

  constructor(
    private readonly inner: SpanExporter,
    private readonly lose: ((span: ReadableSpan) => boolean) | undefined,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const s of spans) {
      const t = s.spanContext().traceId;
      this.perTrace.set(t, (this.perTrace.get(t) ?? 0) + 1);
    }
    this.exported += spans.length;
    const sent = this.lose ? spans.filter((s) => !this.lose!(s)) : spans;
    if (sent.length === 0) return done({ code: ExportResultCode.SUCCESS });
    this.inner.export(sent, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        this.failed += sent.length;
        this.lastError = result.error ? errorMessage(result.error) : 'export failed';
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const PROGRESS_EVERY_MS = 2000;

/** Reads `ids` `concurrency` at a time; the spans of each trace by id. Any failure rejects. A progress line every 2 s of a long read. */
async function readTraces(reader: TraceReader, ids: readonly string[], concurrency: number, progress: ProgressSink): Promise<Map<string, readonly BackendSpan[]>> {
  const out = new Map<string, readonly BackendSpan[]>();
  let said = Date.now();
  for (const batch of batches(ids, concurrency)) {
    const read = await Promise.all(batch.map(async (id) => [id, await reader.trace(id)] as const));
    for (const [id, spans] of read) out.set(id, spans);
    if (Date.now() - said >= PROGRESS_EVERY_MS && out.size < ids.length) {
      said = Date.now();
      progress(`traces: ${out.size} of ${ids.length} traces read`);
    }
  }
  return out;
}

export function jaegerTraces(options: JaegerTracesOptions = {}): TraceBackend {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigError(`jaegerTraces: concurrency must be a positive integer, got ${concurrency}`);
  const given = options.otlpHttpUrl !== undefined && options.queryUrl !== undefined;
  return {
    name: 'jaeger',
    needs: given ? {} : { jaeger: true },
    open(env: StartedEnvironment, progress: ProgressSink): TraceBackendRun {
      const otlpHttpUrl = (options.otlpHttpUrl ?? env.jaeger?.otlpHttpUrl)?.replace(/\/+$/, '');
      const queryUrl = (options.queryUrl ?? env.jaeger?.queryUrl)?.replace(/\/+$/, '');
      if (otlpHttpUrl === undefined || queryUrl === undefined) {
        throw new ConfigError('the traces invariant was told to read its spans from Jaeger, but the environment has no Jaeger', {
          hint: 'start the environment with new Environment().withJaeger() (eda-harness env up --jaeger), or give jaegerTraces({ otlpHttpUrl, queryUrl })',
        });
      }
      const exporter = new CountingExporter(new OtlpHttpSpanExporter(`${otlpHttpUrl}/v1/traces`), options.loseOnTheWay);
      // A queue large enough for a whole scenario: the processor drops spans silently when it is full.
      const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 100_000, maxExportBatchSize: 512, scheduledDelayMillis: 500 });
      progress(`traces: the workload's spans go to Jaeger over OTLP/HTTP (protobuf) at ${otlpHttpUrl}/v1/traces and are read back from ${queryUrl}`);
      const reader = (options.reader ?? ((url: string) => jaegerQuery(url)))(queryUrl);
      return {
        spanProcessors: [processor],
        otlpHttpUrl,
        read: (request) => readBack(request, { reader, exporter, processor, queryUrl, concurrency, settleMs }),
        close: () => processor.shutdown(),
      };
    },
  };
}

async function readBack(
  request: TraceReadRequest,
  o: { reader: TraceReader; exporter: CountingExporter; processor: BatchSpanProcessor; queryUrl: string; concurrency: number; settleMs: number },
): Promise<SpansRead> {
  const { progress } = request;
  await o.processor.forceFlush();
  const ids = traceIdsToFetch(request.deliveries, request.recorded);
  // What Jaeger should hold per trace: the exporter's spans and any relayed to it (a service's).
  const expected = new Map(o.exporter.perTrace);
  for (const [t, n] of request.relayed?.perTrace ?? []) expected.set(t, (expected.get(t) ?? 0) + n);
  const exported = [...expected.values()].reduce((a, b) => a + b, 0);
  const failed = o.exporter.failed + (request.relayed?.failed ?? 0);
  const base = { backend: 'Jaeger', url: o.queryUrl, traces: ids.length, exported, exportFailed: failed };
  if (failed > 0) progress(`traces: ${failed} of ${exported} spans could not be sent to Jaeger (${o.exporter.lastError ?? request.relayed?.lastError ?? 'unknown error'})`);
  progress(`traces: reading ${ids.length} traces back from Jaeger at ${o.queryUrl} (${o.concurrency} at a time)`);
  const started = Date.now();
  const byTrace = new Map<string, readonly BackendSpan[]>();
  try {
    let asking = ids;
    for (let pass = 1; ; pass++) {
      for (const [id, spans] of await readTraces(o.reader, asking, o.concurrency, progress)) byTrace.set(id, spans);
      const counts = new Map([...byTrace].map(([id, spans]) => [id, spans.length]));
      asking = incompleteTraces(ids, counts, expected);
      if (asking.length === 0 || Date.now() - started >= o.settleMs) break;
      progress(`traces: Jaeger holds fewer spans than were exported for ${asking.length} traces; asking again (pass ${pass + 1})`);
      await delay(RETRY_INTERVAL_MS);
    }
  } catch (err) {
    const error = `reading traces from ${o.queryUrl}: ${errorMessage(err)}`;
    progress(`traces: ${error}`);
    const source: SpanSource = { ...base, tracesFound: 0, spans: 0, error };
    return { spans: [], source };
  }
  const spans: SpanRecord[] = spanRecordsOf([...byTrace.values()].flat());
  const found = [...byTrace.values()].filter((s) => s.length > 0).length;
  progress(`traces: ${found} of ${ids.length} traces (${spans.length} spans; ${exported} sent) read from Jaeger in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { spans, source: { ...base, tracesFound: found, spans: spans.length } };
}
