import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '../../../environment/environment';
import type { ManagedProcess } from '../../../environment/managed-process';
import type { EnvironmentProvider, ProviderContext, ProviderPlan, ProviderRegistry } from '../../../environment/provider';
import type { NodeHandle, ProviderKind, StartedJaeger, StartedKafka, StartedPrometheus, StartedRabbitMq } from '../../../environment/types';
import { EdaHarnessError, EnvironmentStartError, ProcessError } from '../../../core/errors';
import { silentProgress } from '../../../core/progress';

/**
 * Environment.start() with fake provider strategies: which provider is asked for what, in which
 * order, and what a failed start throws and tears down. No process is started.
 */

const node = (name: string): NodeHandle => {
  const no = async (): Promise<void> => undefined;
  return { name, pid: undefined, running: true, stop: no, start: no, kill: no, pause: no, resume: no, restart: no };
};
const kafka = (provider: ProviderKind): StartedKafka => ({
  provider,
  version: 'fake',
  brokers: ['127.0.0.1:19092'],
  nodes: [{ ...node('kafka-1'), nodeId: 1, address: '127.0.0.1:19092', proxy: undefined }],
  node: () => {
    throw new Error('unused');
  },
  leaderOf: async () => {
    throw new Error('unused');
  },
});
const rabbitmq = (provider: ProviderKind): StartedRabbitMq => ({ provider, amqpUrl: 'amqp://127.0.0.1:15672', managementUrl: undefined, metricsUrl: undefined, node: node('rabbitmq'), proxy: undefined });
const jaeger = (provider: ProviderKind): StartedJaeger => ({ provider, version: 'fake', queryUrl: 'http://127.0.0.1:16686', otlpHttpUrl: 'http://127.0.0.1:4318', otlpGrpcAddress: undefined, node: node('jaeger') });
const prometheus = (provider: ProviderKind): StartedPrometheus => ({ provider, url: 'http://127.0.0.1:19090', node: node('prometheus'), configFile: undefined, reload: async () => undefined });

/** Stands in for a spawned process: `stop()` logs "<name> stopped" (no process is started). */
const fakeProcess = (name: string, log: string[]): ManagedProcess => {
  let running = true;
  const fake = {
    name,
    pid: undefined,
    get running() {
      return running;
    },
    stop: async () => {
      running = false;
      log.push(`${name} stopped`);
    },
  };
  return fake as unknown as ManagedProcess;
};

type Overrides = Partial<Omit<EnvironmentProvider, 'kind'>>;

/** A registry whose every provider logs its calls; `overrides(kind, context)` replaces some of them. */
function fakeProviders(log: string[], overrides: (kind: ProviderKind, context: ProviderContext) => Overrides = () => ({})): ProviderRegistry {
  const fake = (kind: ProviderKind) => (context: ProviderContext): EnvironmentProvider => ({
    kind,
    prepare: async (plan: ProviderPlan) => {
      log.push(`${kind}: prepare kafka=${plan.kafka?.nodes ?? '-'} rabbitmq=${plan.rabbitmq} prometheus=${plan.prometheus !== undefined} toxiproxy=${plan.toxiproxy}`);
    },
    startKafka: async () => (log.push(`${kind}: kafka`), kafka(kind)),
    startRabbitMq: async () => (log.push(`${kind}: rabbitmq`), rabbitmq(kind)),
    startPrometheus: async () => (log.push(`${kind}: prometheus`), prometheus(kind)),
    startJaeger: async () => (log.push(`${kind}: jaeger`), jaeger(kind)),
    ...overrides(kind, context),
  });
  return { native: fake('native'), containers: fake('containers'), external: fake('external') };
}

let runs: string;
const saved = { ...process.env };
beforeEach(() => {
  runs = mkdtempSync(join(tmpdir(), 'eda-start-test-'));
  delete process.env['EDA_HARNESS_PROVIDER'];
  delete process.env['KAFKA_BROKERS'];
  delete process.env['AMQP_URL'];
  delete process.env['PROMETHEUS_URL'];
  // No Docker engine: the auto provider falls back to native without waiting for a socket.
  process.env['DOCKER_HOST'] = `unix://${join(runs, 'no-docker.sock')}`;
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(runs, { recursive: true, force: true });
});

const build = (providers: ProviderRegistry, runDir = join(runs, 'run')): Environment =>
  new Environment(providers).withRunDir(runDir).withProgress(silentProgress).withSignalHandlers(false);

