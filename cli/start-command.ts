import { createServer, isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConfigError, KAFKA_SECURITY_VARIABLES, errorMessage, kafkaClientSecurity } from '@eda-harness/core';
import { kafkaClientOptions, kafkaClientSecurityFromEnv, kafkaConnectionOf } from '@eda-harness/chaos';
import { Environment, checkKafkaSecurity, type KafkaSecurityMode } from '@eda-harness/environment';
import { startReferenceSystem, startTraffic, type ReferenceServiceName } from '@eda-harness/examples';
import { startTelemetry } from '@eda-harness/instrumentation';
import { ATTR, LABEL, METRIC } from '@eda-harness/semconv';
import { formatDescription } from './env-command';
import { counterTotal, histogramBuckets, histogramQuantile, parentId, renderTraceTree } from './demo-report';
import { alertChanges, alertStates, fetchAlerts, type AlertState } from './demo-alerts';
import { expectedDemoAlerts, scrapeTarget, startDemoObservability } from './demo-observability';
import { startPausedConsumer } from './demo-paused-consumer';
import { exportToAll, jaegerPlan, sampleTraceFromJaeger, traceCurl, traceDestinations } from './demo-traces';

export const START_HELP = `Usage: eda-harness start [--rate <orders/s>] [--duration <s>] [--metrics-port <port>] [--metrics-host <ip>] [--kafka-security <s>] [--no-jaeger]

The demo: the whole picture, natively (no Docker). Brings up the embedded environment (Kafka,
RabbitMQ, Toxiproxy in front of both, Jaeger v2 as the trace backend), runs the reference system
(order service → Kafka → inventory service; order service → RabbitMQ → notification service,
with a dead-letter queue) under steady traffic with a few poison messages, serves its /metrics,
runs the eda-harness exporter (consumer lag, dead letters) and starts Prometheus (Debian's
package) with the eda-harness alert pack, scraping both. Every span goes to Jaeger over OTLP/HTTP;
the summary's sample trace is the one Jaeger's query API returns, with a curl line to fetch it.
Jaeger's first run builds it from source (about 5 minutes, with progress; cached afterwards). A
module build of Jaeger has no web UI: its query API (/api/v3/services, /api/v3/traces/<id>) is
what is there.

An "analytics-service" consumer group reads the orders for 10 s, then pauses, so its lag grows.
The alert pack uses demo thresholds and waits (lag warning 10 s, critical 45 s; stopped after
30 s; \`for:\` 10–20 s) so within about a minute DeadLetterMessagesArriving, DeadLetterRatioHigh,
KafkaConsumerLagSecondsHigh and KafkaConsumerStopped go pending, then firing: on Prometheus's
alerts page (its classic web UI, <prometheus>/classic/alerts) and as lines in the summary. The
summary prints messages per second, end-to-end latency p50/p95/p99, the DLQ count and alert
changes. Ctrl-C ends every process the demo started.

Options:
  --rate <n>           orders per second, above 0 and at most 1000 (default 10)
  --duration <s>       stop by itself after this many seconds (default: run until Ctrl-C)
  --metrics-port <p>   port of /metrics (default 9464, or any free port if it is taken; 0: any)
  --metrics-host <ip>  interface /metrics listens on (default 127.0.0.1; 0.0.0.0 in a container)
  --interval <s>       seconds between summary lines, 1 to 86400 (default 3)
  --kafka-security <s> plaintext (default) or sasl_ssl: Kafka gets a SASL_SSL listener with SCRAM
                       users and a CA made at start, and every client of the demo uses it
  --no-jaeger          no Jaeger (a slow machine, no Go for the first build): the sample trace
                       is drawn from the spans recorded in the demo's process

Every flag, EDA_HARNESS_PROVIDER and the broker variables (KAFKA_BROKERS, AMQP_URL, see
\`eda-harness env --help\`) are checked before anything is installed or started.

A secured Kafka you run: name it in KAFKA_BROKERS and give the exporter's settings,
KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_CA_FILE (…_CERT_FILE, …_KEY_FILE, …_SERVERNAME),
KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE (or OAUTHBEARER's
KAFKA_SASL_OAUTHBEARER_TOKEN_FILE / _TOKEN_COMMAND); the reference system's clients use them.

Your own collector: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set,
spans go there as well as to the demo's Jaeger (OTLP/HTTP protobuf). Your own Jaeger instead of the
demo's: JAEGER_QUERY_URL with OTEL_EXPORTER_OTLP_ENDPOINT naming its OTLP/HTTP receiver; spans
are then sent there once.`;

