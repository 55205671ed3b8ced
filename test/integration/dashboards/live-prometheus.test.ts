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
import { dashboardQueries, dashboardVariableQueries } from '../../../dashboards/dashboard-files';
import { allocatePorts, Environment, releasePorts, type StartedEnvironment } from '../../../environment/index';
import { startReferenceSystem, startTraffic, type ReferenceSystem, type Traffic } from '../../../examples/index';
import { createExporter, silentLogger, type Exporter } from '../../../exporter/exporter';
import { serveMetrics, type MetricsServer } from '../../../exporter/metrics-server';
import { uniqueName } from '../../support/names';
import { registerServiceInfo } from '../../../instrumentation/telemetry/service-info';
import type { ReferenceServiceName } from '../../../examples/types';

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
  for: { KafkaConsumerLagSecondsHigh: '3s', DeadLetterMessagesArriving: '2s', EdaExporterNeverCollected: '2s' },
  evaluationInterval: '1s',
});

let env: StartedEnvironment | undefined;
let system: ReferenceSystem | undefined;
let traffic: Traffic | undefined;
let exporter: Exporter | undefined;
let exporterServer: MetricsServer | undefined;
// A second exporter whose RabbitMQ password is wrong: the day-one failure the health alerts must not miss.
let badExporter: Exporter | undefined;
let badExporterServer: MetricsServer | undefined;
const BAD_CLUSTER = 'wrong-credentials';
// The reference system's three services, each its own process as far as Prometheus can tell: its
// own registry and /metrics target, all three in one scrape job (as one Kubernetes scrape
// configuration covers many services), each naming itself by eda_service_info as startTelemetry does.
const SERVICES: readonly ReferenceServiceName[] = ['order-service', 'inventory-service', 'notification-service'];
const APP_JOB = 'reference-system';
const appServers: Server[] = [];
let rulesDir: string | undefined;
let drawnPorts: number[] = [];
const appMetricsUrls: string[] = [];

