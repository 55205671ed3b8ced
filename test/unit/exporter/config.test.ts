import { ConfigError } from '../../../core/errors';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkExporterConfig,
  EXPORTER_ENV,
  EXPORTER_FLAGS,
  exporterOptionsHelp,
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
    expect(new Set(Object.values(EXPORTER_ENV)).size).toBe(45);
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
      'c.json: unknown keys kafak, rabbitmq.queue\n  → Known top-level keys: kafka, rabbitmq, port, host, intervalSeconds, granularity, clusterLabel, collectTimeoutSeconds, kafkaClusters, rabbitmqServers. ' +
        'Known keys of rabbitmq: amqpUrl, managementUrl, managementUser, managementPassword, managementPasswordFile, vhost, queues, dlqPatterns, name, ' +
        'requestTimeoutMs, dlqDeny, retryQueuePatterns, managementPageSize, managementCaFile, prometheusUrl',
    );
    // Keys of the embedded configuration that the file does not read are unknown too, not ignored.
    expect(message(() => settingsFromFileText('{"rabbitmq":{"fallbackQueues":["a"]}}'))).toMatch(/^exporter config file: unknown key rabbitmq\.fallbackQueues/);
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
    expect(message(() => checkExporterConfig({ collectTimeoutSeconds: 3_000_000 }))).toMatch(/^exporter config: collectTimeoutSeconds must be a positive number of seconds up to 2147483 \(got 3000000\)/);
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

