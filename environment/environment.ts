import '@eda-harness/core';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, EdaHarnessError, errorMessage } from '@eda-harness/core';
import { stderrProgress, type ProgressSink } from '@eda-harness/core';
import { dockerAnswers } from './docker';
import { externalKafka, externalPrometheus, externalRabbitMq, externalSettings } from './external/external';
import { installExitHook, signalGroup, type ManagedProcess } from './managed-process';
import { startNativeKafka, type NativeKafkaCluster, type NativeKafkaPorts } from './native/kafka';
import { prometheusConfig, startNativePrometheus, type NativePrometheus } from './native/prometheus';
import { startNativeRabbitMq, type NativeRabbitMq } from './native/rabbitmq';
import { startNativeToxiproxy } from './native/toxiproxy';
import { allocatePorts } from './ports';
import { ensureKafka, ensurePrometheus, ensureRabbitMq, ensureToxiproxy, kafkaVersion } from './provision';
import type { ToxiproxyClient } from './toxiproxy-client';
import type {
  EnvironmentDescription,
  KafkaOptions,
  PrometheusOptions,
  ProviderChoice,
  ProviderKind,
  ProxyFaults,
  StartedEnvironment,
  StartedKafka,
  StartedPrometheus,
  StartedRabbitMq,
  StartedToxiproxy,
} from './types';

const started = new Set<RunningEnvironment>();

/** Stops every environment this process started that is tied to its lifetime (SIGINT/SIGTERM hook). */
export async function stopAllEnvironments(): Promise<void> {
  await Promise.allSettled([...started].filter((e) => e.cleanupOnExit).map((e) => e.stop()));
}

/** Exit hook: SIGKILL, synchronously, every process of an environment tied to this process. */
function killAllNow(): void {
  for (const env of started) {
    if (!env.cleanupOnExit) continue;
    for (const p of env.processes()) if (p.pid !== undefined && p.running) signalGroup(p.pid, 'SIGKILL');
  }
}

export function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return join(process.env['EDA_HARNESS_RUNS'] ?? join(tmpdir(), 'eda-harness'), `${stamp}-${randomBytes(3).toString('hex')}`);
}

/**
 * Builds an environment of real brokers, in the style of testcontainers: configure with `withX()`,
 * then `start()` returns a started environment with the connection getters and fault handles.
 *
 * ```ts
 * await using env = await new Environment().withKafka({ nodes: 3 }).withRabbitMq().withToxiproxy().start();
 * const kafka = new Kafka({ brokers: env.getKafkaBrokers() });
 * ```
 *
 * Each service picks its provider on its own: external when its variable names one (KAFKA_BROKERS,
 * AMQP_URL, PROMETHEUS_URL), containers when a Docker engine answers, native processes otherwise.
 * EDA_HARNESS_PROVIDER (or `withProvider`) forces one.
 */
export class Environment {
  private kafka: KafkaOptions | undefined;
  private rabbitmq = false;
  private toxiproxy = false;
  private prometheus: PrometheusOptions | undefined;
  private provider: ProviderChoice = (process.env['EDA_HARNESS_PROVIDER'] as ProviderChoice | undefined) ?? 'auto';
  private runDir: string | undefined;
  private keepRunDir = process.env['EDA_HARNESS_KEEP_RUNS'] === '1';
  private progress: ProgressSink = stderrProgress;
  private cleanupOnExit = true;
  private signalHandlers = true;
  private teardownGraceMs = 3_000;

  withKafka(options: KafkaOptions = {}): this {
    const nodes = options.nodes ?? 1;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new ConfigError(`withKafka: nodes must be an integer from 1 to 9 (got ${nodes})`);
    this.kafka = { ...options, nodes };
    return this;
  }

  withRabbitMq(): this {
    this.rabbitmq = true;
    return this;
  }

  /** Puts a Toxiproxy proxy in front of every native broker node; clients only ever see the proxies. */
  withToxiproxy(enabled = true): this {
    this.toxiproxy = enabled;
    return this;
  }

  withPrometheus(options: PrometheusOptions = {}): this {
    this.prometheus = options;
    return this;
  }

  withProvider(provider: ProviderChoice): this {
    if (!['auto', 'external', 'containers', 'native'].includes(provider)) {
      throw new ConfigError(`unknown provider "${provider}": use auto, external, containers or native`);
    }
    this.provider = provider;
    return this;
  }

  withRunDir(dir: string): this {
    this.runDir = dir;
    return this;
  }

  /** Keep the run directory (logs, data) after stop(); it is kept anyway when start-up fails. */
  withKeepRunDir(keep = true): this {
    this.keepRunDir = keep;
    return this;
  }

