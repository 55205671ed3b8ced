import { join } from 'node:path';
import { ConfigError, EdaHarnessError, EnvironmentStartError, ProcessError, ensureDir, errorMessage, stderrProgress, type ProgressSink } from '@eda-harness/core';
import { ContainersProvider } from './containers/containers-provider';
import { dockerAnswers } from './docker';
import { ExternalProvider } from './external/external-provider';
import { NativeProvider } from './native/native-provider';
import type { EnvironmentProvider, ProviderContext, ProviderRegistry } from './provider';
import { checkKafkaVersion, jaegerVersion, kafkaVersion } from './provision';
import { checkKafkaSecurity } from './native/kafka-security';
import { checkRabbitMqNodes } from './native/rabbitmq-cluster';
import { checkProviderChoice, selectProvider, type ServiceName } from './select-provider';
import { ensureRunsDirectory, newRunDirName } from './state';
import { allSettledOrThrow } from './settle-all';
import { StartedEnvironment } from './started-environment';
import { checkJaegerOptions } from './jaeger-config';
import type { JaegerOptions, KafkaOptions, PrometheusOptions, ProviderChoice, ProviderKind, RabbitMqOptions, StartedEnvironment as StartedEnvironmentInterface } from './types';

/** The strategy per provider: native processes, testcontainers, external services. */
const DEFAULT_PROVIDERS: ProviderRegistry = {
  native: (context) => new NativeProvider(context),
  containers: (context) => new ContainersProvider(context),
  external: () => new ExternalProvider(),
};

