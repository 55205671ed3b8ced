import '@eda-harness/core'; // defines Symbol.asyncDispose where missing, for `await using`
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@eda-harness/core';
import { installExitHook, signalGroup, waitGoneSync, type ManagedProcess } from './managed-process';
import type { ToxiproxyClient } from './native/toxiproxy-client';
import type { EnvironmentResources } from './provider';
import type {
  EnvironmentDescription,
  KafkaSecurity,
  KafkaSecurityDescription,
  ProxyFaults,
  StartedEnvironment as StartedEnvironmentInterface,
  StartedJaeger,
  StartedKafka,
  StartedPrometheus,
  StartedRabbitMq,
  StartedToxiproxy,
} from './types';

const started = new Set<StartedEnvironment>();

/** Stops every environment this process started that is tied to its lifetime (SIGINT/SIGTERM hook). */
async function stopAllEnvironments(): Promise<void> {
  await Promise.allSettled([...started].filter((e) => e.teardown.cleanupOnExit).map((e) => e.stop()));
}

/** How long the exit hook waits for the processes it killed to be gone. */
const EXIT_KILL_WAIT_MS = 5_000;

/**
 * Exit hook: SIGKILL, synchronously, every process of an environment tied to this process, then
 * wait (synchronously too: nothing async runs in an exit handler) until they are gone, for up to
 * EXIT_KILL_WAIT_MS. A killed process still has to be scheduled to die: on a busy machine a JVM
 * took longer than our own exit, so a shell prompt (or a test) came back with Kafka still alive.
 */
function killAllNow(): void {
  const killed: number[] = [];
  for (const env of started) {
    if (!env.teardown.cleanupOnExit) continue;
    for (const p of env.processes()) {
      if (p.pid !== undefined && p.running && signalGroup(p.pid, 'SIGKILL')) killed.push(p.pid);
    }
  }
  if (killed.length > 0) waitGoneSync(killed, EXIT_KILL_WAIT_MS);
}

export interface TeardownOptions {
  /** Keep the run directory after stop() (it is kept anyway after a failed start). */
  readonly keepRunDir: boolean;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  readonly graceMs: number;
  /** Torn down on SIGINT/SIGTERM (with `signalHandlers`) and killed on exit of this Node process. */
  readonly cleanupOnExit: boolean;
  readonly signalHandlers: boolean;
}

/**
 * What `Environment.start()` returns: the services, their connection getters and fault handles, and
 * the teardown. Providers register what they start here (EnvironmentResources); stop(), also the
 * one after a failed start, ends what was registered.
 */
export class StartedEnvironment implements StartedEnvironmentInterface, EnvironmentResources {
  kafka: StartedKafka | undefined;
  rabbitmq: StartedRabbitMq | undefined;
  prometheus: StartedPrometheus | undefined;
  jaeger: StartedJaeger | undefined;
  private toxiproxyClient: ToxiproxyClient | undefined;
  private readonly proxies: ProxyFaults[] = [];
  private readonly stops: (() => Promise<void>)[] = [];
  private readonly processGetters: (() => readonly ManagedProcess[])[] = [];
  private failed = false;
  private stopping: Promise<void> | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(
    readonly runDir: string,
    readonly teardown: TeardownOptions,
  ) {
    started.add(this);
    installExitHook(killAllNow, teardown.cleanupOnExit && teardown.signalHandlers ? stopAllEnvironments : undefined);
  }

  ownProcesses(processes: () => readonly ManagedProcess[]): void {
    this.processGetters.push(processes);
  }

