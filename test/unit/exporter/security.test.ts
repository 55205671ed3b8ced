import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../core/errors';
import { checkExporterConfig, settingsFromEnv, settingsFromFileText, settingsFromStrings, toExporterConfig } from '../../../exporter/config';
import type { ExporterSettings } from '../../../exporter/config';
import { explainKafkaFailure, kafkaSecurityOptions } from '../../../exporter/kafka/collector';
import { readExporterFlags } from '../../../cli/exporter-command';

const dir = mkdtempSync(join(tmpdir(), 'exporter-security-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const PASSWORD = file('password', 's3cret\n');
const TOKEN = file('token', 'eyJhbGciOi.token\n');
const BROKERS = { kafkaBrokers: ['127.0.0.1:9094'] } as const;

const refused = (s: ExporterSettings): string => {
  try {
    toExporterConfig({ ...BROKERS, ...s });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('Kafka security settings', () => {
  it('reads SCRAM over TLS from environment variables, the password from a file', () => {
    const s = settingsFromEnv({
      KAFKA_BROKERS: '127.0.0.1:9094',
      KAFKA_TLS_CA_FILE: CA,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'exporter',
      KAFKA_SASL_PASSWORD_FILE: PASSWORD,
    });
    const { config } = toExporterConfig(s);
    expect(config.kafka).toMatchObject({ brokers: ['127.0.0.1:9094'], tls: { caFile: CA }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'exporter', passwordFile: PASSWORD } });
    // The password is read from the file (its trailing newline dropped) when the client is built.
    expect(kafkaSecurityOptions(config.kafka!)).toEqual({
      ssl: { ca: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'] },
      sasl: { mechanism: 'scram-sha-512', username: 'exporter', password: 's3cret' },
    });
  });

  it('reads the same settings from flags and from the config file', () => {
    const flags = readExporterFlags(['--kafka-brokers', 'k:9094', '--kafka-sasl-mechanism', 'plain', '--kafka-sasl-username', 'u', '--kafka-sasl-password-file', PASSWORD, '--kafka-tls-servername', 'kafka.internal']);
    expect(toExporterConfig(flags.settings).config.kafka).toMatchObject({ sasl: { mechanism: 'plain', username: 'u', passwordFile: PASSWORD }, tls: { servername: 'kafka.internal' } });
    const fromFile = settingsFromFileText(JSON.stringify({ kafka: { brokers: ['k:9094'], securityProtocol: 'sasl_ssl', sasl: { mechanism: 'oauthbearer', tokenFile: TOKEN } } }));
    expect(toExporterConfig(fromFile).config.kafka).toMatchObject({ securityProtocol: 'sasl_ssl', sasl: { mechanism: 'oauthbearer', tokenFile: TOKEN } });
  });

  it('turns TLS on with sasl_ssl even without a CA file (the system CAs)', () => {
    expect(kafkaSecurityOptions({ brokers: ['k:1'], securityProtocol: 'sasl_ssl', sasl: { mechanism: 'plain', username: 'u', password: 'p' } })).toEqual({
      ssl: {},
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
    });
    expect(kafkaSecurityOptions({ brokers: ['k:1'] })).toEqual({});
  });

  it('gives OAUTHBEARER a provider that re-reads the token file at each authentication', async () => {
    const tokenFile = file('rotating-token', 'first');
    const { sasl } = kafkaSecurityOptions({ brokers: ['k:1'], sasl: { mechanism: 'oauthbearer', tokenFile } });
    const provider = (sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider;
    expect(await provider()).toEqual({ value: 'first' });
    writeFileSync(tokenFile, 'second\n');
    expect(await provider()).toEqual({ value: 'second' });
  });

  it('runs the token command at each authentication: plain output or a JSON access_token', async () => {
    const token = async (tokenCommand: string): Promise<unknown> => {
      const { sasl } = kafkaSecurityOptions({ brokers: ['k:1'], sasl: { mechanism: 'oauthbearer', tokenCommand } });
      return (sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider();
    };
    await expect(token('echo abc.def')).resolves.toEqual({ value: 'abc.def' });
    await expect(token(`echo '{"access_token":"xyz","expires_in":300}'`)).resolves.toEqual({ value: 'xyz' });
    await expect(token('echo nope >&2; exit 3')).rejects.toThrow(/the Kafka OAUTHBEARER token command \(kafka\.sasl\.tokenCommand\) failed: exit 3: nope/);
  });

  it('refuses a missing or unreadable file, naming the setting and the file', () => {
    expect(refused({ kafkaSaslMechanism: 'scram-sha-256', kafkaSaslUsername: 'u', kafkaSaslPasswordFile: join(dir, 'absent') })).toBe(
      `cannot read the Kafka SASL password file (kafka.sasl.passwordFile (--kafka-sasl-password-file, KAFKA_SASL_PASSWORD_FILE)) ${join(dir, 'absent')}: no such file`,
    );
    expect(refused({ kafkaTlsCaFile: dir })).toContain(`(kafka.tls.caFile (--kafka-tls-ca-file, KAFKA_TLS_CA_FILE)) ${dir}: it is a directory`);
    if (process.getuid?.() !== 0) {
      const locked = file('locked', 'x');
      chmodSync(locked, 0o000);
      expect(refused({ kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPasswordFile: locked })).toContain('permission denied');
    }
    expect(refused({ kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPasswordFile: file('empty', '\n') })).toContain('is empty');
    expect(refused({ kafkaTlsCaFile: PASSWORD })).toContain('holds no PEM certificate');
  });

  it('refuses settings that do not fit together', () => {
    expect(refused({ kafkaSaslMechanism: 'scram-sha-512', kafkaSaslPasswordFile: PASSWORD })).toBe(
      'SASL mechanism SCRAM-SHA-512 needs a user name: give kafka.sasl.username (--kafka-sasl-username, KAFKA_SASL_USERNAME)',
    );
    expect(refused({ kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u' })).toContain('SASL mechanism PLAIN needs a password: give kafka.sasl.passwordFile');
    expect(refused({ kafkaSaslUsername: 'u', kafkaSaslPasswordFile: PASSWORD })).toContain('kafka.sasl.username (--kafka-sasl-username, KAFKA_SASL_USERNAME) is set but no SASL mechanism is');
    expect(refused({ kafkaSaslMechanism: 'oauthbearer' })).toContain('SASL mechanism OAUTHBEARER needs a token');
    expect(refused({ kafkaSaslMechanism: 'oauthbearer', kafkaSaslTokenFile: TOKEN, kafkaSaslTokenCommand: 'x' })).toContain('are both set: give only one');
    expect(refused({ kafkaSaslMechanism: 'oauthbearer', kafkaSaslTokenFile: TOKEN, kafkaSaslUsername: 'u' })).toContain('is for PLAIN and SCRAM, not OAUTHBEARER');
    expect(refused({ kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPassword: 'p', kafkaSaslPasswordFile: PASSWORD })).toContain('are both set');
    expect(refused({ kafkaTlsCertFile: CA })).toContain('kafka.tls.certFile (--kafka-tls-cert-file, KAFKA_TLS_CERT_FILE) is set but kafka.tls.keyFile');
    expect(refused({ kafkaSecurityProtocol: 'sasl_ssl' })).toContain('is sasl_ssl but no SASL mechanism is set');
    expect(refused({ kafkaSecurityProtocol: 'plaintext', kafkaTlsCaFile: CA })).toContain('is plaintext but TLS settings are given: use ssl');
  });

  it('refuses an unknown mechanism or protocol where it is given', () => {
    expect(() => settingsFromStrings({ kafkaSaslMechanism: 'GSSAPI' }, 'flags')).toThrow('--kafka-sasl-mechanism must be one of plain, scram-sha-256, scram-sha-512, oauthbearer (got "GSSAPI")');
    expect(() => settingsFromEnv({ KAFKA_SECURITY_PROTOCOL: 'tls' })).toThrow('KAFKA_SECURITY_PROTOCOL must be one of plaintext, ssl, sasl_plaintext, sasl_ssl (got "tls")');
    expect(() => settingsFromFileText(JSON.stringify({ kafka: { sasl: { mechanism: 'md5' } } }), 'c.json')).toThrow('c.json: kafka.sasl.mechanism must be one of');
    expect(() => settingsFromFileText(JSON.stringify({ kafka: { sasl: { user: 'x' } } }), 'c.json')).toThrow('c.json: unknown key kafka.sasl.user');
  });

  it('refuses a password on the command line, pointing at the file and the variable', () => {
    expect(() => readExporterFlags(['--kafka-brokers', 'k:1', '--kafka-sasl-password', 'hunter2'])).toThrow(
      '--kafka-sasl-password is refused: a password on the command line is visible to every user of the machine (ps)',
    );
  });

  it('checks an embedded configuration the same way', () => {
    expect(() => checkExporterConfig({ kafka: { brokers: ['k:1'], sasl: { mechanism: 'scram-sha-256', password: 'p' } } })).toThrow(
      'SASL mechanism SCRAM-SHA-256 needs a user name: give exporter config: kafka.sasl.username',
    );
  });
});

describe('Kafka failures explained', () => {
  const config = { brokers: ['127.0.0.1:9094'], sasl: { mechanism: 'scram-sha-512' as const, username: 'x', password: 'wrong' } };

  it('names the mechanism, the user and the listener of a refused login', () => {
    // kafkajs's error, wrapped the way its retrier wraps it.
    const auth = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const wrapped = Object.assign(new Error('wrapped'), { name: 'KafkaJSNonRetriableError', originalError: auth });
    const explained = explainKafkaFailure(wrapped, config) as ConfigError;
    expect(explained.message).toBe("Kafka SASL authentication failed (SCRAM-SHA-512 as user 'x' on 127.0.0.1:9094): check the user and password");
    expect(explained.hint).toContain('invalid credentials');
  });

  it('names the broker of an unverifiable certificate and the CA setting', () => {
    const tls = Object.assign(new Error('Connection error: self-signed certificate in certificate chain'), {
      name: 'KafkaJSConnectionError',
      broker: '127.0.0.1:9094',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const explained = explainKafkaFailure(tls, config) as ConfigError;
    expect(explained.message).toBe('Kafka TLS: the certificate of 127.0.0.1:9094 could not be verified (SELF_SIGNED_CERT_IN_CHAIN)');
    expect(explained.hint).toContain('--kafka-tls-ca-file');
  });

  it('leaves any other error as it is', () => {
    const other = new Error('Connection timeout');
    expect(explainKafkaFailure(other, config)).toBe(other);
  });
});

describe('RabbitMQ management password file', () => {
  it('is read into the management password, and refused when missing or given with the password', async () => {
    const { withManagementPassword } = await import('../../../exporter/config');
    const { config } = toExporterConfig(settingsFromEnv({ RABBITMQ_MANAGEMENT_URL: 'https://rabbit:15671', RABBITMQ_MANAGEMENT_PASSWORD_FILE: PASSWORD }));
    expect(withManagementPassword(config.rabbitmq!)).toEqual({ managementUrl: 'https://rabbit:15671', managementPassword: 's3cret', queues: {} });
    expect(() => toExporterConfig({ managementUrl: 'http://r:15672', managementPasswordFile: join(dir, 'absent') })).toThrow('cannot read rabbitmq.managementPasswordFile');
    expect(() => toExporterConfig({ managementUrl: 'http://r:15672', managementPassword: 'p', managementPasswordFile: PASSWORD })).toThrow('are both set: give only one');
  });
});