  withProgress(progress: ProgressSink): this {
    this.progress = progress;
    return this;
  }

  /**
   * Whether the brokers live and die with this Node process (default true): torn down on
   * SIGINT/SIGTERM and killed on exit. `env up` turns this off to leave them running on purpose.
   */
  withCleanupOnExit(enabled: boolean): this {
    this.cleanupOnExit = enabled;
    return this;
  }

  /**
   * Whether this environment installs SIGINT/SIGTERM handlers that tear it down and exit (default
   * true). A program with its own orderly shutdown on those signals turns this off; the exit hook
   * (SIGKILL of every process on exit) stays.
   */
  withSignalHandlers(enabled: boolean): this {
    this.signalHandlers = enabled;
    return this;
  }

  /** How long teardown waits after SIGTERM before SIGKILL (default 3 s; data is discarded anyway). */
  withTeardownGrace(ms: number): this {
    this.teardownGraceMs = ms;
    return this;
  }

  private async resolveProvider(service: 'kafka' | 'rabbitmq' | 'prometheus', dockerOk: () => Promise<boolean>): Promise<ProviderKind> {
    const ext = externalSettings();
    const named = service === 'kafka' ? ext.kafkaBrokers : service === 'rabbitmq' ? ext.amqpUrl : ext.prometheusUrl;
    const variable = service === 'kafka' ? 'KAFKA_BROKERS' : service === 'rabbitmq' ? 'AMQP_URL' : 'PROMETHEUS_URL';
    if (this.provider === 'external') {
      if (!named) throw new ConfigError(`provider "external" needs ${variable} to name the ${service} service`);
      return 'external';
    }
    if (this.provider === 'native' || this.provider === 'containers') return this.provider;
    if (named) return 'external';
    return (await dockerOk()) ? 'containers' : 'native';
  }

