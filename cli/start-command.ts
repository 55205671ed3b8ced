import { parseArgs } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConfigError } from '@eda-harness/core';
import { Environment } from '@eda-harness/environment';
import { startReferenceSystem, startTraffic, type ReferenceServiceName } from '@eda-harness/examples';
import { startTelemetry } from '@eda-harness/instrumentation';
import { ATTR, LABEL, METRIC } from '@eda-harness/semconv';
import { formatDescription } from './env-command';
import { counterTotal, histogramBuckets, histogramQuantile, parentId, renderTraceTree } from './demo-report';

export const START_HELP = `Usage: eda-harness start [--rate <orders/s>] [--duration <s>] [--metrics-port <port>] [--metrics-host <ip>]

The demo. Brings up the embedded environment (Kafka, RabbitMQ, Toxiproxy in front of both), runs
the reference system (order service → Kafka → inventory service; order service → RabbitMQ →
notification service, with a dead-letter queue) under steady traffic with a few poison messages,
serves /metrics, and prints a live summary: messages per second, end-to-end latency p50/p95/p99,
DLQ count, and one sample trace drawn as a tree of spans across the three services.
Ctrl-C tears everything down.

Options:
  --rate <n>           orders per second (default 10)
  --duration <s>       stop by itself after this many seconds (default: run until Ctrl-C)
  --metrics-port <p>   port of /metrics (default 9464, or any free port if 9464 is taken)
  --metrics-host <ip>  interface /metrics listens on (default 127.0.0.1; 0.0.0.0 in a container)
  --interval <s>       seconds between summary lines (default 3)

Spans also go to an OTLP/HTTP endpoint when OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, for example a local Jaeger on http://localhost:4318.`;

/** Keeps recent traces in memory for the summary's tree, and forwards to OTLP when configured. */
class DemoSpanCollector implements SpanExporter {
  private readonly traces = new Map<string, ReadableSpan[]>();
  constructor(private readonly forward: SpanExporter | undefined) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const s of spans) {
      const id = s.spanContext().traceId;
      const list = this.traces.get(id) ?? [];
      list.push(s);
      this.traces.delete(id);
      this.traces.set(id, list);
    }
    while (this.traces.size > 500) this.traces.delete(this.traces.keys().next().value as string);
    if (this.forward) this.forward.export(spans, done);
    else done({ code: ExportResultCode.SUCCESS });
  }

  /**
   * The most recent trace in which an order crossed both brokers, every consumer finished, and
   * every span has arrived. Each service exports through its own batch processor, so a trace's
   * consumer spans can arrive before its producer and root spans: it counts only once it is
   * connected, with one root and every other span's parent present.
   */
  sampleTrace(): ReadableSpan[] | undefined {
    return [...this.traces.values()].reverse().find((spans) => {
      const systems = new Set(spans.filter((s) => s.kind === SpanKind.CONSUMER && s.status.code !== 2).map((s) => s.attributes[ATTR.MESSAGING_SYSTEM]));
      if (!systems.has('kafka') || !systems.has('rabbitmq')) return false;
      const ids = new Set(spans.map((s) => s.spanContext().spanId));
      const roots = spans.filter((s) => parentId(s) === undefined);
      return roots.length === 1 && spans.every((s) => parentId(s) === undefined || ids.has(parentId(s) as string));
    });
  }

  async shutdown(): Promise<void> {
    await this.forward?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.forward?.forceFlush?.();
  }
}

/** The demo runs the three services in one process, each with its own tracer provider and service.name. */
function serviceOf(span: ReadableSpan): string {
  const s = span as ReadableSpan & { resource?: { attributes: Record<string, unknown> } };
  return String(s.resource?.attributes['service.name'] ?? '?');
}

function ms(seconds: number | undefined): string {
  return seconds === undefined ? '   -  ' : `${(seconds * 1000).toFixed(1).padStart(6)}`;
}

