import type { StartedEnvironment } from '../../../environment/index';
import { kafkaClientSecurityFromEnv, kafkaConnectionOf } from '../../../chaos/index';

/** Only what kafkaConnectionOf reads of a started environment. */
function fakeEnv(kafka: { provider: 'native' | 'external'; secured: boolean }): StartedEnvironment {
  const security = { brokers: ['127.0.0.1:19093'], ssl: { caFile: '/run/ca.pem', caPem: 'PEM', truststoreFile: '/run/ts.p12', truststorePassword: 'x' }, sasl: { mechanism: 'scram-sha-512' as const, username: 'eda', password: 'pw' } };
  return {
    kafka: { provider: kafka.provider, ...(kafka.secured ? { security } : {}) },
    getKafkaBrokers: () => ['127.0.0.1:19092'],
    getKafkaSecurity: () => ({ ...security, protocol: 'SASL_SSL', users: [] }),
  } as unknown as StartedEnvironment;
}

const USER_SETTINGS = { securityProtocol: 'sasl_ssl', tls: { caFile: '/etc/ca.pem' }, sasl: { mechanism: 'plain', username: 'u', passwordFile: '/pw' } };

describe('kafkaConnectionOf', () => {
  it('a secured Kafka eda-harness started: its SASL_SSL listener and SCRAM user', () => {
    expect(kafkaConnectionOf(fakeEnv({ provider: 'native', secured: true }), undefined)).toEqual({
      brokers: ['127.0.0.1:19093'],
      security: { securityProtocol: 'sasl_ssl', tls: { caFile: '/run/ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'eda', password: 'pw' } },
    });
  });

  it('a plaintext Kafka: its brokers and no security', () => {
    expect(kafkaConnectionOf(fakeEnv({ provider: 'native', secured: false }), undefined)).toEqual({ brokers: ['127.0.0.1:19092'], security: undefined });
    expect(kafkaConnectionOf(fakeEnv({ provider: 'native', secured: false }), { securityProtocol: 'plaintext' })).toEqual({ brokers: ['127.0.0.1:19092'], security: undefined });
  });

  it("a Kafka the user runs (KAFKA_BROKERS): the user's settings", () => {
    expect(kafkaConnectionOf(fakeEnv({ provider: 'external', secured: false }), USER_SETTINGS)).toEqual({ brokers: ['127.0.0.1:19092'], security: USER_SETTINGS });
  });

  it('settings for a plaintext Kafka eda-harness started are refused, pointing at --kafka-security', () => {
    expect(() => kafkaConnectionOf(fakeEnv({ provider: 'native', secured: false }), USER_SETTINGS)).toThrow(
      'Kafka security settings are given, but the Kafka of this run was started by eda-harness (native) with a plaintext listener only',
    );
  });
});

describe('kafkaClientSecurityFromEnv', () => {
  it('no variables, or plaintext: undefined', () => {
    expect(kafkaClientSecurityFromEnv({})).toBeUndefined();
    expect(kafkaClientSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'plaintext' })).toBeUndefined();
  });

  it('with KAFKA_BROKERS: the checked settings', () => {
    expect(kafkaClientSecurityFromEnv({ KAFKA_BROKERS: 'k:9093', KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_TLS_CA_FILE: '/ca' })).toEqual({ securityProtocol: 'ssl', tls: { caFile: '/ca' } });
  });

  it('without KAFKA_BROKERS: an error naming the variables that are set', () => {
    expect(() => kafkaClientSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_TLS_CA_FILE: '/ca' })).toThrow(
      'KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_CA_FILE are set but KAFKA_BROKERS is not: the Kafka security settings are for a cluster you run',
    );
  });

  it('bad settings: the core check, naming the variable', () => {
    expect(() => kafkaClientSecurityFromEnv({ KAFKA_BROKERS: 'k:9093', KAFKA_SASL_MECHANISM: 'kerberos' })).toThrow('KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, oauthbearer (got "kerberos")');
  });
});
