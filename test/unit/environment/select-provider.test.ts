import { selectProvider } from '../../../environment/select-provider';
import { ConfigError } from '../../../core/errors';

const none = {};
const all = { KAFKA_BROKERS: 'k:9092', AMQP_URL: 'amqp://r', PROMETHEUS_URL: 'http://p:9090' };

describe('selectProvider', () => {
  it('auto: a service its variable names is external, whatever Docker says', () => {
    for (const dockerAnswers of [undefined, true, false]) {
      expect(selectProvider('kafka', { choice: undefined, env: all, dockerAnswers })).toBe('external');
      expect(selectProvider('rabbitmq', { choice: 'auto', env: all, dockerAnswers })).toBe('external');
      expect(selectProvider('prometheus', { choice: undefined, env: all, dockerAnswers })).toBe('external');
    }
  });

  it('auto: containers when Docker answers, native otherwise, and undefined until Docker was asked', () => {
    expect(selectProvider('kafka', { choice: undefined, env: none, dockerAnswers: undefined })).toBeUndefined();
    expect(selectProvider('kafka', { choice: undefined, env: none, dockerAnswers: true })).toBe('containers');
    expect(selectProvider('kafka', { choice: 'auto', env: none, dockerAnswers: false })).toBe('native');
  });

  it('auto: each service on its own (only the named one is external)', () => {
    const env = { AMQP_URL: 'amqp://r' };
    expect(selectProvider('rabbitmq', { choice: undefined, env, dockerAnswers: false })).toBe('external');
    expect(selectProvider('kafka', { choice: undefined, env, dockerAnswers: false })).toBe('native');
    expect(selectProvider('prometheus', { choice: undefined, env, dockerAnswers: true })).toBe('containers');
  });

  it('an empty variable names nothing', () => {
    expect(selectProvider('kafka', { choice: undefined, env: { KAFKA_BROKERS: ' , ' }, dockerAnswers: false })).toBe('native');
    expect(selectProvider('rabbitmq', { choice: undefined, env: { AMQP_URL: '' }, dockerAnswers: false })).toBe('native');
  });

  it('a forced native or containers provider wins over variables and Docker, without asking Docker', () => {
    expect(selectProvider('kafka', { choice: 'native', env: all, dockerAnswers: undefined })).toBe('native');
    expect(selectProvider('rabbitmq', { choice: 'containers', env: all, dockerAnswers: undefined })).toBe('containers');
    expect(selectProvider('prometheus', { choice: 'native', env: none, dockerAnswers: true })).toBe('native');
  });

  it('forced external needs the service variable, or names it in a ConfigError', () => {
    expect(selectProvider('kafka', { choice: 'external', env: all, dockerAnswers: undefined })).toBe('external');
    const cases = [
      ['kafka', /KAFKA_BROKERS/],
      ['rabbitmq', /AMQP_URL/],
      ['prometheus', /PROMETHEUS_URL/],
    ] as const;
    for (const [service, variable] of cases) {
      expect(() => selectProvider(service, { choice: 'external', env: none, dockerAnswers: true })).toThrow(ConfigError);
      expect(() => selectProvider(service, { choice: 'external', env: none, dockerAnswers: true })).toThrow(variable);
    }
  });

  it('an unknown EDA_HARNESS_PROVIDER value is a ConfigError naming the allowed values (a typo must not start native brokers)', () => {
    for (const dockerAnswers of [undefined, false, true]) {
      expect(() => selectProvider('kafka', { choice: 'docker', env: none, dockerAnswers })).toThrow(ConfigError);
      expect(() => selectProvider('kafka', { choice: 'bogus', env: all, dockerAnswers })).toThrow('EDA_HARNESS_PROVIDER must be one of auto, external, containers, native (got "bogus")');
    }
  });

  it('an empty choice is auto', () => {
    expect(selectProvider('kafka', { choice: '', env: none, dockerAnswers: false })).toBe('native');
  });

  it('an external service must be named well: each bad KAFKA_BROKERS entry is named, forced or auto', () => {
    const env = { KAFKA_BROKERS: 'garbage, ,not a host:abc, 127.0.0.1:9092' };
    for (const choice of ['external', undefined]) {
      expect(() => selectProvider('kafka', { choice, env, dockerAnswers: false })).toThrow(ConfigError);
      expect(() => selectProvider('kafka', { choice, env, dockerAnswers: false })).toThrow(
        'KAFKA_BROKERS has invalid entries: "garbage": expected host:port; "not a host:abc": "not a host" is not a host name or IP address',
      );
    }
    // Another service is not held up by a bad KAFKA_BROKERS, and native Kafka ignores it.
    expect(selectProvider('rabbitmq', { choice: undefined, env, dockerAnswers: false })).toBe('native');
    expect(selectProvider('kafka', { choice: 'native', env, dockerAnswers: undefined })).toBe('native');
  });

  it('AMQP_URL, RABBITMQ_MANAGEMENT_URL and PROMETHEUS_URL must be URLs of their kind (passwords hidden)', () => {
    expect(() => selectProvider('rabbitmq', { choice: undefined, env: { AMQP_URL: 'http://u:secret@h' }, dockerAnswers: false })).toThrow('AMQP_URL "http://u:***@h": its scheme is http, not amqp or amqps');
    expect(() => selectProvider('rabbitmq', { choice: undefined, env: { AMQP_URL: 'amqp://h', RABBITMQ_MANAGEMENT_URL: 'h:15672' }, dockerAnswers: false })).toThrow(/RABBITMQ_MANAGEMENT_URL "h:15672"/);
    expect(() => selectProvider('prometheus', { choice: 'external', env: { PROMETHEUS_URL: 'not a url' }, dockerAnswers: false })).toThrow('PROMETHEUS_URL "not a url": it is not a URL');
    expect(selectProvider('rabbitmq', { choice: undefined, env: { AMQP_URL: 'amqps://u:p@rabbit.example:5671/vhost', RABBITMQ_MANAGEMENT_URL: 'https://rabbit.example' }, dockerAnswers: false })).toBe('external');
  });
});