export async function startCommand(argv: string[] = []): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      interval: { type: 'string' },
    },
    strict: true,
  });
  const num = (name: string, raw: string | undefined, fallback: number): number => {
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${name} must be a non-negative number (got "${raw}")`);
    return n;
  };
  const rate = num('rate', values.rate, 10);
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, 0);
  const intervalS = Math.max(1, num('interval', values.interval, 3));

  const t0 = Date.now();
  const env = await new Environment().withKafka().withRabbitMq().withToxiproxy().withSignalHandlers(false).start();
  let teardown: Promise<void> | undefined;
  const steps: (() => Promise<unknown>)[] = [() => env.stop()];
  const stopAll = (): Promise<void> =>
    (teardown ??= (async () => {
      for (const step of steps.reverse()) await step().catch((err: unknown) => console.error(`teardown: ${String(err)}`));
    })());
  const stopRequested = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('Ctrl-C'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    if (duration !== undefined) setTimeout(() => resolve(`--duration ${duration}s`), duration * 1000).unref();
  });

  try {
    console.log(formatDescription(env.describe()));
    const otlpConfigured = Boolean(process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] || process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
    const collector = new DemoSpanCollector(otlpConfigured ? new OTLPTraceExporter() : undefined);
    const wanted = values['metrics-port'] === undefined ? 9464 : num('metrics-port', values['metrics-port'], 9464);
    const metricsHost = values['metrics-host'] ?? '127.0.0.1';
    const telemetry = await startTelemetry({ serviceName: 'eda-harness-demo', metricsPort: wanted, metricsHost, traceExporter: collector }).catch(() =>
      // 9464 taken (another demo, an exporter): any free port rather than failing the demo.
      startTelemetry({ serviceName: 'eda-harness-demo', metricsPort: 0, metricsHost, traceExporter: collector }),
    );
    steps.push(() => telemetry.shutdown());
    const providers = new Map<ReferenceServiceName, BasicTracerProvider>();
    const providerFor = (service: ReferenceServiceName): BasicTracerProvider => {
      let p = providers.get(service);
      if (!p) {
        p = new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': service }),
          spanProcessors: [new BatchSpanProcessor(collector, { scheduledDelayMillis: 500 })],
        });
        providers.set(service, p);
      }
      return p;
    };
    steps.push(() => Promise.all([...providers.values()].map((p) => p.shutdown())));
    const system = await startReferenceSystem({
      kafkaBrokers: env.getKafkaBrokers(),
      amqpUrl: env.getAmqpUrl(),
      instrumentation: (service) => ({ registry: telemetry.registry, tracerProvider: providerFor(service) }),
      logger: { info: () => undefined, warn: () => undefined },
    });
    steps.push(() => system.stop());
    const traffic = startTraffic(system, { ordersPerSecond: rate, poisonEvery: 25, bouncingEvery: 40 });
    steps.push(() => traffic.stop());

    console.log(`\nReference system running: ${rate} orders/s, a poison email command every 25 orders, an undeliverable email every 40.`);
    console.log(`Metrics: ${telemetry.metricsUrl}${otlpConfigured ? '   Traces: OTLP/HTTP to the configured endpoint' : '   (set OTEL_EXPORTER_OTLP_ENDPOINT to send traces to a collector)'}`);
    console.log(`Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Press Ctrl-C to stop.\n`);
    console.log('  time   sent/s  consumed/s   e2e p50 / p95 / p99 (ms)    DLQ  handler errors');

    const registry = telemetry.registry;
    let prev = { at: Date.now(), sent: 0, consumed: 0, buckets: [] as { le: number; count: number }[] };
    let shownTrace = false;
    const tick = async (): Promise<void> => {
      const now = Date.now();
      const sent = await counterTotal(registry, METRIC.SENT_MESSAGES.name);
      const consumed = await counterTotal(registry, METRIC.CONSUMED_MESSAGES.name);
      const errors = await counterTotal(registry, METRIC.CONSUMED_MESSAGES.name, (labels) => Boolean(labels[LABEL.ERROR_TYPE]));
      const dlq = await counterTotal(registry, METRIC.DLQ_MESSAGES.name);
      const buckets = await histogramBuckets(registry, METRIC.E2E_LATENCY.name, { stage: 'processed' });
      // Quantiles over this interval only (bucket deltas), so the line is live, not cumulative.
      const delta = buckets.map((b) => ({ le: b.le, count: b.count - (prev.buckets.find((p) => p.le === b.le)?.count ?? 0) }));
      const secs = (now - prev.at) / 1000;
      const q = (x: number): string => ms(histogramQuantile(x, delta));
      const elapsed = `${Math.round((now - t0) / 1000)}s`.padStart(6);
      console.log(`${elapsed} ${((sent - prev.sent) / secs).toFixed(1).padStart(8)} ${((consumed - prev.consumed) / secs).toFixed(1).padStart(11)}   ${q(0.5)} / ${q(0.95)} / ${q(0.99)}   ${String(dlq).padStart(6)}  ${String(errors).padStart(6)}`);
      prev = { at: now, sent, consumed, buckets };
      if (!shownTrace) {
        const sample = collector.sampleTrace();
        if (sample) {
          shownTrace = true;
          console.log(`\nA sample order, as one trace across the three services:\n${renderTraceTree(sample, serviceOf)}\n`);
        }
      }
    };
    const timer = setInterval(() => void tick().catch((err: unknown) => console.error(`summary: ${String(err)}`)), intervalS * 1000);
    steps.push(async () => clearInterval(timer));

    const why = await stopRequested;
    console.log(`\nstopping (${why})…`);
    clearInterval(timer);
    const stats = await traffic.stop();
    await tick();
    console.log(`orders ${stats.orders}, poison ${stats.poison}, undeliverable ${stats.bouncing}, send errors ${stats.errors}`);
  } finally {
    await stopAll();
    console.log('stopped; every process the demo started has exited.');
  }
  return 0;
}
