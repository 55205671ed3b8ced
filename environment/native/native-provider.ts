import { ConfigError } from '@eda-harness/core';
import { allocatePorts, releasePorts } from '../ports';
import type { ManagedProcess } from '../managed-process';
import type { EnvironmentProvider, ProviderContext, ProviderPlan } from '../provider';
import { JAEGER_PORT_NAMES, type JaegerPorts } from '../jaeger-config';
import { ensureJaeger, ensureKafka, ensurePrometheus, ensureRabbitMq, ensureToxiproxy, jaegerVersion, kafkaVersion, type KafkaRuntime, type PrometheusRuntime, type RabbitMqRuntime } from '../provision';
import type { JaegerOptions, KafkaOptions, PrometheusOptions, ProxyFaults, RabbitMqOptions, StartedJaeger, StartedKafka, StartedPrometheus, StartedRabbitMq } from '../types';
import { startNativeJaeger } from './jaeger';
import { startNativeKafka, type NativeKafkaPorts } from './kafka';
import { findKeytool } from './kafka-security';
import { startNativePrometheus } from './prometheus';
import { startNativeRabbitMq, type NativeRabbitPorts } from './rabbitmq';
import { startNativeRabbitMqCluster, type NativeRabbitClusterNode } from './rabbitmq-cluster';
import { startNativeToxiproxy } from './toxiproxy';
import type { ToxiproxyClient } from './toxiproxy-client';

/**
 * The native provider: Kafka, RabbitMQ, Toxiproxy, Prometheus and Jaeger as processes of this machine (no
 * Docker), installed on first use. `prepare` provisions every runtime the plan needs, allocates every
 * port in one go (so no two collide), and starts Toxiproxy with one proxy per broker node, so that
 * clients are only ever given the proxies' addresses. Every process is registered with the
 * environment as it is spawned, before it is ready, so that a failed start ends it.
 */
export class NativeProvider implements EnvironmentProvider {
  readonly kind = 'native';
  private ports: number[] = [];
  private kafka:
    | { runtime: KafkaRuntime; ports: NativeKafkaPorts[]; proxies: (ProxyFaults | undefined)[]; secureProxies: (ProxyFaults | undefined)[]; replicationProxies: (ProxyFaults | undefined)[] }
    | undefined;
  private rabbitmq: { runtime: RabbitMqRuntime; ports: NativeRabbitPorts; proxy: ProxyFaults | undefined; cluster: NativeRabbitClusterNode[] } | undefined;
  private prometheus: PrometheusRuntime | undefined;
  private jaeger: { binary: string; version: string | undefined; ports: JaegerPorts } | undefined;

  constructor(private readonly context: ProviderContext) {}

