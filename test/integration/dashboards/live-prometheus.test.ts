import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { Registry, type OpenMetricsContentType } from 'prom-client';
import { alertFiles } from '../../../alerts/alert-files';
import { resolveAlertsConfig } from '../../../alerts/alerts-config';
import { writeGeneratedFiles } from '../../../core/write-generated-files';
import { waitFor } from '../../../core/wait-for';
import { dashboardQueries } from '../../../dashboards/dashboard-files';
import { allocatePorts, Environment, type StartedEnvironment } from '../../../environment/index';
import { startReferenceSystem, startTraffic, type ReferenceSystem, type Traffic } from '../../../examples/index';
import { createExporter, silentLogger, type Exporter } from '../../../exporter/exporter';
import { serveMetrics, type MetricsServer } from '../../../exporter/metrics-server';
import { uniqueName } from '../../support/names';

/**
 * The live proof: a real Prometheus (the environment layer's, Debian's package) scrapes the
 * reference system and the exporter while traffic flows. Every dashboard panel query must return
 * data, and with the shipped alert pack loaded (lag thresholds lowered through the same
 * configuration `eda-harness alerts build --config` reads), pausing the inventory consumer must
 * fire KafkaConsumerLagSecondsHigh and resuming it must resolve it.
 */

// Lag threshold and `for:` short enough for a test, long enough that normal traffic stays below.
const LAG_THRESHOLD_SECONDS = 5;
const alertsConfig = resolveAlertsConfig({
  thresholds: { kafkaLagSecondsWarning: LAG_THRESHOLD_SECONDS, kafkaLagSecondsCritical: 3600 },
  for: { KafkaConsumerLagSecondsHigh: '3s', DeadLetterMessagesArriving: '2s' },
  evaluationInterval: '1s',
});

let env: StartedEnvironment | undefined;
let system: ReferenceSystem | undefined;
let traffic: Traffic | undefined;
let exporter: Exporter | undefined;
let exporterServer: MetricsServer | undefined;
let appServer: Server | undefined;
let rulesDir: string | undefined;
let appMetricsUrl = '';

beforeAll(async () => {
  const [appPort, exporterPort] = await allocatePorts(2);
  rulesDir = mkdtempSync(join(tmpdir(), 'eda-live-rules-'));
  const ruleFiles = writeGeneratedFiles(rulesDir, alertFiles(alertsConfig)).filter((f) => f.includes('/alerts/prometheus/'));
  env = await new Environment()
    .withKafka()
    .withRabbitMq()
    .withToxiproxy(false)
    .withPrometheus({
      scrapeTargets: { 'reference-system': [`127.0.0.1:${appPort}`], [alertsConfig.exporterJob]: [`127.0.0.1:${exporterPort}`] },
      ruleFiles,
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
    })
    .start();

  // The reference system's three services share one registry, served the way a service would.
  // OpenMetrics, so the latency histograms carry trace exemplars as they would in production.
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  appServer = createServer((_req, res) => {
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => appServer!.listen(appPort, '127.0.0.1', resolve));
  appMetricsUrl = `http://127.0.0.1:${appPort}/metrics`;
  system = await startReferenceSystem({
    kafkaBrokers: env.getKafkaBrokers(),
    amqpUrl: env.getAmqpUrl(),
    prefix: uniqueName('live'),
    maxAttempts: 2,
    // Spans are recorded (not exported): their ids become the histograms' exemplars.
    instrumentation: { registry, tracerProvider: new BasicTracerProvider() },
  });
  traffic = startTraffic(system, { ordersPerSecond: 10, poisonEvery: 10, bouncingEvery: 15 });

  exporter = createExporter({
    config: {
      kafka: { brokers: env.getKafkaBrokers() },
      rabbitmq: { managementUrl: env.getRabbitMqManagementUrl(), managementUser: 'guest', managementPassword: 'guest', amqpUrl: env.getAmqpUrl() },
      intervalSeconds: 1,
    },
    logger: silentLogger,
  });
  exporter.start();
  exporterServer = await serveMetrics({ exporter, port: exporterPort!, host: '127.0.0.1' });
}, 300_000);

afterAll(async () => {
  await traffic?.stop();
  await system?.stop();
  await exporter?.stop();
  await exporterServer?.close();
  await new Promise<void>((resolve) => (appServer ? appServer.close(() => resolve()) : resolve()));
  await env?.stop();
  if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
});

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}

async function prometheus<T>(path: string): Promise<T> {
  const res = await fetch(`${env!.getPrometheusUrl()}${path}`);
  const body = (await res.json()) as PromResponse<T>;
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
  return body.data;
}

