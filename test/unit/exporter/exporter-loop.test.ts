import { Registry } from 'prom-client';
import { TimeoutError } from '../../../core/errors';
import { CollectionTimeoutError, createExporter } from '../../../exporter/exporter';
import type { Collector, KafkaSnapshot, RabbitMqSnapshot } from '../../../exporter/types';
import { readExporterFlags, settingsFromFlags } from '../../../cli/exporter-command';
import { ConfigError } from '../../../core/errors';

const snapshot = (lag: number): KafkaSnapshot => ({
  atMs: 1,
  groups: [{ group: 'g', state: 'Stable', members: 1, status: 'OK', uncommitted: new Map() }],
  partitions: [
    { group: 'g', topic: 't', partition: 0, committedOffset: 1, highWatermark: 1 + lag, lagMessages: lag, lagSeconds: lag, lagSecondsSource: 'record', lastCommitMs: 1_000 },
  ],
  watermarks: [],
  dlqs: [],
  clamps: [],
  dlqInflow: [],
  warnings: [],
});

/** A collector whose next results are scripted: a snapshot, an error, or a promise that never settles. */
function scripted<S>(target: string, results: (S | Error | 'hang')[]): Collector<S> & { closed: number } {
  const c = {
    target,
    closed: 0,
    collect: () => {
      const next = results.shift();
      if (next === undefined) throw new Error('script exhausted');
      if (next === 'hang') return new Promise<S>(() => undefined);
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    close: async () => {
      c.closed++;
    },
  };
  return c;
}

const value = async (registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, l]) => String(x.labels[k]) === l));
  return v?.value;
};

describe('exporter loop', () => {
  it('caches the last good snapshot, marks the target down on failure and counts the error', async () => {
    const kafka = scripted<KafkaSnapshot>('kafka', [snapshot(5), new Error('broker gone'), snapshot(0)]);
    const exporter = createExporter({ config: { intervalSeconds: 60 }, registry: new Registry(), collectors: { kafka } });
    const r = exporter.registry as Registry;

    await exporter.collectNow();
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(1);
    expect(await value(r, 'eda_kafka_consumer_lag_messages', { group: 'g', partition: '0' })).toBe(5);

    await exporter.collectNow();
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(0);
    expect(await value(r, 'eda_exporter_collect_errors_total', { target: 'kafka' })).toBe(1);
    // The last good values stay: alerts on them do not flap because one poll failed.
    expect(await value(r, 'eda_kafka_consumer_lag_messages', { group: 'g', partition: '0' })).toBe(5);

    await exporter.collectNow();
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(1);
    expect(await value(r, 'eda_kafka_consumer_lag_messages', { group: 'g', partition: '0' })).toBe(0);
    expect(await value(r, 'eda_exporter_collect_errors_total', { target: 'kafka' })).toBe(1);
    await exporter.stop();
  });

  it('one failing target does not take the other down', async () => {
    const kafka = scripted<KafkaSnapshot>('kafka', [new Error('no kafka')]);
    const rabbitmq = scripted<RabbitMqSnapshot>('rabbitmq', [
      { atMs: 1, via: 'management', queues: [{ vhost: '/', queue: 'q', ready: 3, unacked: 0, consumers: 1, rates: {} }], dlqs: [], dlqInflow: [], warnings: [] },
    ]);
    const exporter = createExporter({ config: {}, collectors: { kafka, rabbitmq } });
    await exporter.collectNow();
    const r = exporter.registry as Registry;
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(0);
    expect(await value(r, 'eda_exporter_up', { target: 'rabbitmq' })).toBe(1);
    expect(await value(r, 'eda_rabbitmq_queue_messages', { queue: 'q', state: 'ready' })).toBe(3);
    await exporter.stop();
  });

  it('a hanging collection times out, counts as a failure and drops its connections', async () => {
    const kafka = scripted<KafkaSnapshot>('kafka', ['hang']);
    const exporter = createExporter({ config: { collectTimeoutSeconds: 1 }, collectors: { kafka } });
    const started = Date.now();
    await exporter.collectNow();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(exporter.health()[0]).toMatchObject({ up: false, errors: 1 });
    expect(kafka.closed).toBe(1);
    await exporter.stop();
  });

  it('tells its own deadline from a failure by type, not by message: only the deadline closes the connections', async () => {
    const lookalike = new Error('collection took longer than the broker liked');
    const inner = new TimeoutError('the broker request took longer than 10 ms');
    const kafka = scripted<KafkaSnapshot>('kafka', [lookalike, inner, 'hang']);
    const exporter = createExporter({ config: { collectTimeoutSeconds: 1 }, collectors: { kafka } });
    await exporter.collectNow();
    await exporter.collectNow();
    // The collection failed by itself (and cleaned up after itself): nothing to close.
    expect(kafka.closed).toBe(0);
    await exporter.collectNow();
    expect(kafka.closed).toBe(1);
    expect(exporter.health()[0]).toMatchObject({ up: false, errors: 3 });
    await exporter.stop();
  });

  it('the deadline error is a TimeoutError naming the limit', () => {
    const err = new CollectionTimeoutError('collection took longer than 1000 ms');
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'TIMEOUT', retriable: true, name: 'CollectionTimeoutError' });
  });

  it('series of a group that disappeared are removed at the next collection', async () => {
    const empty: KafkaSnapshot = { ...snapshot(0), groups: [], partitions: [] };
    const kafka = scripted<KafkaSnapshot>('kafka', [snapshot(2), empty]);
    const exporter = createExporter({ config: {}, collectors: { kafka } });
    const r = exporter.registry as Registry;
    await exporter.collectNow();
    expect(await value(r, 'eda_kafka_consumer_status', { group: 'g' })).toBe(0);
    await exporter.collectNow();
    expect(await value(r, 'eda_kafka_consumer_status', { group: 'g' })).toBeUndefined();
    await exporter.stop();
  });
});