describe('Environment.start() with provider strategies', () => {
  it('prepares every provider in use with its own services, then starts brokers, then Prometheus', async () => {
    process.env['KAFKA_BROKERS'] = '127.0.0.1:19092';
    const log: string[] = [];
    const env = await build(fakeProviders(log)).withKafka({ nodes: 3 }).withRabbitMq().withPrometheus().withToxiproxy().start();
    expect(log.slice(0, 2).sort()).toEqual([
      'external: prepare kafka=3 rabbitmq=false prometheus=false toxiproxy=true',
      'native: prepare kafka=- rabbitmq=true prometheus=true toxiproxy=true',
    ]);
    expect(log.slice(2, 4).sort()).toEqual(['external: kafka', 'native: rabbitmq']);
    expect(log[4]).toBe('native: prometheus');
    expect(env.kafka?.provider).toBe('external');
    expect(env.rabbitmq?.provider).toBe('native');
    expect(env.getPrometheusUrl()).toBe('http://127.0.0.1:19090');
    expect(env.describe().kafka?.brokers).toEqual(['127.0.0.1:19092']);
    expect(existsSync(join(env.runDir, 'environment.json'))).toBe(true);
    await env.stop();
    expect(existsSync(env.runDir)).toBe(false);
  });

  it('withProvider forces one provider for every service', async () => {
    process.env['KAFKA_BROKERS'] = '127.0.0.1:19092';
    const log: string[] = [];
    await using env = await build(fakeProviders(log)).withProvider('containers').withKafka().withRabbitMq().start();
    expect(log.filter((l) => !l.startsWith('containers'))).toEqual([]);
    expect(env.kafka?.provider).toBe('containers');
  });

  it('a failed start ends what the providers registered (after the other broker has settled) and keeps the run directory', async () => {
    const log: string[] = [];
    let release: () => void = () => undefined;
    const providers = fakeProviders(log, (kind, context) => ({
      startKafka: async () => {
        await new Promise<void>((r) => (release = r));
        context.resources.onStop(async () => void log.push('kafka stopped'));
        return kafka(kind);
      },
      startRabbitMq: async () => {
        setTimeout(() => release(), 20);
        throw new Error('rabbit fell over');
      },
    }));
    const runDir = join(runs, 'failed');
    const err = await build(providers, runDir).withProvider('native').withKafka().withRabbitMq().start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentStartError);
    expect(log).toContain('kafka stopped');
    expect(existsSync(runDir)).toBe(true);
  });

  it('a failed start ends the processes a provider registered before the failure (spawned, not yet ready)', async () => {
    const log: string[] = [];
    const providers = fakeProviders(log, (_kind, context) => ({
      startKafka: async () => {
        // What the native provider does: register each node as it is spawned, then wait for readiness.
        const nodes = ['kafka-1', 'kafka-2', 'kafka-3'].map((n) => fakeProcess(n, log));
        context.resources.ownProcesses(() => nodes);
        throw new ProcessError('kafka-2 exited during start-up (exit code 1)');
      },
    }));
    const err = await build(providers).withProvider('native').withKafka({ nodes: 3 }).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentStartError);
    expect(log.filter((l) => l.endsWith('stopped')).sort()).toEqual(['kafka-1 stopped', 'kafka-2 stopped', 'kafka-3 stopped']);
  });

  it('a failed prepare waits for the other providers to finish preparing, and ends what they registered', async () => {
    process.env['KAFKA_BROKERS'] = '127.0.0.1:19092';
    const log: string[] = [];
    const providers = fakeProviders(log, (kind, context) =>
      kind === 'external'
        ? {
            prepare: async () => {
              throw new Error('external Kafka unreachable');
            },
          }
        : {
            // The native provider is still starting Toxiproxy when the external one fails.
            prepare: async () => {
              await new Promise((r) => setTimeout(r, 50));
              context.resources.ownProcesses(() => [fakeProcess('toxiproxy', log)]);
            },
          },
    );
    const err = await build(providers).withKafka().withRabbitMq().withToxiproxy().start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentStartError);
    expect((err as Error).message).toContain('external Kafka unreachable');
    expect(log).toContain('toxiproxy stopped');
  });
});

