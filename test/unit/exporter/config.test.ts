import { ConfigError } from '../../../core/errors';
import {
  checkExporterConfig,
  EXPORTER_ENV,
  mergeSettings,
  settingDescription,
  settingName,
  settingsFromEnv,
  settingsFromFileText,
  settingsFromStrings,
  toExporterConfig,
} from '../../../exporter/config';
import { INTERVAL_SECONDS, isBroker, isHostName, MAX_TIMER_SECONDS, redactCredentials } from '../../../exporter/setting-rules';
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
    expect(new Set(Object.values(EXPORTER_ENV)).size).toBe(34);
  });

  it('rejects malformed files with the field named by its path in the file', () => {
    expect(() => settingsFromFileText('{')).toThrow(/not valid JSON/);
    expect(() => settingsFromFileText('{"kafka":{"brokers":"k:9092"}}')).toThrow('exporter config file: kafka.brokers must be a list of strings (got "k:9092")');
    expect(() => settingsFromFileText('{"kafka":{"groups":["a"]}}')).toThrow('exporter config file: kafka.groups must be an object (got ["a"])');
    expect(() => settingsFromFileText('{"rabbitmq":3}')).toThrow('exporter config file: rabbitmq must be an object (got 3)');
    expect(() => settingsFromFileText('{"port":"9464"}', 'c.json')).toThrow('c.json: port must be a number (got "9464")');
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

describe('exporter settings: bad values are refused, named as the user wrote them', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).describe();
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses unknown keys anywhere in the file, with the key path and the known keys', () => {
    // A misspelt filter would otherwise export every group.
    expect(message(() => settingsFromFileText('{"kafka":{"brokers":["k:1"],"groups":{"alow":["orders-*"]}}}', 'c.json'))).toBe(
      'c.json: unknown key kafka.groups.alow\n  → Known keys of kafka.groups: allow, deny',
    );
    expect(message(() => settingsFromFileText('{"kafak":{},"rabbitmq":{"queue":{}}}', 'c.json'))).toBe(
      'c.json: unknown keys kafak, rabbitmq.queue\n  → Known top-level keys: kafka, rabbitmq, port, host, intervalSeconds, granularity, clusterLabel, kafkaClusters, rabbitmqServers. ' +
        'Known keys of rabbitmq: amqpUrl, managementUrl, managementUser, managementPassword, managementPasswordFile, vhost, queues, dlqPatterns, name',
    );
    // Keys of the embedded configuration that the file does not read are unknown too, not ignored.
    expect(message(() => settingsFromFileText('{"collectTimeoutSeconds":5}'))).toMatch(/^exporter config file: unknown key collectTimeoutSeconds/);
  });

  it('checks every value of the file against its rule', () => {
    expect(message(() => settingsFromFileText('{"kafka":{"brokers":["garbage"]}}', 'c.json'))).toMatch(/^c\.json: kafka\.brokers: "garbage" is not host:port/);
    expect(message(() => settingsFromFileText('{"intervalSeconds":1e999}', 'c.json'))).toBe('c.json: intervalSeconds must be a number of seconds from 0.1 to 86400 (got Infinity)');
    expect(message(() => settingsFromFileText('{"port":9464.5}', 'c.json'))).toMatch(/^c\.json: port must be an integer from 0 to 65535 \(got 9464\.5\)/);
    expect(message(() => settingsFromFileText('{"rabbitmq":{"queues":{"deny":[""]}}}', 'c.json'))).toBe('c.json: rabbitmq.queues.deny: "" is not a non-empty glob');
    expect(message(() => settingsFromFileText('{"rabbitmq":{"managementUrl":"amqp://r:5672"}}', 'c.json'))).toMatch(/^c\.json: rabbitmq\.managementUrl must be an http:\/\/ or https:\/\/ URL/);
  });

  it('names environment variables, and refuses bad brokers and numbers there', () => {
    expect(message(() => settingsFromEnv({ KAFKA_BROKERS: 'garbage' }))).toMatch(/^KAFKA_BROKERS: "garbage" is not host:port \(for example localhost:9092\)/);
    expect(message(() => settingsFromEnv({ KAFKA_BROKERS: 'a:1, ,not a host:abc' }))).toMatch(/^KAFKA_BROKERS: "not a host:abc" is not host:port/);
    expect(message(() => settingsFromEnv({ KAFKA_BROKERS: ' , ' }))).toMatch(/^KAFKA_BROKERS is empty \(got " , "\)/);
    expect(message(() => settingsFromEnv({ EDA_EXPORTER_PORT: ' ' }))).toMatch(/^EDA_EXPORTER_PORT must be an integer from 0 to 65535 \(got " "\)/);
    expect(message(() => settingsFromEnv({ EDA_EXPORTER_INTERVAL_SECONDS: '2147484' }))).toBe('EDA_EXPORTER_INTERVAL_SECONDS must be a number of seconds from 0.1 to 86400 (got "2147484")');
    expect(message(() => settingsFromEnv({ AMQP_URL: 'amqp://u:s3cret@bad host' }))).toMatch(/^AMQP_URL must be an amqp:\/\/ or amqps:\/\/ URL \(got "amqp:\/\/u:\*\*\*@bad host"\)/);
    // Empty variables are unset, as in most shells' conventions.
    expect(settingsFromEnv({ KAFKA_BROKERS: '', EDA_EXPORTER_PORT: '' })).toEqual({});
  });

  it('names flags; a flag given empty is refused, not read as "everything" or a random port', () => {
    expect(message(() => settingsFromStrings({ port: '' }, 'flags'))).toMatch(/^--port must be an integer from 0 to 65535 \(got ""\)/);
    expect(message(() => settingsFromStrings({ groupAllow: ['orders-*', ''] }, 'flags'))).toMatch(/^--group-allow is empty \(got ""\)/);
    expect(message(() => settingsFromStrings({ kafkaBrokers: 'not a host' }, 'flags'))).toMatch(/^--kafka-brokers: "not a host" is not host:port/);
    expect(message(() => settingsFromStrings({ host: 'bad host' }, 'flags'))).toMatch(/^--host must be a host name or IP address \(got "bad host"\)/);
    expect(message(() => settingsFromStrings({ statusWindowSeconds: '0x10' }, 'flags'))).toMatch(/^--status-window must be a number of seconds from 1 to 604800 \(got "0x10"\)/);
    expect(settingsFromStrings({ port: '0', intervalSeconds: '0.5', groupAllow: ['a,b', 'c'], host: '::1', kafkaBrokers: 'kafka_1:9092,10.0.0.1:9093' }, 'flags')).toEqual({
      port: 0,
      intervalSeconds: 0.5,
      groupAllow: ['a', 'b', 'c'],
      host: '::1',
      kafkaBrokers: ['kafka_1:9092', '10.0.0.1:9093'],
    });
  });

  it('bounds the durations to what Node timers hold', () => {
    expect(MAX_TIMER_SECONDS).toBe(2_147_483);
    expect(INTERVAL_SECONDS.max).toBeLessThan(MAX_TIMER_SECONDS);
    expect(settingsFromStrings({ intervalSeconds: '86400', statusWindowSeconds: '604800' }, 'env')).toEqual({ intervalSeconds: 86_400, statusWindowSeconds: 604_800 });
    expect(message(() => settingsFromStrings({ intervalSeconds: '86400.5' }, 'flags'))).toMatch(/^--interval must be/);
    expect(message(() => settingsFromStrings({ intervalSeconds: '0.05' }, 'flags'))).toMatch(/^--interval must be/);
  });

  it('settings built in code are checked too, named by every spelling (never kafkaBrokers)', () => {
    expect(message(() => toExporterConfig({ kafkaBrokers: ['not a host'] }))).toMatch(/^kafka\.brokers \(--kafka-brokers, KAFKA_BROKERS\): "not a host" is not host:port/);
    expect(message(() => toExporterConfig({ kafkaBrokers: ['k:1'], intervalSeconds: 2_147_484 }))).toMatch(
      /^intervalSeconds \(--interval, EDA_EXPORTER_INTERVAL_SECONDS\) must be a number of seconds from 0\.1 to 86400 \(got 2147484\)/,
    );
    expect(message(() => toExporterConfig({ amqpUrl: 'x', managementPassword: 'p' }))).toMatch(/^rabbitmq\.amqpUrl \(--amqp-url, AMQP_URL\) must be an amqp/);
    expect(message(() => toExporterConfig({}))).toMatch(/kafka\.brokers, rabbitmq\.managementUrl, rabbitmq\.amqpUrl, kafkaClusters, rabbitmqServers in the config file/);
  });

  it('the embedded configuration is checked by its paths, and its collection timeout must fit a timer', () => {
    expect(() => checkExporterConfig({ kafka: { brokers: ['k:9092'], clientId: 'mine', concurrency: 4 }, intervalSeconds: 0.5, collectTimeoutSeconds: 5 })).not.toThrow();
    expect(message(() => checkExporterConfig({ kafka: { brokers: ['garbage'] } }))).toMatch(/^exporter config: kafka\.brokers: "garbage" is not host:port/);
    expect(message(() => checkExporterConfig({ intervalSeconds: 2_147_484 }))).toMatch(/^exporter config: intervalSeconds must be a number of seconds from 0\.1 to 86400/);
    expect(message(() => checkExporterConfig({ collectTimeoutSeconds: 3_000_000 }))).toBe('exporter config: collectTimeoutSeconds must be a positive number of seconds up to 2147483 (got 3000000)');
    expect(message(() => checkExporterConfig({ rabbitmq: { managementUrl: 'not a url' } }))).toMatch(/^exporter config: rabbitmq\.managementUrl must be an http/);
  });

  it('names a setting as each layer spells it', () => {
    expect(settingName('kafkaBrokers', 'flags')).toBe('--kafka-brokers');
    expect(settingName('kafkaBrokers', 'env')).toBe('KAFKA_BROKERS');
    expect(settingName('kafkaBrokers', { file: 'c.json' })).toBe('c.json: kafka.brokers');
    expect(settingName('managementUser', 'flags')).toBe('RABBITMQ_MANAGEMENT_USER'); // no flag: only the variable can set it
    expect(settingDescription('groupAllow')).toBe('kafka.groups.allow (--group-allow, EDA_EXPORTER_GROUP_ALLOW)');
  });
});