  async start(): Promise<StartedEnvironment> {
    if (!this.kafka && !this.rabbitmq && !this.prometheus) {
      throw new ConfigError('nothing to start: call withKafka(), withRabbitMq() and/or withPrometheus() first');
    }
    let dockerChecked: Promise<boolean> | undefined;
    const dockerOk = (): Promise<boolean> => (dockerChecked ??= dockerAnswers());
    const kafkaProvider = this.kafka ? await this.resolveProvider('kafka', dockerOk) : undefined;
    const rabbitProvider = this.rabbitmq ? await this.resolveProvider('rabbitmq', dockerOk) : undefined;
    const promProvider = this.prometheus ? await this.resolveProvider('prometheus', dockerOk) : undefined;

    const runDir = this.runDir ?? defaultRunDir();
    mkdirSync(runDir, { recursive: true });
    const progress = this.progress;
    const env = new RunningEnvironment(runDir, this.keepRunDir, this.teardownGraceMs, this.cleanupOnExit);
    started.add(env);
    installExitHook(killAllNow, this.cleanupOnExit && this.signalHandlers ? stopAllEnvironments : undefined);

    try {
      // Provision what the native provider needs before allocating ports (installs can take minutes).
      const [kafkaRt, rabbitRt, toxiBin, promRt] = await Promise.all([
        kafkaProvider === 'native' ? ensureKafka(this.kafka?.version ?? kafkaVersion(), { progress }) : undefined,
        rabbitProvider === 'native' ? ensureRabbitMq({ progress }) : undefined,
        this.toxiproxy && (kafkaProvider === 'native' || rabbitProvider === 'native') ? ensureToxiproxy({ progress }) : undefined,
        promProvider === 'native' ? ensurePrometheus({ progress }) : undefined,
      ]);

      const kafkaNodes = kafkaProvider === 'native' ? (this.kafka?.nodes ?? 1) : 0;
      const ports = await allocatePorts(kafkaNodes * 4 + (rabbitProvider === 'native' ? 6 : 0) + 2);
      let next = 0;
      const take = (): number => {
        const p = ports[next++];
        if (p === undefined) throw new ConfigError('internal: ran out of allocated ports');
        return p;
      };

      let toxiproxyClient: ToxiproxyClient | undefined;
      if (toxiBin) {
        const toxi = await startNativeToxiproxy({ binary: toxiBin, runDir, apiPort: take() });
        env.own(toxi.process);
        toxiproxyClient = toxi.client;
        env.toxiproxyClient = toxi.client;
      }
      const makeProxy = async (name: string, listen: number, upstreamPort: number): Promise<ProxyFaults> => {
        if (!toxiproxyClient) throw new ConfigError('internal: no toxiproxy');
        const upstream = `127.0.0.1:${upstreamPort}`;
        await toxiproxyClient.createProxy(name, `127.0.0.1:${listen}`, upstream);
        const faults = toxiproxyClient.faults(name, listen, upstream);
        env.proxies.push(faults);
        return faults;
      };

      const tasks: Promise<void>[] = [];
      if (kafkaProvider === 'native' && kafkaRt && this.kafka) {
        const kafkaPorts: NativeKafkaPorts[] = [];
        const proxies: (ProxyFaults | undefined)[] = [];
        for (let i = 0; i < kafkaNodes; i++) {
          const client = take();
          const internal = take();
          const controller = take();
          const proxyPort = take();
          const proxy = toxiproxyClient ? await makeProxy(`kafka-${i + 1}`, proxyPort, client) : undefined;
          kafkaPorts.push({ client, internal, controller, advertised: proxy ? proxyPort : client });
          proxies.push(proxy);
        }
        const kafkaOptions = this.kafka;
        tasks.push(
          (async () => {
            const cluster: NativeKafkaCluster = await startNativeKafka({ runtime: kafkaRt, runDir, size: kafkaNodes, ports: kafkaPorts, proxies, options: kafkaOptions, progress });
            env.kafka = cluster;
            env.ownAll(cluster.processes);
          })(),
        );
      } else if (kafkaProvider === 'external') {
        env.kafka = externalKafka(externalSettings().kafkaBrokers ?? []);
      } else if (kafkaProvider === 'containers') {
        tasks.push(
          (async () => {
            const { startKafkaContainer } = await import('./containers/containers');
            const c = await startKafkaContainer();
            env.kafka = c.service;
            env.containerStops.push(c.stop);
          })(),
        );
      }

      if (rabbitProvider === 'native' && rabbitRt) {
        const amqp = take();
        const rabbitPorts = { amqp, dist: take(), management: take(), prometheus: take(), epmd: take(), advertised: amqp };
        const proxyPort = take();
        const proxy = toxiproxyClient ? await makeProxy('rabbitmq', proxyPort, amqp) : undefined;
        tasks.push(
          (async () => {
            const rabbit: NativeRabbitMq = await startNativeRabbitMq({
              runtime: rabbitRt,
              runDir,
              ports: { ...rabbitPorts, advertised: proxy ? proxyPort : amqp },
              proxy,
              progress,
            });
            env.rabbitmq = rabbit;
            env.ownAll(rabbit.processes);
          })(),
        );
      } else if (rabbitProvider === 'external') {
        const ext = externalSettings();
        env.rabbitmq = externalRabbitMq(ext.amqpUrl ?? '', ext.managementUrl);
      } else if (rabbitProvider === 'containers') {
        tasks.push(
          (async () => {
            const { startRabbitMqContainer } = await import('./containers/containers');
            const c = await startRabbitMqContainer();
            env.rabbitmq = c.service;
            env.containerStops.push(c.stop);
          })(),
        );
      }

      // Start brokers side by side; if one fails, wait for the others before tearing down so no
      // half-started process escapes the teardown.
      const results = await Promise.allSettled(tasks);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;

      if (this.prometheus && promProvider === 'native' && promRt) {
        const prom: NativePrometheus = await startNativePrometheus({ runtime: promRt, runDir, port: take(), options: this.prometheus, progress });
        env.prometheus = prom;
        env.ownAll(prom.processes);
      } else if (this.prometheus && promProvider === 'external') {
        env.prometheus = externalPrometheus(externalSettings().prometheusUrl ?? '');
      } else if (this.prometheus && promProvider === 'containers') {
        const { startPrometheusContainer } = await import('./containers/containers');
        const c = await startPrometheusContainer(prometheusConfig(this.prometheus));
        env.prometheus = c.service;
        env.containerStops.push(c.stop);
      }

      env.writeDescription();
      return env;
    } catch (err) {
      env.failed = true;
      await env.stop().catch(() => undefined);
      const msg = `environment failed to start: ${errorMessage(err)}\n  run directory (logs of every process): ${runDir}`;
      if (err instanceof EdaHarnessError) {
        throw new (err.constructor as new (m: string, o: object) => EdaHarnessError)(msg, { cause: err, hint: err.hint, retriable: err.retriable });
      }
      throw new EdaHarnessError('PROCESS_FAILED', msg, { cause: err });
    }
  }
}