describe('the error a failed start throws', () => {
  async function failWith(error: unknown): Promise<EnvironmentStartError> {
    const providers = fakeProviders([], () => ({
      startKafka: async () => {
        throw error;
      },
    }));
    const err = await build(providers).withProvider('native').withKafka().start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentStartError);
    return err as EnvironmentStartError;
  }

  it('keeps a ProcessError as its cause and shows its log file (message and logFile), code and hint', async () => {
    const original = new ProcessError('kafka-1 exited during start-up (exit code 1)', { logFile: '/runs/r1/kafka-1/kafka.log', hint: 'Read the end of the log.' });
    const err = await failWith(original);
    expect(err.cause).toBe(original);
    expect(err.code).toBe('PROCESS_FAILED');
    expect(err.logFile).toBe('/runs/r1/kafka-1/kafka.log');
    expect(err.message).toContain('environment failed to start: kafka-1 exited during start-up (exit code 1)');
    expect(err.message).toContain('/runs/r1/kafka-1/kafka.log');
    expect(err.message).toContain(`run directory (logs of every process): ${join(runs, 'run')}`);
    expect(err.runDir).toBe(join(runs, 'run'));
    expect(err.describe()).toMatch(/→ Read the end of the log\.$/);
  });

  it('does not repeat a log file the message already names', async () => {
    const err = await failWith(new ProcessError('kafka-1 exited; its log: /l/kafka.log', { logFile: '/l/kafka.log' }));
    expect(err.message.split('/l/kafka.log')).toHaveLength(2);
  });

  it('keeps the code and message of a bare EdaHarnessError, and its retriable', async () => {
    const original = new EdaHarnessError('NOT_READY', 'RabbitMQ never answered', { retriable: true });
    const err = await failWith(original);
    expect(err.code).toBe('NOT_READY');
    expect(err.message).toMatch(/^environment failed to start: RabbitMQ never answered\n/);
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(original);
    expect(err.logFile).toBeUndefined();
  });

  it('wraps anything else as PROCESS_FAILED', async () => {
    const err = await failWith('a string');
    expect(err.code).toBe('PROCESS_FAILED');
    expect(err.message).toMatch(/^environment failed to start: a string\n/);
    expect(err.cause).toBe('a string');
  });
});

describe('Environment.start() checks its configuration before any provider is made', () => {
  const refusedBeforeProviders = async (env: Environment, made: string[], message: string | RegExp): Promise<void> => {
    await expect(env.start()).rejects.toThrow(message);
    expect(made).toEqual([]);
  };
  const recording = (made: string[]): ProviderRegistry => {
    const inner = fakeProviders([]);
    const wrap = (kind: ProviderKind) => (context: ProviderContext) => (made.push(kind), inner[kind](context));
    return { native: wrap('native'), containers: wrap('containers'), external: wrap('external') };
  };

  it('EDA_HARNESS_PROVIDER=bogus is a ConfigError naming the allowed values, not auto', async () => {
    process.env['EDA_HARNESS_PROVIDER'] = 'bogus';
    const made: string[] = [];
    await refusedBeforeProviders(build(recording(made)).withRabbitMq(), made, 'EDA_HARNESS_PROVIDER must be one of auto, external, containers, native (got "bogus")');
    expect(existsSync(join(runs, 'run'))).toBe(false);
  });

  it('a bad KAFKA_BROKERS entry, a bad EDA_HARNESS_KAFKA_VERSION, a run directory that cannot be made', async () => {
    const made: string[] = [];
    process.env['KAFKA_BROKERS'] = 'garbage, ,not a host:abc';
    await refusedBeforeProviders(build(recording(made)).withProvider('external').withKafka(), made, /KAFKA_BROKERS has invalid entries: "garbage"/);
    delete process.env['KAFKA_BROKERS'];
    process.env['EDA_HARNESS_KAFKA_VERSION'] = '../../x';
    await refusedBeforeProviders(build(recording(made)).withProvider('native').withKafka(), made, 'EDA_HARNESS_KAFKA_VERSION must be a Kafka release');
    delete process.env['EDA_HARNESS_KAFKA_VERSION'];
    expect(() => new Environment().withKafka({ version: '4.4.0/../..' })).toThrow('withKafka: version must be a Kafka release');
    await refusedBeforeProviders(build(recording(made), '/proc/forbidden/run').withProvider('native').withRabbitMq(), made, 'Cannot create the run directory /proc/forbidden/run');
  });

  it('makes its run directory private (0700) in a private runs directory (EDA_HARNESS_RUNS)', async () => {
    process.env['EDA_HARNESS_RUNS'] = join(runs, 'private-runs');
    const env = await new Environment(fakeProviders([])).withProgress(silentProgress).withSignalHandlers(false).withKeepRunDir().withRabbitMq().start();
    try {
      expect(env.runDir).toMatch(new RegExp(`^${join(runs, 'private-runs')}/\\d{8}-\\d{6}-[0-9a-f]{6}$`));
      expect(statSync(join(runs, 'private-runs')).mode & 0o777).toBe(0o700);
      expect(statSync(env.runDir).mode & 0o777).toBe(0o700);
    } finally {
      await env.stop();
    }
  });

  it('refuses a runs directory other users may write to', async () => {
    process.env['EDA_HARNESS_RUNS'] = join(runs, 'shared');
    mkdirSync(join(runs, 'shared'));
    chmodSync(join(runs, 'shared'), 0o777);
    const made: string[] = [];
    await refusedBeforeProviders(new Environment(recording(made)).withProgress(silentProgress).withSignalHandlers(false).withRabbitMq(), made, /Refusing to use the runs directory .*shared: other users may write to it/);
  });
});