describe('exporter settings: timeouts, concurrency, allowed lag and the RabbitMQ collector settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exporter-config-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const notPem = join(dir, 'ca.jks');
  writeFileSync(notPem, 'binary keystore');
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).describe();
    }
    throw new Error('expected a ConfigError');
  };
  const HTTPS = 'https://rabbit.example:15671';

  /** Each new setting: its flag value, variable value, file value and what it becomes in the config. */
  const values = {
    collectTimeoutSeconds: { text: '12.5', file: { collectTimeoutSeconds: 12.5 }, at: (c: ExporterConfig) => c.collectTimeoutSeconds, value: 12.5 },
    kafkaClientId: { text: 'lag-exporter', file: { kafka: { brokers: ['k:1'], clientId: 'lag-exporter' } }, at: (c: ExporterConfig) => c.kafka?.clientId, value: 'lag-exporter' },
    kafkaConcurrency: { text: '32', file: { kafka: { brokers: ['k:1'], concurrency: 32 } }, at: (c: ExporterConfig) => c.kafka?.concurrency, value: 32 },
    kafkaRequestTimeoutMs: { text: '30000', file: { kafka: { brokers: ['k:1'], requestTimeoutMs: 30000 } }, at: (c: ExporterConfig) => c.kafka?.requestTimeoutMs, value: 30_000 },
    kafkaAllowedLag: {
      text: 'etl-*=100000, reporting=5000',
      file: { kafka: { brokers: ['k:1'], allowedLag: [{ groups: 'etl-*', messages: 100000 }, { groups: 'reporting', messages: 5000 }] } },
      at: (c: ExporterConfig) => c.kafka?.allowedLag,
      value: [
        { groups: 'etl-*', messages: 100_000 },
        { groups: 'reporting', messages: 5_000 },
      ],
    },
    rabbitmqRequestTimeoutMs: { text: '2500', file: { rabbitmq: { managementUrl: HTTPS, requestTimeoutMs: 2500 } }, at: (c: ExporterConfig) => c.rabbitmq?.requestTimeoutMs, value: 2_500 },
    rabbitmqDlqDeny: { text: 'audit.dlq,keep-*', file: { rabbitmq: { managementUrl: HTTPS, dlqDeny: ['audit.dlq', 'keep-*'] } }, at: (c: ExporterConfig) => c.rabbitmq?.dlqDeny, value: ['audit.dlq', 'keep-*'] },
    rabbitmqRetryQueuePatterns: {
      text: '*.wait',
      file: { rabbitmq: { managementUrl: HTTPS, retryQueuePatterns: ['*.wait'] } },
      at: (c: ExporterConfig) => c.rabbitmq?.retryQueuePatterns,
      value: ['*.wait'],
    },
    managementPageSize: { text: '100', file: { rabbitmq: { managementUrl: HTTPS, managementPageSize: 100 } }, at: (c: ExporterConfig) => c.rabbitmq?.managementPageSize, value: 100 },
    managementCaFile: { text: ca, file: { rabbitmq: { managementUrl: HTTPS, managementCaFile: ca } }, at: (c: ExporterConfig) => c.rabbitmq?.managementCaFile, value: ca },
    prometheusUrl: {
      text: 'http://rabbit.example:15692',
      file: { rabbitmq: { managementUrl: HTTPS, prometheusUrl: 'http://rabbit.example:15692' } },
      at: (c: ExporterConfig) => c.rabbitmq?.prometheusUrl,
      value: 'http://rabbit.example:15692',
    },
  } as const;
  /** Targets for the flag and variable cases, so each setting lands in a configured target. */
  const targets = { kafkaBrokers: ['k:1'], managementUrl: HTTPS } as const;
  const envOf: Record<string, string> = Object.fromEntries(Object.entries(EXPORTER_ENV).map(([env, key]) => [key, env]));

  it.each(Object.keys(values) as (keyof typeof values)[])('%s from a flag, a variable and the file ends up in the config', (key) => {
    const v = values[key];
    const fromFlag = toExporterConfig({ ...targets, ...settingsFromStrings({ [key]: v.text }, 'flags') }).config;
    const fromEnv = toExporterConfig({ ...targets, ...settingsFromEnv({ [envOf[key]!]: v.text }) }).config;
    const fromFile = toExporterConfig(settingsFromFileText(JSON.stringify({ ...v.file, ...('kafka' in v.file || 'rabbitmq' in v.file ? {} : { kafka: { brokers: ['k:1'] } }) }), 'c.json')).config;
    expect([v.at(fromFlag), v.at(fromEnv), v.at(fromFile)]).toEqual([v.value, v.value, v.value]);
    // The embedded configuration takes the same shape and is checked the same way.
    expect(() => checkExporterConfig(fromFile)).not.toThrow();
  });

  it('names the new variables as asked', () => {
    expect(envOf).toMatchObject({
      rabbitmqDlqDeny: 'RABBITMQ_DLQ_DENY',
      rabbitmqRetryQueuePatterns: 'RABBITMQ_RETRY_QUEUE_PATTERNS',
      managementPageSize: 'RABBITMQ_MANAGEMENT_PAGE_SIZE',
      managementCaFile: 'RABBITMQ_MANAGEMENT_CA_FILE',
      prometheusUrl: 'RABBITMQ_PROMETHEUS_URL',
      kafkaAllowedLag: 'KAFKA_ALLOWED_LAG',
      collectTimeoutSeconds: 'EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS',
    });
    expect(settingDescription('kafkaAllowedLag')).toBe('kafka.allowedLag (--kafka-allowed-lag, KAFKA_ALLOWED_LAG)');
  });

  it('allowed lag: repeated flags add up; a glob may hold "="; bad items are named with the form to use', () => {
    expect(settingsFromStrings({ kafkaAllowedLag: ['etl-*=10', 'a=b=0'] }, 'flags')).toEqual({
      kafkaAllowedLag: [
        { groups: 'etl-*', messages: 10 },
        { groups: 'a=b', messages: 0 },
      ],
    });
    expect(message(() => settingsFromStrings({ kafkaAllowedLag: 'etl-*' }, 'flags'))).toBe(
      '--kafka-allowed-lag: "etl-*" is not group-glob=messages\n  → Give each allowance as a group name glob, "=" and a whole number of messages, comma-separated: etl-*=100000,reporting=5000',
    );
    expect(message(() => settingsFromEnv({ KAFKA_ALLOWED_LAG: 'etl-*=-5' }))).toMatch(/^KAFKA_ALLOWED_LAG: "etl-\*=-5" is not group-glob=messages/);
    expect(message(() => settingsFromEnv({ KAFKA_ALLOWED_LAG: 'etl-*=1e5' }))).toMatch(/^KAFKA_ALLOWED_LAG: "etl-\*=1e5" is not group-glob=messages/);
    expect(message(() => settingsFromEnv({ KAFKA_ALLOWED_LAG: '=5' }))).toMatch(/^KAFKA_ALLOWED_LAG: "=5" is not group-glob=messages/);
    expect(message(() => settingsFromStrings({ kafkaAllowedLag: ' , ' }, 'flags'))).toMatch(/^--kafka-allowed-lag is empty \(got " , "\): give one or more group-glob=messages/);
  });

  it('allowed lag in the file: a list of { groups, messages }, each item checked', () => {
    const file = (allowedLag: unknown): string => JSON.stringify({ kafka: { brokers: ['k:1'], allowedLag } });
    expect(message(() => settingsFromFileText(file('etl-*=5'), 'c.json'))).toBe(
      'c.json: kafka.allowedLag must be a list of { "groups": glob, "messages": count } (got "etl-*=5")\n  → In the config file: [{ "groups": "etl-*", "messages": 100000 }]; as a flag or variable: etl-*=100000,reporting=5000',
    );
    expect(message(() => settingsFromFileText(file(['etl-*=5']), 'c.json'))).toMatch(/^c\.json: kafka\.allowedLag\[0\] must be an object/);
    expect(message(() => settingsFromFileText(file([{ groups: 'a', messages: 1 }, { group: 'b', messages: 1 }]), 'c.json'))).toMatch(/^c\.json: kafka\.allowedLag\[1\]: unknown key group: an allowance has only groups and messages/);
    expect(message(() => settingsFromFileText(file([{ groups: '', messages: 1 }]), 'c.json'))).toMatch(/^c\.json: kafka\.allowedLag\[0\]\.groups must be a non-empty glob \(got ""\)/);
    expect(message(() => settingsFromFileText(file([{ groups: 'a', messages: -1 }]), 'c.json'))).toMatch(/^c\.json: kafka\.allowedLag\[0\]\.messages must be a whole number of messages, 0 or more \(got -1\)/);
    expect(message(() => settingsFromFileText(file([{ groups: 'a', messages: '5' }]), 'c.json'))).toMatch(/messages must be a whole number of messages, 0 or more \(got "5"\)/);
    expect(message(() => checkExporterConfig({ kafka: { brokers: ['k:1'], allowedLag: [{ groups: 'a', messages: 0.5 }] } }))).toMatch(/^exporter config: kafka\.allowedLag\[0\]\.messages must be a whole number/);
    // Per cluster in the list of clusters too.
    const listed = toExporterConfig(settingsFromFileText(JSON.stringify({ kafkaClusters: [{ name: 'eu', brokers: ['k:1'], allowedLag: [{ groups: 'etl-*', messages: 7 }] }] })));
    expect(listed.config.kafkaClusters?.[0]?.allowedLag).toEqual([{ groups: 'etl-*', messages: 7 }]);
    expect(message(() => settingsFromFileText(JSON.stringify({ kafkaClusters: [{ name: 'eu', brokers: ['k:1'], allowedLag: [{ groups: 'x' }] }] }), 'c.json'))).toMatch(
      /^c\.json: kafkaClusters\[0\]\.allowedLag\[0\]\.messages must be a whole number/,
    );
  });

  it('numbers: integers in range, named by flag, variable or file path', () => {
    expect(message(() => settingsFromStrings({ collectTimeoutSeconds: '0' }, 'flags'))).toMatch(/^--collect-timeout must be a positive number of seconds up to 2147483 \(got "0"\)/);
    expect(message(() => settingsFromEnv({ EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS: '3000000' }))).toMatch(/^EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS must be a positive number of seconds/);
    expect(message(() => settingsFromStrings({ kafkaConcurrency: '0' }, 'flags'))).toMatch(/^--kafka-concurrency must be an integer from 1 to 1000 \(got "0"\)/);
    expect(message(() => settingsFromEnv({ KAFKA_CONCURRENCY: '2.5' }))).toMatch(/^KAFKA_CONCURRENCY must be an integer from 1 to 1000 \(got "2.5"\)/);
    expect(message(() => settingsFromStrings({ kafkaRequestTimeoutMs: '50' }, 'flags'))).toMatch(/^--kafka-request-timeout-ms must be an integer number of milliseconds from 100 to 2147483000 \(got "50"\)/);
    expect(message(() => settingsFromEnv({ RABBITMQ_REQUEST_TIMEOUT_MS: 'soon' }))).toMatch(/^RABBITMQ_REQUEST_TIMEOUT_MS must be an integer number of milliseconds/);
    expect(message(() => settingsFromStrings({ managementPageSize: '501' }, 'flags'))).toBe(
      '--rabbitmq-management-page-size must be an integer from 1 to 500 (got "501")\n  → RabbitMQ serves at most 500 items per page (the default).',
    );
    expect(message(() => settingsFromFileText('{"rabbitmq":{"managementPageSize":0}}', 'c.json'))).toMatch(/^c\.json: rabbitmq\.managementPageSize must be an integer from 1 to 500 \(got 0\)/);
    expect(message(() => settingsFromFileText('{"kafka":{"concurrency":"4"}}', 'c.json'))).toBe('c.json: kafka.concurrency must be a number (got "4")');
    expect(message(() => settingsFromFileText('{"rabbitmqServers":[{"name":"a","amqpUrl":"amqp://x","requestTimeoutMs":-1}]}', 'c.json'))).toMatch(/^c\.json: rabbitmqServers\[0\]\.requestTimeoutMs must be an integer number/);
  });

  it('strings and lists: client id, DLQ deny list, retry queue patterns, the Prometheus URL', () => {
    expect(message(() => settingsFromStrings({ kafkaClientId: '' }, 'flags'))).toMatch(/^--kafka-client-id must be a non-empty string \(got ""\)/);
    expect(message(() => settingsFromStrings({ rabbitmqDlqDeny: '' }, 'flags'))).toMatch(/^--rabbitmq-dlq-deny is empty/);
    expect(message(() => settingsFromEnv({ RABBITMQ_RETRY_QUEUE_PATTERNS: ',' }))).toMatch(/^RABBITMQ_RETRY_QUEUE_PATTERNS is empty/);
    expect(message(() => settingsFromFileText('{"rabbitmq":{"dlqDeny":"audit.dlq"}}', 'c.json'))).toBe('c.json: rabbitmq.dlqDeny must be a list of strings (got "audit.dlq")');
    expect(message(() => settingsFromStrings({ prometheusUrl: 'rabbit:15692' }, 'flags'))).toMatch(/^--rabbitmq-prometheus-url must be an http:\/\/ or https:\/\/ URL \(got "rabbit:15692"\)/);
    expect(message(() => settingsFromEnv({ RABBITMQ_PROMETHEUS_URL: 'amqp://r' }))).toMatch(/^RABBITMQ_PROMETHEUS_URL must be an http/);
  });

  it('the management CA file: an https URL, a readable PEM file, checked at start', () => {
    expect(message(() => toExporterConfig({ managementUrl: 'http://r:15672', managementCaFile: ca }))).toMatch(
      /^rabbitmq\.managementCaFile \(--rabbitmq-management-ca-file, RABBITMQ_MANAGEMENT_CA_FILE\) is set but rabbitmq\.managementUrl \(--rabbitmq-management-url, RABBITMQ_MANAGEMENT_URL\) "http:\/\/r:15672" is not https/,
    );
    expect(message(() => toExporterConfig({ amqpUrl: 'amqp://r', managementCaFile: ca }))).toMatch(/managementCaFile .* is set but rabbitmq\.managementUrl .* is not: the CA file is for an https management URL/);
    expect(message(() => toExporterConfig({ managementUrl: HTTPS, managementCaFile: join(dir, 'absent.pem') }))).toMatch(/^cannot read rabbitmq\.managementCaFile \(.*\) \S+absent\.pem: no such file/);
    expect(message(() => toExporterConfig({ managementUrl: HTTPS, managementCaFile: notPem }))).toMatch(/ca\.jks holds no PEM certificate/);
    expect(message(() => toExporterConfig(settingsFromFileText(JSON.stringify({ rabbitmqServers: [{ name: 'a', managementUrl: 'http://r', managementCaFile: ca }] }), 'c.json')))).toMatch(
      /^rabbitmqServers\[0\]\.managementCaFile is set but rabbitmqServers\[0\]\.managementUrl "http:\/\/r" is not https/,
    );
    expect(message(() => checkExporterConfig({ rabbitmq: { managementUrl: HTTPS, managementCaFile: notPem } }))).toMatch(/^exporter config: rabbitmq\.managementCaFile \S+ca\.jks holds no PEM certificate/);
  });
});