class RunningEnvironment implements StartedEnvironment {
  kafka: StartedKafka | undefined;
  rabbitmq: StartedRabbitMq | undefined;
  prometheus: StartedPrometheus | undefined;
  toxiproxyClient: ToxiproxyClient | undefined;
  readonly proxies: ProxyFaults[] = [];
  readonly containerStops: (() => Promise<void>)[] = [];
  failed = false;
  private readonly processGetters: (() => ManagedProcess[])[] = [];
  private stopping: Promise<void> | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(
    readonly runDir: string,
    private readonly keepRunDir: boolean,
    private readonly teardownGraceMs: number,
    readonly cleanupOnExit: boolean,
  ) {}

  own(proc: ManagedProcess): void {
    this.processGetters.push(() => [proc]);
  }

  ownAll(getter: () => ManagedProcess[]): void {
    this.processGetters.push(getter);
  }

  processes(): ManagedProcess[] {
    return this.processGetters.flatMap((g) => g());
  }

  get toxiproxy(): StartedToxiproxy | undefined {
    const client = this.toxiproxyClient;
    if (!client) return undefined;
    const proxies = this.proxies;
    return {
      apiUrl: client.apiUrl,
      proxies,
      proxy(name) {
        const p = proxies.find((x) => x.name === name);
        if (!p) throw new ConfigError(`no proxy named "${name}"; proxies: ${proxies.map((x) => x.name).join(', ')}`);
        return p;
      },
      clearAll: () => client.reset(),
    };
  }

  getKafkaBrokers(): string[] {
    if (!this.kafka) throw new ConfigError('this environment has no Kafka: build it with withKafka()');
    return [...this.kafka.brokers];
  }

  getAmqpUrl(): string {
    if (!this.rabbitmq) throw new ConfigError('this environment has no RabbitMQ: build it with withRabbitMq()');
    return this.rabbitmq.amqpUrl;
  }

  getRabbitMqManagementUrl(): string {
    const url = this.rabbitmq?.managementUrl;
    if (!url) throw new ConfigError('no RabbitMQ management API: build with withRabbitMq(), or set RABBITMQ_MANAGEMENT_URL for an external RabbitMQ');
    return url;
  }

  getPrometheusUrl(): string {
    if (!this.prometheus) throw new ConfigError('this environment has no Prometheus: build it with withPrometheus()');
    return this.prometheus.url;
  }

  describe(): EnvironmentDescription {
    const procs = this.processes()
      .filter((p) => p.pid !== undefined && p.running)
      .map((p) => {
        const r = p.record();
        return r.startTicks === undefined ? { name: r.name, pid: r.pid, logFile: r.logFile } : { ...r, startTicks: r.startTicks };
      });
    const pidOf = (name: string): { pid?: number } => {
      const p = procs.find((x) => x.name === name);
      return p ? { pid: p.pid } : {};
    };
    const k = this.kafka;
    const r = this.rabbitmq;
    const t = this.toxiproxy;
    const pr = this.prometheus;
    return {
      runDir: this.runDir,
      startedAt: this.startedAt,
      ownerPid: process.pid,
      ...(k
        ? { kafka: { provider: k.provider, version: k.version, brokers: k.brokers, nodes: k.nodes.map((n) => ({ name: n.name, nodeId: n.nodeId, address: n.address, ...pidOf(n.name) })) } }
        : {}),
      ...(r
        ? {
            rabbitmq: {
              provider: r.provider,
              amqpUrl: r.amqpUrl,
              ...(r.managementUrl ? { managementUrl: r.managementUrl } : {}),
              ...(r.metricsUrl ? { metricsUrl: r.metricsUrl } : {}),
              ...pidOf('rabbitmq'),
            },
          }
        : {}),
      ...(t ? { toxiproxy: { apiUrl: t.apiUrl, proxies: t.proxies.map((p) => ({ name: p.name, listen: `${p.host}:${p.port}`, upstream: p.upstream })) } } : {}),
      ...(pr ? { prometheus: { provider: pr.provider, url: pr.url, ...pidOf('prometheus') } } : {}),
      processes: procs,
    };
  }

  writeDescription(): void {
    writeFileSync(join(this.runDir, 'environment.json'), `${JSON.stringify(this.describe(), null, 2)}\n`);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Prometheus first (it scrapes the others), then brokers in parallel, Toxiproxy and epmd last.
      const procs = this.processes();
      const order = (p: ManagedProcess): number => (p.name === 'prometheus' ? 0 : p.name === 'toxiproxy' || p.name === 'epmd' ? 2 : 1);
      for (const stage of [0, 1, 2]) {
        await Promise.allSettled(procs.filter((p) => order(p) === stage).map((p) => p.stop(this.teardownGraceMs)));
      }
      await Promise.allSettled(this.containerStops.map((s) => s()));
      started.delete(this);
      if (!this.keepRunDir && !this.failed) rmSync(this.runDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
