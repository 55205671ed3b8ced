import { SCENARIO_NAMES } from '../../../chaos/catalog';
import { CHAOS_HELP, describeNeeds, parseRunFlags } from '../../../cli/chaos-command';
import { runMain } from '../../support/run-main';


describe('eda-harness chaos', () => {
  it('is listed in the top-level usage', async () => {
    const r = await runMain(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/chaos\s+run broker-chaos scenarios/);
  });

  it('prints help with every scenario name, the invariants, the report files and an example', async () => {
    const r = await runMain(['chaos', '--help']);
    expect(r.code).toBe(0);
    for (const name of SCENARIO_NAMES) expect(r.out).toContain(name);
    expect(r.out).toContain('no acknowledged message lost');
    expect(r.out).toContain('poison dead-lettered');
    for (const file of ['chaos-report.json', 'chaos-junit.xml', 'chaos-report.html']) expect(r.out).toContain(file);
    expect(r.out).toMatch(/Example:\n\s+eda-harness chaos/);
    expect((await runMain(['chaos', 'run', '-h'])).out).toBe(CHAOS_HELP);
  });

  it('lists every scenario with its system, needs and summary in aligned columns', async () => {
    const r = await runMain(['chaos', 'list']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(SCENARIO_NAMES.length);
    for (const name of SCENARIO_NAMES) expect(r.out).toContain(name);
    expect(r.out).toMatch(/kafka-leader-failover\s+kafka\s+Kafka ×3/);
    expect(r.out).toMatch(/rabbitmq-restart\s+rabbitmq\s+RabbitMQ\s/);
    expect(r.out).toMatch(/kafka-latency\s+kafka\s+Kafka ×1 \+ Toxiproxy/);
    // The system column starts at the same offset on every line.
    const systemAt = lines.map((l) => l.search(/ (kafka|rabbitmq) /));
    expect(new Set(systemAt).size).toBe(1);
  });

  it('lists the scenarios as JSON with --json', async () => {
    const r = await runMain(['chaos', 'list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { name: string; system: string; environment: string; summary: string }[];
    expect(rows.map((x) => x.name)).toEqual([...SCENARIO_NAMES]);
    for (const row of rows) {
      expect(['kafka', 'rabbitmq']).toContain(row.system);
      expect(row.environment).not.toBe('');
      expect(row.summary).not.toBe('');
    }
  });

  it('exits 2 on an unknown scenario and names the known ones', async () => {
    const r = await runMain(['chaos', 'run', 'no-such']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no-such');
    expect(r.err).toContain('known scenarios');
    for (const name of SCENARIO_NAMES) expect(r.err).toContain(name);
  });

  it('exits 2 on a negative or non-numeric duration and names the flag', async () => {
    const negative = await runMain(['chaos', 'run', 'rabbitmq-kill', '--fault', '-3']);
    expect(negative.code).toBe(2);
    expect(negative.err).toMatch(/--fault must be a number of seconds/);
    expect(negative.err).toContain('"-3"');

    const word = await runMain(['chaos', 'run', '--warmup=soon']);
    expect(word.code).toBe(2);
    expect(word.err).toMatch(/--warmup must be a number of seconds.*"soon"/);

    const empty = await runMain(['chaos', 'run', '--drain-timeout', '']);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('--drain-timeout');
  });

  /**
   * Input these tests expect to be refused before anything starts. Should a check ever be skipped,
   * the scenario looks for brokers on closed ports (an external provider) instead of starting any.
   */
  async function withoutBrokers<T>(fn: () => Promise<T>): Promise<T> {
    const vars = { EDA_HARNESS_PROVIDER: 'external', KAFKA_BROKERS: '127.0.0.1:1', AMQP_URL: 'amqp://127.0.0.1:1' };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  it('exits 2 on a duration over a day (Node timers overflow past 24.8 days and fire at once)', async () => {
    const r = await withoutBrokers(() => runMain(['chaos', 'run', 'rabbitmq-kill', '--fault', '9999999999']));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--fault must be at most 86400 seconds (a day), got "9999999999"');
    expect(parseRunFlags(['--recovery', '86400']).timing).toEqual({ recoveryMs: 86_400_000 });
  });

  it('exits 2 on a report folder that cannot be written, before any scenario starts a broker', async () => {
    const progress = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const started = Date.now();
      const r = await withoutBrokers(() => runMain(['chaos', 'run', 'rabbitmq-restart', '--report-dir', '/proc/forbidden']));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(r.code).toBe(2);
      expect(r.err).toContain('Cannot create the report folder /proc/forbidden');
      expect(progress).not.toHaveBeenCalled();
    } finally {
      progress.mockRestore();
    }
  });

  it('exits 2 on an unknown subcommand or option', async () => {
    const sub = await runMain(['chaos', 'explode']);
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('unknown chaos subcommand "explode"');

    expect((await runMain(['chaos'])).code).toBe(2);
    expect((await runMain(['chaos', 'run', '--bogus'])).code).toBe(2);
  });

  it('parses run flags: seconds with decimals to milliseconds, positionals as patterns', () => {
    const flags = parseRunFlags(['kafka-*', 'rabbitmq-kill', '--warmup', '1.5', '--fault', '0', '--recovery=3', '--drain-timeout', '20', '--report-dir', '/tmp/x', '--json']);
    expect(flags).toEqual({
      patterns: ['kafka-*', 'rabbitmq-kill'],
      reportDir: '/tmp/x',
      timing: { warmupMs: 1500, faultMs: 0, recoveryMs: 3000, drainTimeoutMs: 20_000 },
      json: true,
    });
    expect(parseRunFlags([])).toMatchObject({ patterns: [], timing: {}, json: false });
    expect(parseRunFlags([]).reportDir).toMatch(/chaos-report$/);
  });

  it('describes environment needs', () => {
    expect(describeNeeds({ kafkaNodes: 1, toxiproxy: true, rabbitmq: false })).toBe('Kafka ×1 + Toxiproxy');
    expect(describeNeeds({ kafkaNodes: 3, rabbitmq: false, toxiproxy: false })).toBe('Kafka ×3');
    expect(describeNeeds({ rabbitmq: true, toxiproxy: false })).toBe('RabbitMQ');
  });
});