describe('exporter loop: what vanished, what failed partly, how old', () => {
  it('a group and a dead-letter topic present in collection 1 and gone in collection 2 are not in /metrics after 2, counters included', async () => {
    const first: KafkaSnapshot = {
      ...snapshot(3),
      dlqs: [{ system: 'kafka', dlq: 't.dlq', sources: ['t'], depth: 1, oldestAgeSeconds: 2 }],
      clamps: [{ labels: { group: 'g', topic: 't' }, value: 1 }],
      dlqInflow: [{ labels: { dlq: 't.dlq', source: 't' }, value: 4 }],
    };
    // The counts stay in the second snapshot, as a collector's memory would still hold them.
    const second: KafkaSnapshot = { ...first, groups: [], partitions: [], dlqs: [] };
    const kafka = scripted<KafkaSnapshot>('kafka', [first, second]);
    const exporter = createExporter({ config: {}, collectors: { kafka } });
    const r = exporter.registry as Registry;
    await exporter.collectNow();
    const page1 = await r.metrics();
    for (const name of ['eda_kafka_consumer_lag_messages', 'eda_kafka_consumer_status', 'eda_kafka_consumer_lag_clamped_total', 'eda_dlq_inflow_messages_total', 'eda_dlq_depth_messages']) {
      expect(page1).toMatch(new RegExp(`^${name}\\{`, 'm'));
    }
    await exporter.collectNow();
    const page2 = await r.metrics();
    expect(page2).not.toContain('group="g"');
    expect(page2).not.toContain('dlq="t.dlq"');
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(1);
    await exporter.stop();
  });

  it('counts partial failures by request, logs them once per kind per interval, and says when the values were read', async () => {
    const warnings = ['listOffsets(t/1): LEADER_NOT_AVAILABLE', 'describeGroups(h): GROUP_AUTHORIZATION_FAILED'];
    const kafka = scripted<KafkaSnapshot>('kafka', [1, 2, 3].map((i) => ({ ...snapshot(i), atMs: 1_700_000_000_000 + i * 1000, warnings })));
    const logged: string[] = [];
    const exporter = createExporter({
      config: {},
      collectors: { kafka },
      logger: { info: () => undefined, warn: (m) => void logged.push(m) },
      warningLogIntervalMs: 3_600_000,
    });
    const r = exporter.registry as Registry;
    for (let i = 0; i < 3; i++) await exporter.collectNow();
    expect(await value(r, 'eda_exporter_partial_failures_total', { target: 'kafka', request: 'list_offsets' })).toBe(3);
    expect(await value(r, 'eda_exporter_partial_failures_total', { target: 'kafka', request: 'describe_group' })).toBe(3);
    expect(logged).toEqual(['kafka: listOffsets(t/1): LEADER_NOT_AVAILABLE', 'kafka: describeGroups(h): GROUP_AUTHORIZATION_FAILED']);
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(1);
    expect(await value(r, 'eda_exporter_last_collection_timestamp_seconds', { target: 'kafka' })).toBe(1_700_000_003);
    expect(await value(r, 'eda_exporter_collected_objects', { target: 'kafka', object: 'groups' })).toBe(1);
    expect(await value(r, 'eda_exporter_collected_objects', { target: 'kafka', object: 'group_partitions' })).toBe(1);
    await exporter.stop();
  });

  it('a failed collection leaves the collection time of the values it keeps', async () => {
    const kafka = scripted<KafkaSnapshot>('kafka', [{ ...snapshot(1), atMs: 5_000 }, new Error('gone')]);
    const exporter = createExporter({ config: {}, collectors: { kafka } });
    const r = exporter.registry as Registry;
    await exporter.collectNow();
    await exporter.collectNow();
    expect(await value(r, 'eda_exporter_up', { target: 'kafka' })).toBe(0);
    expect(await value(r, 'eda_exporter_last_collection_timestamp_seconds', { target: 'kafka' })).toBe(5);
    await exporter.stop();
  });
});