/**
 * Keeps recent traces in memory to pick the summary's sample (a complete one), and forwards every
 * span to the OTLP destinations (Jaeger, the user's collector).
 */
class DemoSpanCollector implements SpanExporter {
  private readonly traces = new Map<string, ReadableSpan[]>();
  constructor(private readonly forward: readonly SpanExporter[]) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const s of spans) {
      const id = s.spanContext().traceId;
      const list = this.traces.get(id) ?? [];
      list.push(s);
      this.traces.delete(id);
      this.traces.set(id, list);
    }
    while (this.traces.size > 500) this.traces.delete(this.traces.keys().next().value as string);
    exportToAll(this.forward, spans, done);
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

  /** Each service's provider calls this when it shuts down; the destinations close once, in {@link close}. */
  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {
    await Promise.all(this.forward.map((f) => f.forceFlush?.()));
  }

  async close(): Promise<void> {
    await Promise.all(this.forward.map((f) => f.shutdown()));
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

/** The demo's stuck consumer group, and how long it consumes before it pauses. */
const ANALYTICS_GROUP = 'analytics-service';
const SERVICES: readonly ReferenceServiceName[] = ['order-service', 'inventory-service', 'notification-service'];
const PAUSE_AFTER_S = 10;

/** The longest a Node timer can wait (2^31 - 1 ms): longer ones fire at once. */
const MAX_TIMER_SECONDS = Math.floor(0x7fffffff / 1000);
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

export interface StartFlags {
  readonly rate: number;
  readonly duration: number | undefined;
  readonly intervalS: number;
  readonly metricsPort: number;
  readonly metricsHost: string;
  /** The Kafka the demo starts: plaintext only, or with a SASL_SSL listener its clients use. */
  readonly kafkaSecurity: KafkaSecurityMode | undefined;
  /** Jaeger as the trace backend (default); `--no-jaeger` leaves it out. */
  readonly jaeger: boolean;
}

/** The demo's flags, every one checked (ConfigError naming the flag) before anything starts. */
export function parseStartFlags(argv: string[]): StartFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      interval: { type: 'string' },
      'kafka-security': { type: 'string' },
      'no-jaeger': { type: 'boolean' },
    },
    strict: true,
  });
  const num = (name: string, raw: string | undefined, fallback: number, min: number, max: number, what: string): number => {
    if (raw === undefined) return fallback;
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (min > 0 && n <= 0)) throw new ConfigError(`--${name} must be ${what} (got "${raw}")`);
    return n;
  };
  const rate = num('rate', values.rate, 10, Number.MIN_VALUE, 1000, 'a number of orders per second above 0, at most 1000');
  const duration = values.duration === undefined ? undefined : num('duration', values.duration, 0, Number.MIN_VALUE, MAX_TIMER_SECONDS, `a number of seconds above 0, at most ${MAX_TIMER_SECONDS} (about 24 days)`);
  const intervalS = num('interval', values.interval, 3, 1, 86_400, 'a number of seconds from 1 to 86400');
  const metricsPort = num('metrics-port', values['metrics-port'], 9464, 0, 65_535, 'a port number from 0 to 65535 (0: any free port)');
  if (!Number.isInteger(metricsPort)) throw new ConfigError(`--metrics-port must be a port number from 0 to 65535 (got "${values['metrics-port']}")`);
  const metricsHost = values['metrics-host'] ?? '127.0.0.1';
  if (isIP(metricsHost) === 0 && !HOST_NAME.test(metricsHost)) throw new ConfigError(`--metrics-host must be an IP address or host name of this machine (got "${metricsHost}")`);
  const kafkaSecurity = values['kafka-security'] === undefined ? undefined : checkKafkaSecurity(values['kafka-security'], '--kafka-security');
  return { rate, duration, intervalS, metricsPort, metricsHost, kafkaSecurity, jaeger: values['no-jaeger'] !== true };
}

