import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment, StartedRabbitMq } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createExporter, settingsFromEnv, toExporterConfig } from '../../../exporter/index';
import type { Exporter } from '../../../exporter/index';
import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';
import { requestTextWithCa } from '../../../exporter/rabbitmq/https-text';
import { METRIC, RABBITMQ_VIA } from '../../../semconv/index';
import { parseExposition, valueOf } from '../../support/exposition';
import { uniqueName } from '../../support/names';

/**
 * The RabbitMQ collector against a real (native) RabbitMQ run the way operators secure and scale
 * it: the management API over https only, with a CA made at start, and then with statistics
 * disabled (management_agent.disable_metrics_collector), where depths come from RabbitMQ's own
 * Prometheus endpoint. One node, restarted with the second setup (its TLS kept) for the last
 * cases. The exporter is configured the way a deployment configures it: from its variables.
 */

let env: StartedEnvironment;
let rabbit: StartedRabbitMq;
const models: ChannelModel[] = [];
const exporters: Exporter[] = [];
const prefix = uniqueName('rxs');
const M = { messages: METRIC.RABBITMQ_QUEUE_MESSAGES.name, via: METRIC.EXPORTER_RABBITMQ_VIA.name, up: METRIC.EXPORTER_UP.name, degraded: METRIC.EXPORTER_DEGRADED.name };

/** A queue holding `count` ready messages, published over AMQP (which TLS on the management API does not touch). */
async function queueWith(name: string, count: number): Promise<void> {
  const model = await connect(rabbit.amqpUrl);
  models.push(model);
  const channel = await model.createConfirmChannel();
  await channel.assertQueue(name, { durable: false });
  for (let i = 0; i < count; i++) channel.sendToQueue(name, Buffer.from(`m${i}`));
  await channel.waitForConfirms();
}

/** An exporter set up from environment variables only, as in a container; warnings kept. */
function exporterFrom(variables: Record<string, string>): { exporter: Exporter; warnings: string[] } {
  const warnings: string[] = [];
  const { config } = toExporterConfig(settingsFromEnv({ EDA_EXPORTER_QUEUE_ALLOW: `${prefix}*`, EDA_EXPORTER_INTERVAL_SECONDS: '0.5', ...variables }));
  const exporter = createExporter({ config, logger: { info: () => undefined, warn: (m) => warnings.push(m) } });
  exporters.push(exporter);
  return { exporter, warnings };
}

/** Collects until the exposition satisfies `check`; returns its samples. */
async function until(exporter: Exporter, description: string, check: (text: string) => boolean): Promise<ReturnType<typeof parseExposition>> {
  const text = await waitFor(
    async () => {
      await exporter.collectNow();
      const page = await exporter.registry.metrics();
      return check(page) ? page : undefined;
    },
    { description, timeoutMs: 30_000, intervalMs: 500 },
  );
  return parseExposition(text);
}

beforeAll(async () => {
  env = await new Environment().withProvider('native').withRabbitMq().withToxiproxy(false).start();
  rabbit = await env.rabbitmq!.restartWith!({ managementTls: true });
}, 240_000);

afterAll(async () => {
  for (const e of exporters) await e.stop();
  for (const m of models) await m.close().catch(() => undefined);
  await env?.stop();
});