/** A panel query as Grafana would send it with every variable on "All". */
function asGrafanaSends(expr: string): string {
  return expr.replace(/\$__rate_interval/g, '30s').replace(/\$\{?[A-Za-z_]\w*\}?/g, '.*');
}

test('every dashboard panel query returns data from the live system', async () => {
  const queries = dashboardQueries();
  expect(queries.length).toBeGreaterThan(30);
  const pending = new Map(queries.map((q) => [`${q.dashboard} / ${q.panel}: ${q.expr}`, asGrafanaSends(q.expr)]));
  await waitFor(
    async () => {
      for (const [name, expr] of pending) {
        const data = await prometheus<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
        if (data.result.length > 0) pending.delete(name);
      }
      if (pending.size > 0) throw new Error(`no data yet for ${pending.size} quer${pending.size === 1 ? 'y' : 'ies'}:\n  ${[...pending.keys()].join('\n  ')}`);
      return true;
    },
    { description: 'every dashboard query to return data', timeoutMs: 150_000, intervalMs: 2000 },
  );
}, 200_000);

test('the latency histogram the latency panels read carries trace-id exemplars on /metrics', async () => {
  const latencyPanels = dashboardQueries().filter((q) => q.expr.includes('eda_message_e2e_latency_seconds_bucket'));
  expect(latencyPanels.length).toBeGreaterThan(0);
  // OpenMetrics exemplar syntax: `<bucket sample> # {trace_id="…",span_id="…"} <value>`.
  const exemplar = /^eda_message_e2e_latency_seconds_bucket\{[^}]*\} \d+ # \{[^}]*trace_id="[0-9a-f]{32}"/m;
  await waitFor(async () => exemplar.test(await (await fetch(appMetricsUrl)).text()), {
    description: 'an exemplar with a trace id on the end-to-end latency histogram',
    timeoutMs: 30_000,
    intervalMs: 1000,
  });
});

interface ActiveAlert {
  labels: Record<string, string>;
  state: string;
}

async function activeAlerts(alertname: string, labels: Record<string, string>): Promise<ActiveAlert[]> {
  const data = await prometheus<{ alerts: ActiveAlert[] }>('/api/v1/alerts');
  return data.alerts.filter((a) => a.labels['alertname'] === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
}

const lagAlerts = (group: string): Promise<ActiveAlert[]> => activeAlerts('KafkaConsumerLagSecondsHigh', { group });

test('poison messages reaching the RabbitMQ dead-letter queue fire DeadLetterMessagesArriving, attributed to their source queue', async () => {
  const { names } = system!;
  const firing = await waitFor(async () => (await activeAlerts('DeadLetterMessagesArriving', { dlq: names.deadLetterQueue })).find((a) => a.state === 'firing'), {
    description: 'DeadLetterMessagesArriving for the notification DLQ',
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
  expect(firing.labels).toEqual({ alertname: 'DeadLetterMessagesArriving', severity: 'warning', system: 'rabbitmq', vhost: '/', dlq: names.deadLetterQueue, source: names.emailQueue });
});

test('pausing the consumer fires KafkaConsumerLagSecondsHigh; resuming resolves it', async () => {
  const { inventory, names } = system!;
  // The rules are loaded and evaluated, and a consumer keeping up does not trip them.
  const groups = await prometheus<{ groups: { name: string; rules: { name: string }[] }[] }>('/api/v1/rules');
  expect(groups.groups.map((g) => g.name)).toContain('eda-harness.kafka-consumers');
  await waitFor(
    async () => {
      const r = await prometheus<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(`max(eda_kafka_consumer_lag_seconds{group="${names.inventoryGroup}"})`)}`);
      return r.result.length > 0 && Number(r.result[0]!.value[1]) < LAG_THRESHOLD_SECONDS;
    },
    { description: 'the inventory group to be exported and caught up', timeoutMs: 60_000, intervalMs: 1000 },
  );
  expect(await lagAlerts(names.inventoryGroup)).toEqual([]);

  inventory.consumer.pause([{ topic: names.ordersTopic }]);
  try {
    const firing = await waitFor(
      async () => {
        const alerts = await lagAlerts(names.inventoryGroup);
        return alerts.find((a) => a.state === 'firing');
      },
      { description: 'KafkaConsumerLagSecondsHigh to fire for the paused group', timeoutMs: 90_000, intervalMs: 1000 },
    );
    expect(firing.labels).toEqual({ alertname: 'KafkaConsumerLagSecondsHigh', severity: 'warning', group: names.inventoryGroup, topic: names.ordersTopic });
  } finally {
    inventory.consumer.resume([{ topic: names.ordersTopic }]);
  }
  await waitFor(async () => (await lagAlerts(names.inventoryGroup)).length === 0, {
    description: 'KafkaConsumerLagSecondsHigh to resolve after the consumer resumed',
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
}, 240_000);
