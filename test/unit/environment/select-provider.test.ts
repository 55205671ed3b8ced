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

  it('an unknown EDA_HARNESS_PROVIDER value is auto', () => {
    expect(selectProvider('kafka', { choice: 'docker', env: none, dockerAnswers: false })).toBe('native');
    expect(selectProvider('kafka', { choice: 'docker', env: all, dockerAnswers: false })).toBe('external');
  });
});
