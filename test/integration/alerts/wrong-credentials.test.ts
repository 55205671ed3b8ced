import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertFiles } from '../../../alerts/alert-files';
import { resolveAlertsConfig } from '../../../alerts/alerts-config';
import { requestJson } from '../../../core/index';
import { writeGeneratedFiles } from '../../../core/write-generated-files';
import { allocatePorts, Environment, releasePorts, type StartedEnvironment } from '../../../environment/index';
import { createExporter, silentLogger, type Exporter } from '../../../exporter/exporter';
import { serveMetrics, type MetricsServer } from '../../../exporter/metrics-server';
import { until } from '../../support/until';

/**
 * The day-one failure the pack used to miss: an exporter deployed with wrong credentials never
 * collects, so no lag or queue series exist and nothing read them. A real Prometheus evaluating the
 * shipped rules against a real exporter pointed at a real RabbitMQ with a wrong password must fire
 * EdaExporterNeverCollected, and resolve it once the exporter runs with the right password.
 */

let broker: StartedEnvironment;
let prometheus: StartedEnvironment;
let exporterPort: number;
let running: { exporter: Exporter; server: MetricsServer } | undefined;
const rulesDir = mkdtempSync(join(tmpdir(), 'eda-wrong-credentials-'));

async function startExporter(password: string): Promise<void> {
  const amqp = new URL(broker.getAmqpUrl());
  amqp.password = password;
  const exporter = createExporter({
    config: { rabbitmq: { managementUrl: broker.getRabbitMqManagementUrl(), managementUser: 'guest', managementPassword: password, amqpUrl: amqp.toString() }, intervalSeconds: 1 },
    logger: silentLogger,
  });
  exporter.start();
  const server = await serveMetrics({ exporter, port: exporterPort, host: '127.0.0.1' });
  running = { exporter, server };
}

async function stopExporter(): Promise<void> {
  if (!running) return;
  await running.server.close();
  await running.exporter.stop();
  running = undefined;
}

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

async function alerts(): Promise<PromAlert[]> {
  const body = await requestJson<{ data?: { alerts?: PromAlert[] } }>(`${prometheus.getPrometheusUrl()}/api/v1/alerts`, { timeoutMs: 3000 });
  return body.data?.alerts ?? [];
}

beforeAll(async () => {
  broker = await new Environment().withRabbitMq().start();
  [exporterPort] = (await allocatePorts(1)) as [number];
  const config = resolveAlertsConfig({ evaluationInterval: '1s', for: { EdaExporterNeverCollected: '3s' } });
  const ruleFiles = writeGeneratedFiles(rulesDir, alertFiles(config)).filter((f) => f.includes('/alerts/prometheus/'));
  await startExporter('not-the-password');
  prometheus = await new Environment()
    .withPrometheus({ scrapeTargets: { [config.exporterJob]: [`127.0.0.1:${exporterPort}`] }, ruleFiles, scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1 })
    .start();
}, 180_000);

afterAll(async () => {
  await stopExporter();
  await prometheus?.stop();
  await broker?.stop();
  rmSync(rulesDir, { recursive: true, force: true });
  releasePorts([exporterPort]);
});

it('an exporter with a wrong RabbitMQ password fires EdaExporterNeverCollected, which resolves once the password is right', async () => {
  const firing = await until(
    'EdaExporterNeverCollected firing for target rabbitmq',
    async () => (await alerts()).find((a) => a.labels['alertname'] === 'EdaExporterNeverCollected' && a.state === 'firing'),
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  expect(firing.labels).toMatchObject({ severity: 'critical', target: 'rabbitmq' });
  // Nothing pretends the exporter is stale or down: it answers scrapes, it has simply never collected.
  expect((await alerts()).filter((a) => ['EdaExporterDown', 'EdaExporterStale', 'EdaExporterAbsent'].includes(a.labels['alertname'] ?? ''))).toEqual([]);

  await stopExporter();
  await startExporter('guest');
  await until('EdaExporterNeverCollected resolved', async () => !(await alerts()).some((a) => a.labels['alertname'] === 'EdaExporterNeverCollected'), { timeoutMs: 90_000, intervalMs: 500 });
}, 240_000);
