import { Registry } from 'prom-client';
import { ConfigError } from '../../../core/errors';
import { configuredTargets, settingsFromFileText, toExporterConfig } from '../../../exporter/config';
import { createExporter } from '../../../exporter/exporter';
import type { ExporterLogger } from '../../../exporter/exporter';
import type { Collector, KafkaSnapshot, RabbitMqSnapshot } from '../../../exporter/types';

const kafkaSnapshot = (lag: number): KafkaSnapshot => ({
  atMs: 1,
  groups: [{ group: 'g', state: 'Stable', members: 1, status: 'OK', uncommitted: new Map() }],
  partitions: [
    { group: 'g', topic: 't', partition: 0, committedOffset: 1, highWatermark: 1 + lag, lagMessages: lag, lagSeconds: lag, lagSecondsSource: 'record', lastCommitMs: 1_000 },
  ],
  watermarks: [{ topic: 't', partition: 0, high: 1 + lag }],
  dlqs: [],
  clamps: [],
  dlqInflow: [],
  warnings: [],
});
const rabbitSnapshot: RabbitMqSnapshot = { atMs: 1, via: 'management', queues: [{ vhost: '/', queue: 'q', ready: 3, unacked: 0, consumers: 1, rates: {} }], dlqs: [], dlqInflow: [], warnings: [] };

const fixed = <S>(target: string, result: () => S | Error): Collector<S> => ({
  target,
  collect: async () => {
    const r = result();
    if (r instanceof Error) throw r;
    return r;
  },
  close: async () => undefined,
});

const series = async (registry: Registry, name: string): Promise<Record<string, string | number>[]> => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => ({ ...v.labels, value: v.value }) as Record<string, string | number>);
};

describe('several clusters in one exporter', () => {
  it('puts each cluster name in the cluster label of every series, health included', async () => {
    const exporter = createExporter({
      config: {},
      registry: new Registry(),
      collectors: [
        { kind: 'kafka', name: 'eu', collector: fixed('kafka', () => kafkaSnapshot(5)) },
        { kind: 'kafka', name: 'us', collector: fixed('kafka', () => kafkaSnapshot(7)) },
        { kind: 'rabbitmq', name: 'eu', collector: fixed('rabbitmq', () => rabbitSnapshot) },
      ],
    });
    await exporter.collectNow();
    const r = exporter.registry as Registry;
    expect(await series(r, 'eda_kafka_consumer_lag_messages')).toEqual(
      expect.arrayContaining([expect.objectContaining({ cluster: 'eu', group: 'g', value: 5 }), expect.objectContaining({ cluster: 'us', group: 'g', value: 7 })]),
    );
    expect(await series(r, 'eda_exporter_up')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'kafka', cluster: 'eu', value: 1 }),
        expect.objectContaining({ target: 'kafka', cluster: 'us', value: 1 }),
        expect.objectContaining({ target: 'rabbitmq', cluster: 'eu', value: 1 }),
      ]),
    );
    // Not one series of any exporter metric lacks the label.
    for (const metric of await r.getMetricsAsJSON()) for (const v of metric.values) expect(v.labels).toHaveProperty('cluster');
    expect(exporter.snapshots().map((s) => `${s.kind}/${s.name}`)).toEqual(['kafka/eu', 'kafka/us', 'rabbitmq/eu']);
  });

  it('uses the configured label name, and `default` for an unnamed single cluster', async () => {
    const exporter = createExporter({ config: { clusterLabel: 'kafka_cluster' }, registry: new Registry(), collectors: { kafka: fixed('kafka', () => kafkaSnapshot(2)) } });
    await exporter.collectNow();
    expect(await series(exporter.registry as Registry, 'eda_kafka_consumer_lag_messages')).toEqual([expect.objectContaining({ kafka_cluster: 'default', value: 2 })]);
  });

  it('keeps one cluster up while another fails, logging the failure and its hint once per change', async () => {
    const logs: string[] = [];
    const logger: ExporterLogger = { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) };
    let failure: Error = new ConfigError("Kafka SASL authentication failed (SCRAM-SHA-512 as user 'x' on k:9094): check the user and password", { hint: 'The broker said: invalid credentials.' });
    const exporter = createExporter({
      config: {},
      registry: new Registry(),
      logger,
      collectors: [
        { kind: 'kafka', name: 'good', collector: fixed('kafka', () => kafkaSnapshot(1)) },
        { kind: 'kafka', name: 'locked', collector: fixed<KafkaSnapshot>('kafka', () => failure) },
      ],
    });
    for (let i = 0; i < 3; i++) await exporter.collectNow();
    failure = new Error('Connection timeout');
    await exporter.collectNow();
    expect(logs).toEqual([
      "warn kafka locked: collection failed: Kafka SASL authentication failed (SCRAM-SHA-512 as user 'x' on k:9094): check the user and password (The broker said: invalid credentials.)",
      'warn kafka locked: collection failed: Connection timeout',
    ]);
    const up = await series(exporter.registry as Registry, 'eda_exporter_up');
    expect(up).toEqual(expect.arrayContaining([expect.objectContaining({ cluster: 'good', value: 1 }), expect.objectContaining({ cluster: 'locked', value: 0 })]));
    expect(await series(exporter.registry as Registry, 'eda_exporter_collect_errors_total')).toEqual(
      expect.arrayContaining([expect.objectContaining({ cluster: 'locked', value: 4 })]),
    );
  });
});

describe('the config file lists clusters', () => {
  const file = {
    clusterLabel: 'env',
    kafka: { brokers: ['local:9092'], name: 'local' },
    kafkaClusters: [
      { name: 'eu', brokers: ['eu-1:9094'], groups: { deny: ['tmp-*'] }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' }, securityProtocol: 'sasl_ssl' },
      { name: 'us', brokers: ['us-1:9092'] },
    ],
    rabbitmqServers: [{ name: 'eu', managementUrl: 'https://rabbit-eu:15671' }],
  };

  it('reads every cluster, each with its own filters and security', () => {
    const { config } = toExporterConfig(settingsFromFileText(JSON.stringify(file), 'c.json'));
    expect(config.clusterLabel).toBe('env');
    const targets = configuredTargets(config);
    expect(targets.kafka.map((t) => t.name)).toEqual(['local', 'eu', 'us']);
    expect(targets.kafka[1]!.config).toEqual({
      name: 'eu',
      brokers: ['eu-1:9094'],
      groups: { deny: ['tmp-*'] },
      topics: {},
      securityProtocol: 'sasl_ssl',
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    expect(targets.rabbitmq).toEqual([{ name: 'eu', config: { name: 'eu', managementUrl: 'https://rabbit-eu:15671', queues: {} } }]);
  });

  it('names the item of a bad setting', () => {
    const bad = { kafkaClusters: [{ name: 'eu', brokers: ['eu:1'], sasl: { mechanism: 'plain', password: 'p' } }] };
    expect(() => toExporterConfig(settingsFromFileText(JSON.stringify(bad), 'c.json'))).toThrow('SASL mechanism PLAIN needs a user name: give kafkaClusters[0].sasl.username');
    expect(() => settingsFromFileText(JSON.stringify({ kafkaClusters: [{ name: 'eu', brokers: 'eu:1' }] }), 'c.json')).toThrow('c.json: kafkaClusters[0].brokers must be a list of strings');
    expect(() => settingsFromFileText(JSON.stringify({ kafkaClusters: [] }), 'c.json')).toThrow('c.json: kafkaClusters must be a non-empty list of objects');
  });
});