  async prepare(plan: ProviderPlan): Promise<void> {
    const { progress, runDir, resources } = this.context;
    // Provision before allocating ports: installs can take minutes.
    const [kafkaRt, rabbitRt, toxiBin, promRt, jaegerBin] = await Promise.all([
      plan.kafka ? ensureKafka(plan.kafka.version ?? kafkaVersion(), { progress }) : undefined,
      plan.rabbitmq ? ensureRabbitMq({ progress }) : undefined,
      plan.toxiproxy && (plan.kafka || plan.rabbitmq) ? ensureToxiproxy({ progress }) : undefined,
      plan.prometheus ? ensurePrometheus({ progress }) : undefined,
      plan.jaeger ? ensureJaeger({ progress }) : undefined,
    ]);
    const kafkaNodes = plan.kafka ? plan.kafka.nodes : 0;
    const rabbitNodes = plan.rabbitmqNodes ?? 1;
    const secured = plan.kafka?.security === 'sasl_ssl';
    // Fail before anything starts when the certificates could not be made.
    if (kafkaRt && secured) findKeytool(kafkaRt.java);
    // Per Kafka node: client, internal, controller, client proxy (+ SASL_SSL and its proxy) (+ the replication proxy with Toxiproxy).
    this.ports = await allocatePorts(kafkaNodes * ((secured ? 6 : 4) + (toxiBin ? 1 : 0)) + (rabbitRt ? 6 * rabbitNodes : 0) + (jaegerBin ? JAEGER_PORT_NAMES.length : 0) + 2);
    // Reserved machine-wide until every process of this environment has ended (a broker a fault
    // keeps down needs its ports again); then other processes may draw them.
    const reserved = [...this.ports];
    this.context.resources.onStop(async () => releasePorts(reserved));

    let toxiproxy: ToxiproxyClient | undefined;
    if (toxiBin) {
      toxiproxy = await startNativeToxiproxy({ binary: toxiBin, runDir, apiPort: this.take(), ownProcesses: this.own });
      resources.useToxiproxy(toxiproxy);
    }
    /** The proxy `name` on `listen` in front of `upstreamPort`, when Toxiproxy is on. */
    const proxy = async (name: string, listen: number, upstreamPort: number): Promise<ProxyFaults | undefined> => {
      if (!toxiproxy) return undefined;
      const upstream = `127.0.0.1:${upstreamPort}`;
      await toxiproxy.createProxy(name, `127.0.0.1:${listen}`, upstream);
      const faults = toxiproxy.faults(name, listen, upstream);
      resources.addProxy(faults);
      return faults;
    };

    if (kafkaRt) {
      const ports: NativeKafkaPorts[] = [];
      const proxies: (ProxyFaults | undefined)[] = [];
      const secureProxies: (ProxyFaults | undefined)[] = [];
      const replicationProxies: (ProxyFaults | undefined)[] = [];
      for (let i = 0; i < kafkaNodes; i++) {
        const [client, internal, controller, proxyPort] = [this.take(), this.take(), this.take(), this.take()];
        const faults = await proxy(`kafka-${i + 1}`, proxyPort, client);
        // Replication gets a proxy of its own (advertised on INTERNAL), so a fault can cut follower
        // fetches apart from client traffic; the KRaft controller listener stays direct.
        const replicationPort = toxiproxy ? this.take() : undefined;
        const replication = replicationPort === undefined ? undefined : await proxy(`kafka-${i + 1}-replication`, replicationPort, internal);
        replicationProxies.push(replication);
        let securePorts = {};
        if (secured) {
          // The SASL_SSL listener gets its own proxy: TLS passes through Toxiproxy untouched.
          const [secure, secureProxyPort] = [this.take(), this.take()];
          const secureFaults = await proxy(`kafka-${i + 1}-sasl-ssl`, secureProxyPort, secure);
          securePorts = { secure, secureAdvertised: secureFaults ? secureProxyPort : secure };
          secureProxies.push(secureFaults);
        }
        ports.push({ client, internal, controller, advertised: faults ? proxyPort : client, ...(replication && replicationPort !== undefined ? { internalAdvertised: replicationPort } : {}), ...securePorts });
        proxies.push(faults);
      }
      this.kafka = { runtime: kafkaRt, ports, proxies, secureProxies, replicationProxies };
    }
    if (rabbitRt) {
      // One node: the proxy "rabbitmq"; a cluster: "rabbitmq" for node 1 (so node 1 is what one node was), "rabbitmq-2", …
      const cluster: NativeRabbitClusterNode[] = [];
      for (let i = 0; i < rabbitNodes; i++) {
        const [amqp, dist, management, prometheus, epmd, proxyPort] = [this.take(), this.take(), this.take(), this.take(), this.take(), this.take()];
        const faults = await proxy(i === 0 ? 'rabbitmq' : `rabbitmq-${i + 1}`, proxyPort, amqp);
        cluster.push({ ports: { amqp, dist, management, prometheus, epmd, advertised: faults ? proxyPort : amqp }, proxy: faults });
      }
      const head = cluster[0] as NativeRabbitClusterNode;
      this.rabbitmq = { runtime: rabbitRt, ports: head.ports, proxy: head.proxy, cluster };
    }
    this.prometheus = promRt;
    if (jaegerBin) {
      const ports = Object.fromEntries(JAEGER_PORT_NAMES.map((name) => [name, this.take()])) as unknown as JaegerPorts;
      this.jaeger = { binary: jaegerBin, version: process.env['EDA_HARNESS_JAEGER_BIN'] ? undefined : jaegerVersion(), ports };
    }
  }

  async startKafka(options: KafkaOptions & { readonly nodes: number }): Promise<StartedKafka> {
    const prepared = this.prepared(this.kafka, 'Kafka');
    const { runDir, progress } = this.context;
    return startNativeKafka({
      runtime: prepared.runtime,
      runDir,
      size: options.nodes,
      ports: prepared.ports,
      proxies: prepared.proxies,
      secureProxies: prepared.secureProxies,
      replicationProxies: prepared.replicationProxies,
      options,
      progress,
      ownProcesses: this.own,
    });
  }

  async startRabbitMq(options: RabbitMqOptions = {}): Promise<StartedRabbitMq> {
    const prepared = this.prepared(this.rabbitmq, 'RabbitMQ');
    const { runDir, progress } = this.context;
    if ((options.nodes ?? 1) > 1) {
      if (prepared.cluster.length !== options.nodes) throw new ConfigError(`internal: ${prepared.cluster.length} RabbitMQ nodes prepared, ${options.nodes} asked for`);
      return startNativeRabbitMqCluster({ runtime: prepared.runtime, runDir, nodes: prepared.cluster, progress, ownProcesses: this.own, options });
    }
    return startNativeRabbitMq({ runtime: prepared.runtime, runDir, ports: prepared.ports, proxy: prepared.proxy, progress, ownProcesses: this.own, options });
  }

  async startPrometheus(options: PrometheusOptions): Promise<StartedPrometheus> {
    const runtime = this.prepared(this.prometheus, 'Prometheus');
    const { runDir, progress } = this.context;
    return startNativePrometheus({ runtime, runDir, port: this.take(), options, progress, ownProcesses: this.own });
  }

  async startJaeger(options: JaegerOptions): Promise<StartedJaeger> {
    const prepared = this.prepared(this.jaeger, 'Jaeger');
    const { runDir, progress } = this.context;
    return startNativeJaeger({ ...prepared, runDir, options, progress, ownProcesses: this.own });
  }

  /** Registers processes with the environment; the native services call it before spawning them. */
  private readonly own = (processes: () => readonly ManagedProcess[]): void => this.context.resources.ownProcesses(processes);

  private take(): number {
    const port = this.ports.shift();
    if (port === undefined) throw new ConfigError('internal: ran out of allocated ports');
    return port;
  }

  private prepared<T>(value: T | undefined, service: string): T {
    if (value === undefined) throw new ConfigError(`internal: ${service} was not in the native provider's plan`);
    return value;
  }
}