beforeAll(async () => {
  const drawn = await allocatePorts(2 + SERVICES.length);
  drawnPorts = drawn;
  const [exporterPort, badExporterPort, ...appPorts] = drawn;
  rulesDir = mkdtempSync(join(tmpdir(), 'eda-live-rules-'));
  const ruleFiles = writeGeneratedFiles(rulesDir, alertFiles(alertsConfig)).filter((f) => f.includes('/alerts/prometheus/'));
  env = await new Environment()
    .withKafka()
    .withRabbitMq()
    .withToxiproxy(false)
    .withPrometheus({
      scrapeTargets: { [APP_JOB]: appPorts.map((p) => `127.0.0.1:${p}`), [alertsConfig.exporterJob]: [`127.0.0.1:${exporterPort}`, `127.0.0.1:${badExporterPort}`] },
      ruleFiles,
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
    })
    .start();

  // Each service's registry served the way a service would. OpenMetrics, so the latency
  // histograms carry trace exemplars as they would in production.
  const registries = new Map<ReferenceServiceName, Registry<OpenMetricsContentType>>();
  for (const [i, service] of SERVICES.entries()) {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    registerServiceInfo(registry, service);
    registries.set(service, registry);
    const server = createServer((_req, res) => {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    appServers.push(server);
    await new Promise<void>((resolve) => server.listen(appPorts[i], '127.0.0.1', resolve));
    appMetricsUrls.push(`http://127.0.0.1:${appPorts[i]!}/metrics`);
  }
  // Spans are recorded (not exported): their ids become the histograms' exemplars.
  const tracerProvider = new BasicTracerProvider();
  system = await startReferenceSystem({
    kafkaBrokers: env.getKafkaBrokers(),
    amqpUrl: env.getAmqpUrl(),
    prefix: uniqueName('live'),
    maxAttempts: 2,
    instrumentation: (service) => ({ registry: registries.get(service)!, tracerProvider }),
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
  badExporter = createExporter({
    config: {
      rabbitmq: { name: BAD_CLUSTER, managementUrl: env.getRabbitMqManagementUrl(), managementUser: 'guest', managementPassword: `wrong-${uniqueName('pw')}` },
      intervalSeconds: 1,
    },
    logger: silentLogger,
  });
  badExporter.start();
  badExporterServer = await serveMetrics({ exporter: badExporter, port: badExporterPort!, host: '127.0.0.1' });
}, 300_000);

afterAll(async () => {
  await traffic?.stop();
  await system?.stop();
  await exporter?.stop();
  await exporterServer?.close();
  await badExporter?.stop();
  await badExporterServer?.close();
  for (const server of appServers) await new Promise<void>((resolve) => server.close(() => resolve()));
  await env?.stop();
  if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  releasePorts(drawnPorts);
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

test('every template variable offers at least one value; $service offers the service names of three processes sharing one scrape job, not the job', async () => {
  const pending = new Map(
    dashboardVariableQueries().map((v) => {
      // label_values(metric{filter}, label) as the series it reads; query_result(expr) as its expression.
      const lv = /^label_values\((.*), ([a-z_]+)\)$/.exec(v.expr);
      const expr = lv ? `count by (${lv[2]}) (${lv[1]})` : /^query_result\((.*)\)$/.exec(v.expr)![1]!;
      return [`${v.dashboard} ${v.panel}: ${v.expr}`, asGrafanaSends(expr)];
    }),
  );
  let service: string[] = [];
  await waitFor(
    async () => {
      for (const [name, expr] of pending) {
        const data = await prometheus<{ result: { metric: Record<string, string> }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
        if (name.startsWith('messaging-overview $service')) service = data.result.map((r) => r.metric['service_name'] ?? '');
        if (data.result.length > 0) pending.delete(name);
      }
      if (pending.size > 0) throw new Error(`no values yet for:\n  ${[...pending.keys()].join('\n  ')}`);
      return true;
    },
    { description: 'every variable to offer values', timeoutMs: 120_000, intervalMs: 2000 },
  );
  // The consuming services (the variable reads the consumed counter), by their eda_service_info, though all share the job.
  expect([...service].sort()).toEqual(['inventory-service', 'notification-service']);
  const { names } = system!;
  const overview = dashboardQueries().filter((q) => q.dashboard === 'messaging-overview');
  const consumed = overview.find((q) => q.panel === 'Consumed per second')!.expr;
  // One service selected: only its own destinations (the job is the same for all three).
  const destinationsOf = async (svc: string): Promise<string[]> => {
    const expr = asGrafanaSends(consumed.replace(/\$service/g, svc));
    const r = await prometheus<{ result: { metric: Record<string, string> }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    return r.result.map((x) => x.metric['messaging_destination_name'] ?? '').sort();
  };
  expect(await destinationsOf('inventory-service')).toEqual([names.ordersTopic]);
  expect(await destinationsOf('notification-service')).toEqual([names.emailQueue]);
  expect(await destinationsOf(APP_JOB)).toEqual([]);
  // With All selected each series counts once: the panel's total over the raw total, in one query (one instant), is 1.
  const ratio = await prometheus<{ result: { value: [number, string] }[] }>(
    `/api/v1/query?query=${encodeURIComponent(`sum(${asGrafanaSends(consumed)}) / sum(rate(messaging_client_consumed_messages_total[30s]))`)}`,
  );
  expect(ratio.result.map((r) => Number(r.value[1]))).toEqual([expect.closeTo(1, 6)]);
  // Without info series (serviceInfo: false, or instrumentation set up by hand) the variable falls back to the job.
  const variable = dashboardVariableQueries().find((v) => v.dashboard === 'messaging-overview' && v.panel === '$service')!.expr;
  const withoutInfo = /^query_result\((.*)\)$/.exec(variable)![1]!.replace(/eda_service_info/g, 'eda_service_info{service_name="no-such-service"}');
  const fallback = await prometheus<{ result: { metric: Record<string, string> }[] }>(`/api/v1/query?query=${encodeURIComponent(withoutInfo)}`);
  expect(fallback.result.map((r) => r.metric['service_name'])).toEqual([APP_JOB]);
}, 150_000);

test('per-partition panels return at most partitionTopK series per step; the exporter series carry the cluster label', async () => {
  const k = 2;
  const perPartition = dashboardQueries({ partitionTopK: k }).filter((q) => /\bpartition\b/.test(q.expr));
  expect(perPartition).toHaveLength(3);
  const figures: string[] = [];
  await waitFor(
    async () => {
      figures.length = 0;
      for (const q of perPartition) {
        const withTopk = asGrafanaSends(q.expr);
        const without = withTopk.replace(new RegExp(`^topk\\(${k}, (.*)\\)$`), '$1');
        const all = (await prometheus<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(without)}`)).result.length;
        const top = (await prometheus<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(withTopk)}`)).result.length;
        figures.push(`${q.panel}: ${all} → ${top}`);
        if (all <= k) throw new Error(`only ${all} series for ${q.panel}; waiting for more than ${k}`);
        expect(top).toBe(k);
      }
      return true;
    },
    { description: `more than ${k} partitions with lag series`, timeoutMs: 60_000, intervalMs: 2000 },
  );
  console.log(`series per step without → with topk(${k}): ${figures.join('; ')}`);
  const clusters = await prometheus<{ result: { metric: Record<string, string> }[] }>(`/api/v1/query?query=${encodeURIComponent('count by (cluster) (eda_kafka_consumer_lag_messages)')}`);
  expect(clusters.result.map((r) => r.metric['cluster'])).toEqual(['default']);
}, 90_000);

test('the latency histogram the latency panels read carries trace-id exemplars on /metrics', async () => {
  const latencyPanels = dashboardQueries().filter((q) => q.expr.includes('eda_message_e2e_latency_seconds_bucket'));
  expect(latencyPanels.length).toBeGreaterThan(0);
  // OpenMetrics exemplar syntax: `<bucket sample> # {trace_id="…",span_id="…"} <value>`.
  const exemplar = /^eda_message_e2e_latency_seconds_bucket\{[^}]*\} \d+ # \{[^}]*trace_id="[0-9a-f]{32}"/m;
  const pages = async () => Promise.all(appMetricsUrls.map(async (url) => (await fetch(url)).text()));
  await waitFor(async () => (await pages()).some((text) => exemplar.test(text)), {
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
  // The alerts keep the cluster label (the exporter's default cluster name).
  expect(firing.labels).toEqual({ alertname: 'DeadLetterMessagesArriving', severity: 'warning', cluster: 'default', system: 'rabbitmq', vhost: '/', dlq: names.deadLetterQueue, source: names.emailQueue });
});

test('an exporter with a wrong RabbitMQ password fires EdaExporterNeverCollected for its cluster, and only for it', async () => {
  const firing = await waitFor(
    async () => {
      const alerts = (await activeAlerts('EdaExporterNeverCollected', {})).filter((a) => a.state === 'firing');
      return alerts.length > 0 ? alerts : undefined;
    },
    { description: 'EdaExporterNeverCollected for the exporter with wrong credentials', timeoutMs: 90_000, intervalMs: 1000 },
  );
  expect(firing.map((a) => a.labels)).toEqual([{ alertname: 'EdaExporterNeverCollected', severity: 'critical', cluster: BAD_CLUSTER, target: 'rabbitmq' }]);
  // The exporter-health dashboard shows it: its last collection failed, it read nothing.
  const up = await prometheus<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(`max(eda_exporter_up{cluster="${BAD_CLUSTER}"})`)}`);
  expect(up.result.map((r) => r.value[1])).toEqual(['0']);
}, 120_000);

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
    expect(firing.labels).toEqual({ alertname: 'KafkaConsumerLagSecondsHigh', severity: 'warning', cluster: 'default', group: names.inventoryGroup, topic: names.ordersTopic });
  } finally {
    inventory.consumer.resume([{ topic: names.ordersTopic }]);
  }
  await waitFor(async () => (await lagAlerts(names.inventoryGroup)).length === 0, {
    description: 'KafkaConsumerLagSecondsHigh to resolve after the consumer resumed',
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
}, 240_000);