describe('setting rules', () => {
  it('a Kafka broker is host:port as kafkajs reads it', () => {
    const ok = ['localhost:9092', 'kafka-1.example.com:9093', 'kafka_1:9092', '10.0.0.1:1', 'k:65535'];
    const bad = ['garbage', 'not a host:9092', 'localhost', 'localhost:', ':9092', 'localhost:0', 'localhost:65536', 'localhost:9092:1', '[::1]:9092', 'localhost:abc', 'a..b:1'];
    expect(ok.filter((b) => !isBroker(b))).toEqual([]);
    expect(bad.filter((b) => isBroker(b))).toEqual([]);
  });

  it('host names and IP addresses', () => {
    expect(['0.0.0.0', '::', '::1', '127.0.0.1', 'localhost', 'my-host.local.'].filter((h) => !isHostName(h))).toEqual([]);
    expect(['', 'bad host', 'a/b', 'http://x', '-x', 'a..b'].filter((h) => isHostName(h))).toEqual([]);
  });

  it('masks passwords in URLs shown in messages', () => {
    expect(redactCredentials('amqp://user:s3cret@host:5672/vh')).toBe('amqp://user:***@host:5672/vh');
    expect(redactCredentials('amqp://user:s3 cret@bad host')).toBe('amqp://user:***@bad host');
    expect(redactCredentials('http://host:15672')).toBe('http://host:15672');
  });
});
