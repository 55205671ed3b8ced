import { Kafka, logLevel } from 'kafkajs';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createExporter, serveMetrics, settingsFromFileText, toExporterConfig } from '../../../exporter/index';
import type { Exporter, MetricsServer } from '../../../exporter/index';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { parseExposition } from '../../support/exposition';

/**
 * Two Kafka clusters in one exporter: two native single-node Kafkas, each holding a topic and a
 * group of the same names with different lags, configured through the config file's
 * `kafkaClusters` list. Every series of either carries its own cluster label, so the same group
 * on two clusters is two series, not one overwriting the other.
 */
const envs: StartedEnvironment[] = [];
let exporter: Exporter;
let server: MetricsServer;
const prefix = uniqueName('clu');
const topic = `${prefix}-orders`;
const group = `${prefix}-billing`;
/** Committed offsets of the group on each cluster, of 10 messages: lag 7 on eu, 2 on us. */
const COMMITTED = { eu: 3, us: 8 } as const;

beforeAll(async () => {
  envs.push(...(await Promise.all([0, 1].map(() => new Environment().withKafka().withToxiproxy(false).start()))));
  await Promise.all(
    (['eu', 'us'] as const).map(async (name, i) => {
      const kafka = new Kafka({ clientId: `clusters-it-${name}`, brokers: envs[i]!.getKafkaBrokers(), logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      const producer = kafka.producer();
      await admin.connect();
      await producer.connect();
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
        await producer.send({ topic, messages: Array.from({ length: 10 }, (_, n) => ({ value: `m${n}` })) });
        await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: String(COMMITTED[name]) }] });
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    }),
  );
  const file = {
    intervalSeconds: 0.5,
    kafkaClusters: [
      { name: 'eu', brokers: envs[0]!.getKafkaBrokers(), groups: { allow: [`${prefix}*`] }, topics: { allow: [`${prefix}*`] } },
      { name: 'us', brokers: envs[1]!.getKafkaBrokers(), groups: { allow: [`${prefix}*`] }, topics: { allow: [`${prefix}*`] } },
    ],
  };
  const { config } = toExporterConfig(settingsFromFileText(JSON.stringify(file), 'clusters.json'));
  exporter = createExporter({ config });
  server = await serveMetrics({ exporter, port: 0, host: '127.0.0.1' });
  exporter.start();
}, 300_000);

afterAll(async () => {
  await server?.close();
  await exporter?.stop();
  await Promise.all(envs.map((e) => e.stop()));
});

it('exports the same group of two clusters as two series with distinct cluster labels', async () => {
  const samples = await waitFor(
    async () => {
      const page = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      const lag = page.filter((s) => s.name === METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name && s.labels['group'] === group);
      return lag.length === 2 ? page : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, description: 'lag of the group on both clusters' },
  );
  const lag = samples.filter((s) => s.name === METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name && s.labels['group'] === group);
  expect(Object.fromEntries(lag.map((s) => [s.labels['cluster'], s.value]))).toEqual({ eu: 10 - COMMITTED.eu, us: 10 - COMMITTED.us });
  const up = samples.filter((s) => s.name === METRIC.EXPORTER_UP.name);
  expect(Object.fromEntries(up.map((s) => [s.labels['cluster'], s.value]))).toEqual({ eu: 1, us: 1 });
  // Every series of the page (the exporter's only) names its cluster.
  expect(samples.filter((s) => s.name.startsWith('eda_') && !['eu', 'us'].includes(s.labels['cluster'] ?? ''))).toEqual([]);
});
