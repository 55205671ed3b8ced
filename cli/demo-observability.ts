import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertFiles, resolveAlertsConfig, type AlertsConfig } from '@eda-harness/alerts';
import { writeGeneratedFiles, type KafkaSecuritySettings, type ProgressSink } from '@eda-harness/core';
import { allocatePorts, Environment, type StartedEnvironment } from '@eda-harness/environment';
import { createExporter, serveMetrics, silentLogger, type Exporter, type ExporterConfig, type KafkaTargetConfig, type MetricsServer } from '@eda-harness/exporter';

/**
 * The demo's observability chain, as production runs it: the eda-harness exporter (in this
 * process) reading the demo's Kafka and RabbitMQ, and a real Prometheus (the environment layer's)
 * scraping the demo's /metrics and the exporter, with the shipped alert pack loaded. The pack is
 * the shipped one; only thresholds and `for:` are shortened (through the same configuration
 * `eda-harness alerts build --config` reads) so the demo's faults show up within a minute or two.
 */

/** The demo's pack configuration: the shipped rules, thresholds and waits cut to demo scale. */
export const DEMO_ALERTS_CONFIG: Readonly<Record<string, unknown>> = {
  thresholds: {
    // The paused analytics consumer: warning once its oldest unread order is 10 s old, critical at 45 s.
    kafkaLagSecondsWarning: 10,
    kafkaLagSecondsCritical: 45,
    // … and stopped once its committed offset has not moved for 30 s while orders wait.
    kafkaStoppedAfterSeconds: 30,
    kafkaStalledAfterSeconds: 30,
    // Poison and undeliverable email commands: any dead letter in the last 2 minutes.
    dlqArrivingWindowSeconds: 120,
  },
  for: {
    DeadLetterMessagesArriving: '10s',
    DeadLetterRatioHigh: '20s',
    KafkaConsumerLagSecondsHigh: '10s',
    KafkaConsumerStopped: '10s',
  },
  evaluationInterval: '2s',
};

/** How often Prometheus scrapes and evaluates, and the exporter collects, in the demo. */
export const DEMO_SCRAPE_SECONDS = 2;

/** The scrape job of the demo's own /metrics (the three reference services share one registry). */
export const DEMO_APP_JOB = 'eda-harness-demo';

/**
 * The alerts the demo makes happen, in the order they fire, with when (measured warm on a 2-core
 * machine: Prometheus scrapes and evaluates every 2 s, the exporter collects every 2 s).
 */
export function expectedDemoAlerts(pauseAfterS: number): readonly { readonly alert: string; readonly when: string; readonly why: string }[] {
  return [
    { alert: 'DeadLetterMessagesArriving', when: 'firing ~25 s after ready', why: 'poison email commands reach the dead-letter queue' },
    { alert: 'DeadLetterRatioHigh', when: 'firing ~30 s after ready', why: 'over 1% of the email commands consumed are dead-lettered' },
    { alert: 'KafkaConsumerLagSecondsHigh', when: 'warning ~25 s, critical ~60 s after the pause', why: `the analytics-service group pauses ${pauseAfterS} s after its first order: its oldest unread order gets older` },
    { alert: 'KafkaConsumerStopped', when: 'firing ~45 s after the pause', why: 'the paused group commits nothing for 30 s while orders wait' },
  ];
}

export interface DemoObservability {
  readonly prometheusUrl: string;
  readonly exporterUrl: string;
  readonly alertsConfig: AlertsConfig;
  /** The environment holding Prometheus (its pid is `prometheus.node.pid`). */
  readonly environment: StartedEnvironment;
  stop(): Promise<void>;
}

export interface DemoObservabilityOptions {
  /** Where the exporter reads Kafka: the listener and TLS / SASL settings the demo's clients use. */
  readonly kafka: { readonly brokers: readonly string[]; readonly security: KafkaSecuritySettings | undefined };
  readonly amqpUrl: string;
  readonly rabbitMqManagementUrl: string;
  /** host:port of the demo's own /metrics, already serving. */
  readonly appTarget: string;
  readonly progress: ProgressSink;
}

/**
 * Starts the exporter and its /metrics (an allocated port), then Prometheus with both targets and
 * the demo's alert pack. Everything started is stopped again when a later step fails.
 */
export async function startDemoObservability(options: DemoObservabilityOptions): Promise<DemoObservability> {
  const alertsConfig = resolveAlertsConfig(DEMO_ALERTS_CONFIG, 'the demo alert pack');
  const rulesDir = mkdtempSync(join(tmpdir(), 'eda-demo-rules-'));
  const closers: (() => Promise<void>)[] = [async () => rmSync(rulesDir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const close of closers.splice(0).reverse()) await close().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  };
  try {
    const ruleFiles = writeGeneratedFiles(rulesDir, alertFiles(alertsConfig)).filter((f) => f.includes('/alerts/prometheus/'));
    const [exporterPort] = await allocatePorts(1);
    const config: ExporterConfig = {
      kafka: { ...exporterKafkaSecurity(options.kafka.security), brokers: options.kafka.brokers },
      rabbitmq: { managementUrl: options.rabbitMqManagementUrl, managementUser: 'guest', managementPassword: 'guest', amqpUrl: options.amqpUrl },
      intervalSeconds: DEMO_SCRAPE_SECONDS,
    };
    const exporter: Exporter = createExporter({ config, logger: silentLogger });
    exporter.start();
    closers.push(() => exporter.stop());
    const server: MetricsServer = await serveMetrics({ exporter, port: exporterPort!, host: '127.0.0.1' });
    closers.push(() => server.close());

    options.progress('starting Prometheus with the eda-harness alert pack (demo thresholds)');
    // Always the native one (Debian's package): a Prometheus named by PROMETHEUS_URL or in a
    // container would neither load these rule files nor reach these loopback targets.
    const environment = await new Environment()
      .withProvider('native')
      .withPrometheus({
        scrapeTargets: { [DEMO_APP_JOB]: [options.appTarget], [alertsConfig.exporterJob]: [`127.0.0.1:${server.port}`] },
        ruleFiles,
        scrapeIntervalSeconds: DEMO_SCRAPE_SECONDS,
        evaluationIntervalSeconds: DEMO_SCRAPE_SECONDS,
      })
      .withSignalHandlers(false)
      .start();
    closers.push(() => environment.stop());
    return { prometheusUrl: environment.getPrometheusUrl(), exporterUrl: `${server.url}/metrics`, alertsConfig, environment, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** The exporter's TLS / SASL fields from the demo clients' settings (already checked; the same shape). */
function exporterKafkaSecurity(security: KafkaSecuritySettings | undefined): Pick<KafkaTargetConfig, 'securityProtocol' | 'tls' | 'sasl'> {
  return (security ?? {}) as Pick<KafkaTargetConfig, 'securityProtocol' | 'tls' | 'sasl'>;
}

/**
 * The address Prometheus scrapes for a server listening on `host:port`: an unspecified address
 * (every interface) is reached on loopback; an IPv6 address is bracketed.
 */
export function scrapeTarget(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `127.0.0.1:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
