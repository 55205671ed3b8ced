import { ConfigError } from '../../../core/errors';
import { EXPORTER_ENV, mergeSettings, settingsFromEnv, settingsFromFileText, toExporterConfig } from '../../../exporter/config';
import type { ExporterConfig } from '../../../exporter/types';
import { createNameFilter, matchDlqPattern } from '../../../exporter/name-filter';

describe('exporter settings', () => {
  it('reads environment variables, lists split on commas', () => {
    expect(
      settingsFromEnv({ KAFKA_BROKERS: 'a:9092, b:9092', EDA_EXPORTER_PORT: '9500', EDA_EXPORTER_GROUP_DENY: 'tmp-*,test-*', EDA_EXPORTER_GRANULARITY: 'topic' }),
    ).toEqual({ kafkaBrokers: ['a:9092', 'b:9092'], port: 9500, groupDeny: ['tmp-*', 'test-*'], granularity: 'topic' });
  });

  it('rejects a non-numeric number variable', () => {
    expect(() => settingsFromEnv({ EDA_EXPORTER_INTERVAL_SECONDS: 'soon' })).toThrow(ConfigError);
  });

  it('reads the nested JSON file format', () => {
    const s = settingsFromFileText(
      JSON.stringify({
        port: 9000,
        granularity: 'topic',
        kafka: { brokers: ['k:9092'], groups: { allow: ['svc-*'] }, dlqPatterns: ['*.dead'], statusWindowSeconds: 120 },
        rabbitmq: { managementUrl: 'http://r:15672', queues: { deny: ['amq.*'] } },
      }),
    );
    expect(s).toEqual({
      port: 9000,
      granularity: 'topic',
      kafkaBrokers: ['k:9092'],
      groupAllow: ['svc-*'],
      kafkaDlqPatterns: ['*.dead'],
      statusWindowSeconds: 120,
      managementUrl: 'http://r:15672',
      queueDeny: ['amq.*'],
    });
  });

  it('the file has the shape of the exporter config: a full file comes back as the config', () => {
    const config: ExporterConfig = {
      intervalSeconds: 5,
      granularity: 'topic',
      kafka: { brokers: ['k:9092'], groups: { allow: ['a'], deny: ['b'] }, topics: { allow: ['c'], deny: ['d'] }, dlqPatterns: ['*.dead'], statusWindowSeconds: 60 },
      rabbitmq: {
        amqpUrl: 'amqp://x',
        managementUrl: 'http://r:15672',
        managementUser: 'u',
        managementPassword: 'p',
        vhost: 'v',
        queues: { allow: ['e'], deny: ['f'] },
        dlqPatterns: ['*.parking'],
      },
    };
    expect(toExporterConfig(settingsFromFileText(JSON.stringify({ ...config, port: 1234, host: 'h' })))).toEqual({ config, port: 1234, host: 'h' });
  });

  it('names an environment variable for every setting', () => {
    expect(EXPORTER_ENV['KAFKA_BROKERS']).toBe('kafkaBrokers');
    expect(EXPORTER_ENV['EDA_EXPORTER_RABBITMQ_DLQ_PATTERNS']).toBe('rabbitmqDlqPatterns');
    expect(new Set(Object.values(EXPORTER_ENV)).size).toBe(19);
  });

  it('rejects malformed files with the field named', () => {
    expect(() => settingsFromFileText('{')).toThrow(/not valid JSON/);
    expect(() => settingsFromFileText('{"kafka":{"brokers":"k:9092"}}')).toThrow(/kafkaBrokers/);
    expect(() => settingsFromFileText('{"kafka":{"groups":["a"]}}')).toThrow('exporter config file: groups must be an object');
    expect(() => settingsFromFileText('{"rabbitmq":3}')).toThrow('exporter config file: rabbitmq must be an object');
  });

  it('lets flags override env override file, field by field', () => {
    const merged = mergeSettings({ port: 1 }, { port: 2, host: 'h-env' }, { port: 3, host: 'h-file', intervalSeconds: 5 });
    expect(merged).toEqual({ port: 1, host: 'h-env', intervalSeconds: 5 });
  });

  it('builds the exporter config and refuses to run with no target or bad values', () => {
    const { config, port, host } = toExporterConfig({ kafkaBrokers: ['k:1'], topicDeny: ['__*'], amqpUrl: 'amqp://x' });
    expect(port).toBe(9464);
    expect(host).toBe('0.0.0.0');
    expect(config.kafka).toEqual({ brokers: ['k:1'], groups: {}, topics: { deny: ['__*'] } });
    expect(config.rabbitmq).toEqual({ amqpUrl: 'amqp://x', queues: {} });
    expect(() => toExporterConfig({})).toThrow(/nothing to export/);
    expect(() => toExporterConfig({ kafkaBrokers: ['k:1'], intervalSeconds: 0 })).toThrow(ConfigError);
    expect(() => toExporterConfig({ kafkaBrokers: ['k:1'], granularity: 'group' as 'topic' })).toThrow(/granularity/);
    expect(() => toExporterConfig({ kafkaBrokers: ['k:1'], port: 70_000 })).toThrow(/port/);
  });
});

describe('name filters and DLQ patterns', () => {
  it('allows by glob, deny wins', () => {
    const f = createNameFilter({ allow: ['orders-*', 'payments'], deny: ['orders-test*'] });
    expect(['orders-eu', 'payments', 'orders-test-1', 'payments-x', 'x.orders-eu'].map(f)).toEqual([true, true, false, false, false]);
    expect(createNameFilter({})('anything')).toBe(true);
  });

  it('treats regex characters literally', () => {
    expect(createNameFilter({ allow: ['a.b'] })('axb')).toBe(false);
  });

  it('matches DLQ patterns and takes the source from the wildcard', () => {
    const patterns = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT', 'graveyard'];
    expect(matchDlqPattern(patterns, 'orders.dlq')).toEqual({ dlq: 'orders.dlq', source: 'orders' });
    expect(matchDlqPattern(patterns, 'dlq.payments')).toEqual({ dlq: 'dlq.payments', source: 'payments' });
    expect(matchDlqPattern(patterns, 'orders.DLT')).toEqual({ dlq: 'orders.DLT', source: 'orders' });
    expect(matchDlqPattern(patterns, 'graveyard')).toEqual({ dlq: 'graveyard', source: undefined });
    expect(matchDlqPattern(patterns, 'orders')).toBeUndefined();
  });
});