  onStop(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  useToxiproxy(client: ToxiproxyClient): void {
    this.toxiproxyClient = client;
  }

  addProxy(proxy: ProxyFaults): void {
    this.proxies.push(proxy);
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
    return [...required(this.kafka, 'this environment has no Kafka: build it with withKafka()').brokers];
  }

  getKafkaSecurity(): KafkaSecurity {
    const kafka = required(this.kafka, 'this environment has no Kafka: build it with withKafka({ security: \'sasl_ssl\' })');
    const security = required(kafka.security, "this environment's Kafka has no SASL_SSL listener: build it with withKafka({ security: 'sasl_ssl' })");
    // A copy, so a caller editing what it got cannot change what the next caller gets.
    return { ...security, brokers: [...security.brokers], ssl: { ...security.ssl }, sasl: { ...security.sasl }, users: security.users.map((u) => ({ ...u })) };
  }

  getAmqpUrl(): string {
    return required(this.rabbitmq, 'this environment has no RabbitMQ: build it with withRabbitMq()').amqpUrl;
  }

  getRabbitMqManagementUrl(): string {
    return required(this.rabbitmq?.managementUrl, 'no RabbitMQ management API: build with withRabbitMq(), or set RABBITMQ_MANAGEMENT_URL for an external RabbitMQ');
  }

  getPrometheusUrl(): string {
    return required(this.prometheus, 'this environment has no Prometheus: build it with withPrometheus()').url;
  }

  getJaegerQueryUrl(): string {
    return required(this.jaeger, 'this environment has no Jaeger: build it with withJaeger() (or env up --jaeger)').queryUrl;
  }

  getOtlpEndpoint(): string {
    return required(this.jaeger, 'this environment has no Jaeger to send spans to: build it with withJaeger() (or env up --jaeger)').otlpHttpUrl;
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
    const { kafka: k, rabbitmq: r, toxiproxy: t, prometheus: pr, jaeger: j } = this;
    return {
      runDir: this.runDir,
      startedAt: this.startedAt,
      ownerPid: process.pid,
      ...(k && {
        kafka: {
          provider: k.provider,
          version: k.version,
          brokers: k.brokers,
          nodes: k.nodes.map((n) => ({ name: n.name, nodeId: n.nodeId, address: n.address, ...pidOf(n.name) })),
          ...(k.security && { security: securityDescription(k.security) }),
        },
      }),
      ...(r && {
        rabbitmq: {
          provider: r.provider,
          amqpUrl: r.amqpUrl,
          ...(r.managementUrl ? { managementUrl: r.managementUrl } : {}),
          ...(r.managementCaFile ? { managementCaFile: r.managementCaFile } : {}),
          ...(r.metricsUrl ? { metricsUrl: r.metricsUrl } : {}),
          ...pidOf(r.node.name),
          ...(r.nodes && { nodes: r.nodes.map((n) => ({ name: n.name, nodeName: n.nodeName, amqpUrl: n.amqpUrl, managementUrl: n.managementUrl, ...pidOf(n.name) })) }),
        },
      }),
      ...(t && { toxiproxy: { apiUrl: t.apiUrl, proxies: t.proxies.map((p) => ({ name: p.name, listen: `${p.host}:${p.port}`, upstream: p.upstream })) } }),
      ...(pr && { prometheus: { provider: pr.provider, url: pr.url, ...pidOf('prometheus') } }),
      ...(j && {
        jaeger: {
          provider: j.provider,
          ...(j.version === undefined ? {} : { version: j.version }),
          queryUrl: j.queryUrl,
          otlpHttpUrl: j.otlpHttpUrl,
          ...(j.otlpGrpcAddress === undefined ? {} : { otlpGrpcAddress: j.otlpGrpcAddress }),
          ...pidOf('jaeger'),
        },
      }),
      processes: procs,
    };
  }

  writeDescription(): void {
    writeFileSync(join(this.runDir, 'environment.json'), `${JSON.stringify(this.describe(), null, 2)}\n`);
  }

  /** Teardown after a failed start: everything ends, the run directory (the logs) stays. */
  async stopAfterFailedStart(): Promise<void> {
    this.failed = true;
    await this.stop().catch(() => undefined);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Prometheus first (it scrapes the others), then brokers and Jaeger in parallel, Toxiproxy and epmd last.
      const procs = this.processes();
      const order = (p: ManagedProcess): number => (p.name === 'prometheus' ? 0 : p.name === 'toxiproxy' || p.name === 'epmd' ? 2 : 1);
      for (const stage of [0, 1, 2]) {
        await Promise.allSettled(procs.filter((p) => order(p) === stage).map((p) => p.stop(this.teardown.graceMs)));
      }
      await Promise.allSettled(this.stops.map((s) => s()));
      started.delete(this);
      if (!this.teardown.keepRunDir && !this.failed) rmSync(this.runDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** The secured listener as environment.json records it: file names, never the secrets themselves. */
function securityDescription(s: KafkaSecurity): KafkaSecurityDescription {
  const user = s.users.find((u) => u.username === s.sasl.username);
  return {
    protocol: s.protocol,
    brokers: s.brokers,
    caFile: s.ssl.caFile,
    truststoreFile: s.ssl.truststoreFile,
    mechanism: s.sasl.mechanism,
    username: s.sasl.username,
    passwordFile: user?.passwordFile ?? '',
  };
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined || value === '') throw new ConfigError(message);
  return value;
}
