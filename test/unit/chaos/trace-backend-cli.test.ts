import { ConfigError } from '@eda-harness/core';
import { CHAOS_HELP, describeNeeds, parseRunFlags } from '../../../cli/chaos-command';

/** `chaos run --traces jaeger`: the flag, its refusal of other values, and the need it adds. */
describe('chaos run --traces', () => {
  it('takes jaeger or recorded (the default), and refuses anything else naming the choices', () => {
    expect(parseRunFlags(['--traces', 'jaeger']).traces).toBe('jaeger');
    expect(parseRunFlags(['--traces=recorded']).traces).toBeUndefined();
    expect(parseRunFlags([]).traces).toBeUndefined();
    expect(() => parseRunFlags(['--traces', 'tempo'])).toThrow(ConfigError);
    expect(() => parseRunFlags(['--traces', 'tempo'])).toThrow('--traces must be recorded or jaeger (got "tempo")');
  });

  it('is in the help, and Jaeger is named among an environment\'s needs', () => {
    expect(CHAOS_HELP).toContain('--traces <source>');
    expect(describeNeeds({ kafkaNodes: 1, jaeger: true })).toBe('Kafka ×1 + Jaeger');
  });
});
