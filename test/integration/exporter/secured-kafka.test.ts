import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { KafkaSecurity, StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createExporter, settingsFromEnv, toExporterConfig } from '../../../exporter/index';
import type { Exporter, ExporterLogger } from '../../../exporter/index';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';

/**
 * The exporter against the secured Kafka of the native environment (a SASL_SSL listener, SCRAM
 * users, a CA made with keytool), configured the way an operator would: environment variables,
 * the password in a file. With the right password it reports lag; with a wrong one it reports
 * the target down and logs one line naming the mechanism, the user and the listener, once.
 */
let env: StartedEnvironment;
let security: KafkaSecurity;
let admin: Admin;
let producer: Producer;
const exporters: Exporter[] = [];
const dir = mkdtempSync(join(tmpdir(), 'secured-exporter-'));
const prefix = uniqueName('sec');
const topic = `${prefix}-orders`;
const group = `${prefix}-billing`;

/** The exporter as `eda-harness exporter` builds it from these environment variables. */
function exporterFromEnv(vars: Record<string, string>, logger: ExporterLogger): Exporter {
  const { config } = toExporterConfig(
    settingsFromEnv({ EDA_EXPORTER_GROUP_ALLOW: `${prefix}*`, EDA_EXPORTER_TOPIC_ALLOW: `${prefix}*`, EDA_EXPORTER_INTERVAL_SECONDS: '60', ...vars }),
  );
  const exporter = createExporter({ config: { ...config, collectTimeoutSeconds: 20 }, registry: new Registry(), logger });
  exporters.push(exporter);
  return exporter;
}

const value = async (exporter: Exporter, name: string, labels: Record<string, string>): Promise<number | undefined> => {
  const metric = (await exporter.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
};

const recorder = (): ExporterLogger & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
};

beforeAll(async () => {
  env = await new Environment().withKafka({ security: 'sasl_ssl' }).withToxiproxy(false).start();
  security = env.getKafkaSecurity();
  writeFileSync(join(dir, 'password'), `${security.sasl.password}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'wrong-password'), 'not-the-password\n', { mode: 0o600 });
  const kafka = new Kafka({ clientId: 'secured-exporter-it', brokers: security.brokers, ssl: { ca: [security.ssl.caPem] }, sasl: security.sasl, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `m${i}` })) });
  // A group that committed offset 5 of 20: lag 15.
  await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '5' }] });
}, 240_000);

afterAll(async () => {
  for (const e of exporters) await e.stop().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SECURED = (): Record<string, string> => ({
  KAFKA_BROKERS: security.brokers.join(','),
  KAFKA_TLS_CA_FILE: security.ssl.caFile,
  KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
  KAFKA_SASL_USERNAME: security.sasl.username,
  KAFKA_SASL_PASSWORD_FILE: join(dir, 'password'),
});

it('reports lag over SCRAM-SHA-512 and TLS, the password read from a file', async () => {
  const logger = recorder();
  const exporter = exporterFromEnv(SECURED(), logger);
  await waitFor(
    async () => {
      await exporter.collectNow();
      return (await value(exporter, METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name, { group, topic, partition: '0' })) === 15;
    },
    { timeoutMs: 30_000, intervalMs: 500, description: 'lag 15 exported over SASL_SSL' },
  );
  expect(await value(exporter, METRIC.EXPORTER_UP.name, { target: 'kafka', cluster: 'default' })).toBe(1);
  expect(logger.lines).toEqual([]);
});

it('with a wrong password: the target is down and one clear line is logged, not one per collection', async () => {
  const logger = recorder();
  const exporter = exporterFromEnv({ ...SECURED(), KAFKA_SASL_PASSWORD_FILE: join(dir, 'wrong-password') }, logger);
  const durations: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = Date.now();
    await exporter.collectNow();
    durations.push(Date.now() - started);
  }
  expect(await value(exporter, METRIC.EXPORTER_UP.name, { target: 'kafka' })).toBe(0);
  expect(await value(exporter, METRIC.EXPORTER_COLLECT_ERRORS.name, { target: 'kafka' })).toBe(3);
  expect(logger.lines).toHaveLength(1);
  expect(logger.lines[0]).toContain(
    `warn kafka: collection failed: Kafka SASL authentication failed (SCRAM-SHA-512 as user '${security.sasl.username}' on ${security.brokers.join(',')}): check the user and password`,
  );
  // No retry loop: kafkajs gives up on the first refused login (it is not retriable), so a
  // failed collection costs one connection and a handshake, well under its 3 s connect timeout.
  expect(Math.max(...durations)).toBeLessThan(3_000);
});

it('without the CA: one line naming the broker and the CA setting', async () => {
  const logger = recorder();
  const vars = SECURED();
  delete vars['KAFKA_TLS_CA_FILE'];
  const exporter = exporterFromEnv({ ...vars, KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' }, logger);
  await exporter.collectNow();
  await exporter.collectNow();
  expect(await value(exporter, METRIC.EXPORTER_UP.name, { target: 'kafka' })).toBe(0);
  expect(logger.lines).toHaveLength(1);
  expect(logger.lines[0]).toMatch(/Kafka TLS: the certificate of \S+ could not be verified \(\w+\) \(Give the CA .*--kafka-tls-ca-file/);
});