describe('exporter --help, generated from the settings table', () => {
  const text = exporterOptionsHelp({ Options: ['  --config <file>                   JSON settings file (env EDA_EXPORTER_CONFIG)'] });

  it('has one line per flag, naming its variable, in its section', () => {
    for (const [flag, spec] of Object.entries(EXPORTER_FLAGS)) {
      const env = Object.entries(EXPORTER_ENV).find(([, key]) => key === spec.setting)![0];
      expect(text).toMatch(new RegExp(`^  --${flag} <[^>]+>\\s+.*(\\n\\s+)?\\(env ${env}\\)$`, 'm'));
    }
    expect(text).toContain('\nKafka security:\n  --kafka-security-protocol <p>');
    expect(text.indexOf('Options:\n  --config <file>')).toBeGreaterThan(text.indexOf('Targets (at least one):'));
  });

  it('lists the settings only a variable sets, secrets among them', () => {
    const envOnly = text.slice(text.indexOf('Environment variables only:'));
    for (const env of ['KAFKA_SASL_PASSWORD', 'RABBITMQ_MANAGEMENT_PASSWORD', 'RABBITMQ_MANAGEMENT_USER']) expect(envOnly).toMatch(new RegExp(`^  ${env} `, 'm'));
    expect(text).not.toContain('--kafka-sasl-password <');
  });

  it('says the defaults the code uses', () => {
    expect(text).toMatch(/--status-window <s>\s+consumer status window in seconds \(default 90\)/);
    expect(text).toMatch(/--kafka-allowed-lag <glob=n>\s+.*'etl-\*=100000'/);
  });
});