/**
 * Whether /metrics can listen on host:port, tried before the brokers start: a port in use is
 * fine (the demo then takes any free port), anything else (an address this machine does not
 * have, a port it may not open) is a ConfigError naming the flag.
 */
async function checkMetricsListen(host: string, port: number): Promise<void> {
  const server = createServer();
  const code = await new Promise<string | undefined>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen(port, host, () => resolve(undefined));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (code === undefined || code === 'EADDRINUSE') return;
  const why = code === 'EADDRNOTAVAIL' ? 'this machine has no such address' : code === 'EACCES' ? 'not permitted' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'no such host' : code;
  throw new ConfigError(`cannot serve /metrics on --metrics-host ${host} --metrics-port ${port}: ${why} (${code})`, {
    hint: 'Use an address of this machine (127.0.0.1, or 0.0.0.0 for every interface) and a port you may open.',
  });
}

export async function startCommand(argv: string[] = []): Promise<number> {
  const { rate, duration, intervalS, metricsPort: wanted, metricsHost, kafkaSecurity, jaeger } = parseStartFlags(argv);
  // TLS / SASL settings of a Kafka the user runs, checked (and their files read) before anything starts.
  const clientSecurity = kafkaClientSecurityFromEnv(process.env);
  if (clientSecurity) kafkaClientSecurity(clientSecurity, { field: (f) => KAFKA_SECURITY_VARIABLES[f] });
  await checkMetricsListen(metricsHost, wanted);

  const t0 = Date.now();
  // Ctrl-C while the environment starts (a first run builds Jaeger for minutes): exit at once; the
  // environment layer's exit hook then ends every process it registered so far, by pid.
  let onSignal = (why: string): void => {
    console.error(`\n${why} during start-up: ending every process started so far.`);
    process.exit(130);
  };
  const onSigint = (): void => onSignal('Ctrl-C');
  const onSigterm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const builder = new Environment()
    .withKafka(kafkaSecurity ? { security: kafkaSecurity } : {})
    .withRabbitMq()
    .withToxiproxy()
    .withSignalHandlers(false);
  const jaegerChoice = jaegerPlan(jaeger, process.env);
  if (jaegerChoice.note) console.log(jaegerChoice.note);
  const env = await (jaegerChoice.start ? builder.withJaeger() : builder).start();
  let teardown: Promise<void> | undefined;
  const steps: (() => Promise<unknown>)[] = [() => env.stop()];
  const stopAll = (): Promise<void> =>
    (teardown ??= (async () => {
      for (const step of steps.reverse()) await step().catch((err: unknown) => console.error(`teardown: ${String(err)}`));
    })());
  const stopRequested = new Promise<string>((resolve) => {
    // From here on a signal stops the demo in order; a second one while stopping changes nothing.
    onSignal = (why) => {
      if (teardown) console.error(`${why}: already stopping, every process the demo started is being ended…`);
      resolve(why);
    };
    if (duration !== undefined) setTimeout(() => resolve(`--duration ${duration}s`), duration * 1000).unref();
  });

  try {
    console.log(formatDescription(env.describe()));
    const jaegerQueryUrl = env.jaeger ? env.getJaegerQueryUrl() : undefined;
    const destinations = traceDestinations({ jaegerOtlpUrl: env.jaeger ? env.getOtlpEndpoint() : undefined, jaegerIsUsers: env.jaeger?.provider === 'external', env: process.env });
    const collector = new DemoSpanCollector(destinations.exporters);
    steps.push(() => collector.close());
    const telemetry = await startTelemetry({ serviceName: 'eda-harness-demo', metricsPort: wanted, metricsHost, traceExporter: collector }).catch((err: unknown) => {
      // The port taken (another demo, an exporter): any free port rather than failing the demo.
      if ((err as { code?: unknown }).code !== 'EADDRINUSE') throw err;
      return startTelemetry({ serviceName: 'eda-harness-demo', metricsPort: 0, metricsHost, traceExporter: collector });
    });
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
    // The secured listener when the demo's Kafka has one, the user's settings for their own Kafka.
    const kafka = kafkaConnectionOf(env, clientSecurity);
    const system = await startReferenceSystem({
      kafkaBrokers: kafka.brokers,
      ...(kafka.security ? { kafkaSecurity: kafkaClientOptions(kafka) } : {}),
      amqpUrl: env.getAmqpUrl(),
      instrumentation: (service) => ({ registry: telemetry.registry, tracerProvider: providerFor(service) }),
      logger: { info: () => undefined, warn: () => undefined },
    });
    steps.push(() => system.stop());
    const traffic = startTraffic(system, { ordersPerSecond: rate, poisonEvery: 25, bouncingEvery: 40 });
    steps.push(() => traffic.stop());

    // The stuck consumer whose lag the alerts catch: a group of its own on the orders topic.
    const analytics = await startPausedConsumer({
      brokers: kafka.brokers,
      security: kafka.security,
      topic: system.names.ordersTopic,
      group: ANALYTICS_GROUP,
      pauseAfterMs: PAUSE_AFTER_S * 1000,
      onPause: (group) => console.log(`${`${Math.round((Date.now() - t0) / 1000)}s`.padStart(6)}  consumer group ${group} paused: its lag on ${system.names.ordersTopic} grows from now on`),
    });
    steps.push(() => analytics.stop());

    // The exporter and Prometheus with the alert pack, scraping the demo's /metrics and the exporter.
    const observability = await startDemoObservability({
      kafka,
      amqpUrl: env.getAmqpUrl(),
      rabbitMqManagementUrl: env.getRabbitMqManagementUrl(),
      appTarget: scrapeTarget(metricsHost, telemetry.metricsPort as number),
      progress: () => undefined,
    });
    steps.push(() => observability.stop());
    const promPid = observability.environment.prometheus?.node.pid;
    console.log(`Prometheus (native, with the eda-harness alert pack)\n  PROMETHEUS_URL=${observability.prometheusUrl}${promPid ? ` (pid ${promPid})` : ''}`);

    console.log(`\nReference system running: ${rate} orders/s, a poison email command every 25 orders, an undeliverable email every 40.`);
    if (kafka.security) console.log(`Kafka clients: ${(kafka.security.securityProtocol ?? 'tls/sasl').toUpperCase()}${kafka.security.sasl ? ` (${kafka.security.sasl.mechanism.toUpperCase()})` : ''} on ${kafka.brokers.join(',')}`);
    console.log(`Metrics: ${telemetry.metricsUrl}`);
    console.log(`Traces: ${destinations.description}`);
    if (jaegerQueryUrl) console.log(`Jaeger query API: ${jaegerQueryUrl}/api/v3/services   (a module build of Jaeger has no web UI: its query API is what is there)`);
    console.log(`Exporter: ${observability.exporterUrl}   (consumer lag and dead letters, read from Kafka and RabbitMQ)`);
    console.log(`Prometheus: ${observability.prometheusUrl}   alerts: ${observability.prometheusUrl}/classic/alerts   graph: ${observability.prometheusUrl}/classic/graph   targets: ${observability.prometheusUrl}/classic/targets`);
    console.log(`Alerts to expect (demo thresholds; \`eda-harness alerts --defaults\` shows the shipped ones):`);
    for (const a of expectedDemoAlerts(PAUSE_AFTER_S)) console.log(`  ${a.alert.padEnd(28)} ${a.when}: ${a.why}`);
    console.log(`Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s. Press Ctrl-C to stop.\n`);
    console.log('  time   sent/s  consumed/s   e2e p50 / p95 / p99 (ms)    DLQ  handler errors');

    const registry = telemetry.registry;
    let prev = { at: Date.now(), sent: 0, consumed: 0, buckets: [] as { le: number; count: number }[] };
    let shownTrace = false;
    let alerts = new Map<string, AlertState>();
    let alertFailures = 0;
    const pollAlerts = async (): Promise<void> => {
      try {
        const now = alertStates(await fetchAlerts(observability.prometheusUrl));
        for (const c of alertChanges(alerts, now)) console.log(`${`${Math.round((Date.now() - t0) / 1000)}s`.padStart(6)}  alert ${c.alert} ${c.state}`);
        alerts = now;
      } catch (err) {
        if (alertFailures++ % 10 === 0) console.error(`alerts: ${String(err)}`);
      }
    };
    // The sample's id is picked from memory (a complete trace); what is drawn is what Jaeger stored.
    const showSample = async (sample: ReadableSpan[]): Promise<void> => {
      const traceId = sample[0]?.spanContext().traceId as string;
      if (jaegerQueryUrl === undefined) {
        console.log(`\nA sample order, as one trace across the three services (as recorded in this process, no Jaeger):\n${renderTraceTree(sample, serviceOf)}\n`);
        return;
      }
      try {
        const tree = await sampleTraceFromJaeger(jaegerQueryUrl, traceId, sample.length, SERVICES);
        console.log(`\nA sample order, as one trace across the three services (fetched from Jaeger at ${jaegerQueryUrl}):\n${tree}\n  ${traceCurl(jaegerQueryUrl, traceId)}\n`);
      } catch (err) {
        console.error(`\nThe sample trace ${traceId} could not be read back from Jaeger at ${jaegerQueryUrl}: ${errorMessage(err)}\nAs recorded in this process:\n${renderTraceTree(sample, serviceOf)}\n`);
      }
    };
    const tick = async (): Promise<void> => {
      const now = Date.now();
      const sent = await counterTotal(registry, METRIC.SENT_MESSAGES.name);
      const consumed = await counterTotal(registry, METRIC.CONSUMED_MESSAGES.name);
      const errors = await counterTotal(registry, METRIC.MESSAGES_PROCESSED.name, (labels) => Boolean(labels[LABEL.ERROR_TYPE]));
      const dlq = await counterTotal(registry, METRIC.DLQ_MESSAGES.name);
      const buckets = await histogramBuckets(registry, METRIC.E2E_LATENCY.name, { stage: 'processed' });
      // Quantiles over this interval only (bucket deltas), so the line is live, not cumulative.
      const delta = buckets.map((b) => ({ le: b.le, count: b.count - (prev.buckets.find((p) => p.le === b.le)?.count ?? 0) }));
      const secs = (now - prev.at) / 1000;
      const q = (x: number): string => ms(histogramQuantile(x, delta));
      const elapsed = `${Math.round((now - t0) / 1000)}s`.padStart(6);
      console.log(`${elapsed} ${((sent - prev.sent) / secs).toFixed(1).padStart(8)} ${((consumed - prev.consumed) / secs).toFixed(1).padStart(11)}   ${q(0.5)} / ${q(0.95)} / ${q(0.99)}   ${String(dlq).padStart(6)}  ${String(errors).padStart(6)}`);
      prev = { at: now, sent, consumed, buckets };
      await pollAlerts();
      if (!shownTrace) {
        const sample = collector.sampleTrace();
        if (sample) {
          shownTrace = true;
          await showSample(sample);
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
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    console.log('stopped; every process the demo started has exited.');
  }
  return 0;
}