describe('RabbitMQ management API over https with a CA', () => {
  it('the environment serves the management API over https only, signed by its CA', () => {
    expect(rabbit.managementUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(rabbit.managementCaFile).toMatch(/ca\.pem$/);
    // The environment's own view follows the restart.
    expect(env.getRabbitMqManagementUrl()).toBe(rabbit.managementUrl);
    expect(env.rabbitmq?.options).toEqual({ managementTls: true });
  });

  it('the exporter reads the queues over https with RABBITMQ_MANAGEMENT_CA_FILE', async () => {
    const queue = `${prefix}-tls`;
    await queueWith(queue, 7);
    const { exporter } = exporterFrom({ RABBITMQ_MANAGEMENT_URL: rabbit.managementUrl!, RABBITMQ_MANAGEMENT_CA_FILE: rabbit.managementCaFile! });
    const samples = await until(exporter, `${queue} at depth 7 over https`, (page) => valueOf(parseExposition(page), M.messages, { queue, state: 'ready' }) === 7);
    expect(valueOf(samples, M.via, { via: RABBITMQ_VIA.MANAGEMENT })).toBe(1);
    expect(valueOf(samples, M.up, { target: 'rabbitmq' })).toBe(1);
  });

  it('without the CA: one clear error naming the URL and the CA setting, not retried as a network fault', async () => {
    const collector = createRabbitMqCollector({ config: { managementUrl: rabbit.managementUrl!, queues: { allow: [`${prefix}*`] } } });
    const error = await collector.collect().then(
      () => undefined,
      (err: unknown) => err as Error & { retriable?: boolean },
    );
    await collector.close();
    expect(error?.message).toContain(rabbit.managementUrl);
    expect(error?.message).toMatch(/certificate/);
    expect(error?.message).toContain('RABBITMQ_MANAGEMENT_CA_FILE');
    expect(error?.retriable).toBe(false);
    // The running exporter says the same in its warning, and reports the target down.
    const { exporter, warnings } = exporterFrom({ RABBITMQ_MANAGEMENT_URL: rabbit.managementUrl! });
    await exporter.collectNow();
    expect(valueOf(parseExposition(await exporter.registry.metrics()), M.up, { target: 'rabbitmq' })).toBe(0);
    expect(warnings.join('\n')).toContain('--rabbitmq-management-ca-file');
  });

  it('with a CA that did not sign the certificate: the same error', async () => {
    // The environment's own server certificate is no CA: nothing it "signs" is the server's.
    const wrongCa = rabbit.managementCaFile!.replace(/ca\.pem$/, 'server.pem');
    const collector = createRabbitMqCollector({ config: { managementUrl: rabbit.managementUrl!, managementCaFile: wrongCa } });
    const error = await collector.collect().then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    await collector.close();
    expect(error?.message).toContain(rabbit.managementUrl);
    expect(error?.message).toMatch(/certificate/);
    expect(error?.message).toContain(wrongCa);
  });
});

describe('RabbitMQ with management statistics disabled', () => {
  beforeAll(async () => {
    rabbit = await env.rabbitmq!.restartWith!({ managementTls: true, statistics: false });
  }, 180_000);

  it('the management API says so (its queues come without counts)', async () => {
    const overview = JSON.parse(await requestOverview()) as { disable_stats?: boolean };
    expect(overview.disable_stats).toBe(true);
  });

  it('the exporter reads depths from /metrics/detailed (RABBITMQ_PROMETHEUS_URL) and says via="prometheus"', async () => {
    const queue = `${prefix}-nostats`;
    await queueWith(queue, 5);
    const { exporter } = exporterFrom({
      RABBITMQ_MANAGEMENT_URL: rabbit.managementUrl!,
      RABBITMQ_MANAGEMENT_CA_FILE: rabbit.managementCaFile!,
      RABBITMQ_PROMETHEUS_URL: rabbit.metricsUrl!,
    });
    const samples = await until(exporter, `${queue} at depth 5 from the Prometheus endpoint`, (page) => valueOf(parseExposition(page), M.messages, { queue, state: 'ready' }) === 5);
    expect(valueOf(samples, M.via, { via: RABBITMQ_VIA.PROMETHEUS })).toBe(1);
    expect(valueOf(samples, M.via, { via: RABBITMQ_VIA.MANAGEMENT })).toBe(0);
    expect(valueOf(samples, M.degraded, { target: 'rabbitmq' })).toBe(0);
  });

  it('without the Prometheus endpoint the target is marked degraded, not reported as empty and healthy', async () => {
    const queue = `${prefix}-blind`;
    await queueWith(queue, 3);
    const { exporter } = exporterFrom({ RABBITMQ_MANAGEMENT_URL: rabbit.managementUrl!, RABBITMQ_MANAGEMENT_CA_FILE: rabbit.managementCaFile! });
    const samples = await until(exporter, 'the target marked degraded', (page) => valueOf(parseExposition(page), M.degraded, { target: 'rabbitmq' }) === 1);
    expect(valueOf(samples, M.via, { via: RABBITMQ_VIA.MANAGEMENT })).toBe(1);
  });
});

/** GET /api/overview over https with the environment's CA. */
async function requestOverview(): Promise<string> {
  return requestTextWithCa(`${rabbit.managementUrl}/api/overview`, {
    caFile: rabbit.managementCaFile!,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
}