/** A new run directory (0700) in the private runs directory: EDA_HARNESS_RUNS, else $TMPDIR/eda-harness. */
function newRunDir(): string {
  return ensureDir(join(ensureRunsDirectory(), newRunDirName()), { mode: 0o700, what: 'the run directory' });
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
 * `withKafka({ security: 'sasl_ssl' })` adds a SASL_SSL listener with SCRAM users and a certificate
 * made at start (native provider only); `getKafkaSecurity()` gives what a client needs to use it.
 *
 * Each service picks its provider on its own: external when its variable names one (KAFKA_BROKERS,
 * AMQP_URL, PROMETHEUS_URL, JAEGER_QUERY_URL), containers when a Docker engine answers, native processes otherwise.
 * EDA_HARNESS_PROVIDER (or `withProvider`) forces one. Each provider is a strategy object (see
 * EnvironmentProvider); `providers` replaces them (tests pass fakes).
 */
export class Environment {
  private kafka: (KafkaOptions & { readonly nodes: number }) | undefined;
  private rabbitmq: RabbitMqOptions | undefined;
  private toxiproxy = false;
  private prometheus: PrometheusOptions | undefined;
  private jaeger: JaegerOptions | undefined;
  private provider: string | undefined = process.env['EDA_HARNESS_PROVIDER'];
  /** Where `provider` came from, for messages. */
  private providerSource = 'EDA_HARNESS_PROVIDER';
  private runDir: string | undefined;
  private keepRunDir = process.env['EDA_HARNESS_KEEP_RUNS'] === '1';
  private progress: ProgressSink = stderrProgress;
  private cleanupOnExit = true;
  private signalHandlers = true;
  private teardownGraceMs = 3_000;

  constructor(private readonly providers: ProviderRegistry = DEFAULT_PROVIDERS) {}

  withKafka(options: KafkaOptions = {}): this {
    const nodes = options.nodes ?? 1;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new ConfigError(`withKafka: nodes must be an integer from 1 to 9 (got ${nodes})`);
    if (options.version !== undefined) checkKafkaVersion(options.version, 'withKafka: version');
    if (options.security !== undefined) checkKafkaSecurity(options.security, 'withKafka: security');
    this.kafka = { ...options, nodes };
    return this;
  }

  /**
   * RabbitMQ; `managementTls`, `statistics: false` and `nodes: 3` (a cluster) need the native
   * provider (see RabbitMqOptions).
   */
  withRabbitMq(options: RabbitMqOptions = {}): this {
    checkRabbitMqNodes(options.nodes);
    this.rabbitmq = options;
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

  /**
   * Jaeger v2 as the trace backend (memory storage): send spans over OTLP to `getOtlpEndpoint()`,
   * read them back with `jaegerQuery(env.getJaegerQueryUrl())`. External when JAEGER_QUERY_URL
   * (with OTEL_EXPORTER_OTLP_ENDPOINT) names one. The native Jaeger is built from source on first
   * use (several minutes, cached) and serves its query API, not the web UI.
   */
  withJaeger(options: JaegerOptions = {}): this {
    this.jaeger = checkJaegerOptions(options);
    return this;
  }

  withProvider(provider: ProviderChoice): this {
    this.provider = checkProviderChoice(provider, 'withProvider: provider');
    this.providerSource = 'withProvider';
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

  async start(): Promise<StartedEnvironmentInterface> {
    if (!this.kafka && !this.rabbitmq && !this.prometheus && !this.jaeger) {
      throw new ConfigError('nothing to start: call withKafka(), withRabbitMq(), withPrometheus() and/or withJaeger() first');
    }
    // Every check of the configuration (the provider, the broker variables, the Kafka version, the
    // run directory) comes before anything is installed or started.
    const chosen = await this.selectProviders();
    if (this.kafka && this.kafka.version === undefined && chosen.get('kafka') === 'native') kafkaVersion();
    if (this.jaeger && chosen.get('jaeger') === 'native' && !process.env['EDA_HARNESS_JAEGER_BIN']) jaegerVersion();
    if (this.kafka?.security === 'sasl_ssl' && chosen.get('kafka') !== 'native') {
      throw new ConfigError(`withKafka({ security: 'sasl_ssl' }) needs the native provider, but Kafka would come from the ${chosen.get('kafka')} provider`, {
        hint: 'Use the native provider (withProvider(\'native\'), --provider native or EDA_HARNESS_PROVIDER=native) and leave KAFKA_BROKERS unset.',
      });
    }
    const rabbitOptions = this.rabbitmq ?? {};
    if ((rabbitOptions.managementTls || rabbitOptions.statistics === false) && chosen.get('rabbitmq') !== 'native') {
      throw new ConfigError(`withRabbitMq({ managementTls, statistics }) needs the native provider, but RabbitMQ would come from the ${chosen.get('rabbitmq')} provider`, {
        hint: "Use the native provider (withProvider('native'), --provider native or EDA_HARNESS_PROVIDER=native) and leave AMQP_URL unset.",
      });
    }
    if ((rabbitOptions.nodes ?? 1) > 1 && chosen.get('rabbitmq') !== 'native') {
      throw new ConfigError(`withRabbitMq({ nodes: ${rabbitOptions.nodes} }) needs the native provider, but RabbitMQ would come from the ${chosen.get('rabbitmq')} provider`, {
        hint: "Use the native provider (withProvider('native'), --provider native or EDA_HARNESS_PROVIDER=native) and leave AMQP_URL unset.",
      });
    }
    const runDir = this.runDir === undefined ? newRunDir() : ensureDir(this.runDir, { what: 'the run directory' });
    const env = new StartedEnvironment(runDir, {
      keepRunDir: this.keepRunDir,
      graceMs: this.teardownGraceMs,
      cleanupOnExit: this.cleanupOnExit,
      signalHandlers: this.signalHandlers,
    });
    try {
      const providers = this.makeProviders(chosen, { runDir, progress: this.progress, resources: env });
      const provider = (service: ServiceName): EnvironmentProvider => providers.get(chosen.get(service) as ProviderKind) as EnvironmentProvider;
      // Every phase waits for all of its work to settle before a failure tears down: a provider
      // still preparing (starting Toxiproxy, say) or a broker still starting would otherwise
      // register processes after the teardown has read the list, and they would escape it.
      await allSettledOrThrow(
        [...providers].map(([kind, p]) =>
          p.prepare({
            kafka: chosen.get('kafka') === kind ? this.kafka : undefined,
            rabbitmq: chosen.get('rabbitmq') === kind,
            ...(chosen.get('rabbitmq') === kind && this.rabbitmq?.nodes !== undefined ? { rabbitmqNodes: this.rabbitmq.nodes } : {}),
            prometheus: chosen.get('prometheus') === kind ? this.prometheus : undefined,
            ...(chosen.get('jaeger') === kind ? { jaeger: this.jaeger } : {}),
            toxiproxy: this.toxiproxy,
          }),
        ),
      );
      // Brokers and Jaeger side by side, then Prometheus.
      const { kafka, prometheus, jaeger } = this;
      await allSettledOrThrow([
        kafka && provider('kafka').startKafka(kafka).then((k) => void (env.kafka = k)),
        this.rabbitmq && provider('rabbitmq').startRabbitMq(this.rabbitmq).then((r) => void (env.rabbitmq = r)),
        jaeger && provider('jaeger').startJaeger(jaeger).then((j) => void (env.jaeger = j)),
      ]);
      if (prometheus) env.prometheus = await provider('prometheus').startPrometheus(prometheus);
      env.writeDescription();
      return env;
    } catch (err) {
      await env.stopAfterFailedStart();
      throw startFailure(err, runDir);
    }
  }

  /** The provider of every service asked for; Docker is asked (once) only if a choice depends on it. */
  private async selectProviders(): Promise<Map<ServiceName, ProviderKind>> {
    const services: ServiceName[] = [...(this.kafka ? ['kafka' as const] : []), ...(this.rabbitmq ? ['rabbitmq' as const] : []), ...(this.prometheus ? ['prometheus' as const] : []), ...(this.jaeger ? ['jaeger' as const] : [])];
    const choice = checkProviderChoice(this.provider, this.providerSource);
    let docker: Promise<boolean> | undefined;
    const chosen = new Map<ServiceName, ProviderKind>();
    for (const service of services) {
      const selection = { choice, env: process.env, dockerAnswers: undefined };
      // Only the native provider makes a secured Kafka: under auto it wins over containers.
      const securedKafka = service === 'kafka' && this.kafka?.security === 'sasl_ssl';
      const kind = selectProvider(service, selection) ?? (securedKafka ? 'native' : selectProvider(service, { ...selection, dockerAnswers: await (docker ??= dockerAnswers()) }));
      chosen.set(service, kind);
    }
    return chosen;
  }

  private makeProviders(chosen: ReadonlyMap<ServiceName, ProviderKind>, context: ProviderContext): Map<ProviderKind, EnvironmentProvider> {
    return new Map([...new Set(chosen.values())].map((kind) => [kind, this.providers[kind](context)]));
  }
}

/**
 * The error a failed start() throws: `cause` is the original error, whose code, hint and retriable
 * are kept; the log of the process that failed (a ProcessError's `logFile`) is named in the message
 * and in `logFile`, and the run directory, kept for its logs, in the message and in `runDir`.
 */
function startFailure(err: unknown, runDir: string): EnvironmentStartError {
  const message = errorMessage(err);
  const logFile = failedProcessLog(err);
  const lines = [`environment failed to start: ${message}`];
  if (logFile !== undefined && !message.includes(logFile)) lines.push(`  log of the failed process: ${logFile}`);
  lines.push(`  run directory (logs of every process): ${runDir}`);
  const original = err instanceof EdaHarnessError ? err : undefined;
  return new EnvironmentStartError(lines.join('\n'), {
    code: original?.code ?? 'PROCESS_FAILED',
    cause: err,
    retriable: original?.retriable ?? false,
    ...(original?.hint === undefined ? {} : { hint: original.hint }),
    runDir,
    logFile,
  });
}

/** The log file of the first ProcessError in `err`'s cause chain. */
function failedProcessLog(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ProcessError && e.logFile !== undefined) return e.logFile;
  }
  return undefined;
}