describe('exporter command flags', () => {
  it('maps flags to settings; repeatable filters accept commas too', () => {
    const { settings, config, once } = settingsFromFlags([
      '--kafka-brokers', 'a:1,b:2', '--port', '9500', '--group-deny', 'tmp-*', '--group-deny', 'x,y', '--granularity', 'topic', '--config', 'c.json', '--once',
    ]);
    expect(settings).toEqual({ kafkaBrokers: ['a:1', 'b:2'], port: 9500, groupDeny: ['tmp-*', 'x', 'y'], granularity: 'topic' });
    expect(config).toBe('c.json');
    expect(once).toBe(true);
  });

  it('rejects unknown flags', () => {
    expect(() => settingsFromFlags(['--kafka', 'x'])).toThrow();
  });

  it('the command reads its flags checked: a bad value is a ConfigError naming the flag', () => {
    expect(readExporterFlags(['--kafka-brokers', 'a:1', '--port', '0', '--interval', '0.5', '--once']).settings).toEqual({ kafkaBrokers: ['a:1'], port: 0, intervalSeconds: 0.5 });
    expect(() => readExporterFlags(['--port', ''])).toThrow(new ConfigError('--port must be an integer from 0 to 65535 (got "")'));
    expect(() => readExporterFlags(['--kafka-brokers', 'not a host'])).toThrow(/^--kafka-brokers: "not a host" is not host:port/);
    expect(() => readExporterFlags(['--interval', '2147484'])).toThrow(/^--interval must be a number of seconds from 0\.1 to 86400/);
    expect(() => readExporterFlags(['--config', ''])).toThrow('--config must be a file name (got "")');
  });

  it('settingsFromFlags maps any value to its setting unchecked (the reference page finds each flag\'s setting with "x")', () => {
    expect(settingsFromFlags(['--port', 'x']).settings).toEqual({ port: NaN });
    expect(Object.keys(settingsFromFlags(['--kafka-brokers', 'x']).settings)).toEqual(['kafkaBrokers']);
    expect(Object.keys(settingsFromFlags(['--interval', 'x']).settings)).toEqual(['intervalSeconds']);
  });
});

describe('exporter configuration checks', () => {
  it('refuses an interval Node timers cannot hold (it would fire every millisecond) and bad broker addresses', () => {
    expect(() => createExporter({ config: { intervalSeconds: 2_147_484 }, collectors: { kafka: scripted<KafkaSnapshot>('kafka', []) } })).toThrow(
      /^exporter config: intervalSeconds must be a number of seconds from 0\.1 to 86400 \(got 2147484\)/,
    );
    expect(() => createExporter({ config: { kafka: { brokers: ['garbage'] } } })).toThrow(ConfigError);
    expect(() => createExporter({ config: { collectTimeoutSeconds: Infinity } })).toThrow(/collectTimeoutSeconds/);
  });
});
