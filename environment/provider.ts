import type { ProgressSink } from '@eda-harness/core';
import type { ManagedProcess } from './managed-process';
import type { ToxiproxyClient } from './native/toxiproxy-client';
import type { JaegerOptions, KafkaOptions, PrometheusOptions, ProviderKind, ProxyFaults, RabbitMqOptions, StartedJaeger, StartedKafka, StartedPrometheus, StartedRabbitMq } from './types';

/**
 * How the services of an environment are started: one strategy object per provider (native
 * processes, testcontainers, external services), each in its own folder. `Environment.start()`
 * picks a provider per service (see `selectProvider`), makes one strategy object per provider in
 * use, and calls it in three phases: `prepare` (every provider at once), then Kafka, RabbitMQ and
 * Jaeger side by side, then Prometheus.
 */
export interface EnvironmentProvider {
  readonly kind: ProviderKind;
  /**
   * Called once, before anything starts, with every service this provider will start: the native
   * provider installs what is missing, allocates ports, and starts Toxiproxy and its proxies here.
   */
  prepare(plan: ProviderPlan): Promise<void>;
  startKafka(options: KafkaOptions & { readonly nodes: number }): Promise<StartedKafka>;
  startRabbitMq(options?: RabbitMqOptions): Promise<StartedRabbitMq>;
  startPrometheus(options: PrometheusOptions): Promise<StartedPrometheus>;
  startJaeger(options: JaegerOptions): Promise<StartedJaeger>;
}

/** The services one provider is asked for. */
export interface ProviderPlan {
  readonly kafka: (KafkaOptions & { readonly nodes: number }) | undefined;
  readonly rabbitmq: boolean;
  /** RabbitMQ nodes when `rabbitmq` (default 1; 3 for a cluster). */
  readonly rabbitmqNodes?: number;
  readonly prometheus: PrometheusOptions | undefined;
  /** Jaeger, when this provider starts it (absent: not asked for). */
  readonly jaeger?: JaegerOptions | undefined;
  /** Toxiproxy in front of every broker node (where the provider supports it). */
  readonly toxiproxy: boolean;
}

/** What a provider works with, given when it is made. */
export interface ProviderContext {
  readonly runDir: string;
  readonly progress: ProgressSink;
  /** Where a provider registers what it started, so that stop() ends it. */
  readonly resources: EnvironmentResources;
}

export interface EnvironmentResources {
  /** Processes to end on stop(), read again then (a restarted node is a new process). */
  ownProcesses(processes: () => readonly ManagedProcess[]): void;
  /** Run on stop(), after every process has ended (a container's stop). */
  onStop(stop: () => Promise<void>): void;
  useToxiproxy(client: ToxiproxyClient): void;
  addProxy(proxy: ProxyFaults): void;
}

export type ProviderFactory = (context: ProviderContext) => EnvironmentProvider;
export type ProviderRegistry = Readonly<Record<ProviderKind, ProviderFactory>>;
