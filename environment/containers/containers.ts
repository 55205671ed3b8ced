import { UnsupportedError, requestText } from '@eda-harness/core';
import type { NodeHandle, StartedJaeger, StartedKafka, StartedRabbitMq, StartedPrometheus, KafkaNodeHandle } from '../types';

/**
 * The containers provider: testcontainers' Kafka and RabbitMQ modules and a plain Prometheus
 * container, used only when a Docker engine answers. It is deliberately small: one Kafka node, no
 * Toxiproxy (Kafka behind a proxy needs advertised listeners naming the proxy, which the Kafka
 * module does not expose), and `restart()` as the only fault. Chaos suites need the native provider.
 * Not exercised on machines without Docker; testcontainers 12 wants Node 22.22+.
 */

const CONTAINER_IMAGES = {
  kafka: process.env['EDA_HARNESS_KAFKA_IMAGE'] ?? 'apache/kafka:4.1.1',
  rabbitmq: process.env['EDA_HARNESS_RABBITMQ_IMAGE'] ?? 'rabbitmq:4.1-management',
  prometheus: process.env['EDA_HARNESS_PROMETHEUS_IMAGE'] ?? 'prom/prometheus:v3.5.0',
  jaeger: process.env['EDA_HARNESS_JAEGER_IMAGE'] ?? 'jaegertracing/jaeger:2.13.0',
} as const;

interface Restartable {
  restart(): Promise<void>;
  stop(): Promise<unknown>;
}

function containerNode(name: string, container: Restartable): NodeHandle {
  const no = (what: string) => async (): Promise<void> => {
    throw new UnsupportedError(`${what} is not implemented by the containers provider (${name}).`, {
      hint: 'Use the native provider (EDA_HARNESS_PROVIDER=native) for kill/pause/stop faults.',
    });
  };
  return {
    name,
    pid: undefined,
    running: true,
    restart: () => container.restart(),
    stop: no('stop()'),
    start: no('start()'),
    kill: no('kill()'),
    pause: no('pause()'),
    resume: no('resume()'),
  };
}

export interface ContainerService<T> {
  readonly service: T;
  stop(): Promise<void>;
}

export async function startKafkaContainer(): Promise<ContainerService<StartedKafka>> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const started = await new KafkaContainer(CONTAINER_IMAGES.kafka).withKraft().start();
  const address = `${started.getHost()}:${started.getMappedPort(9093)}`;
  const node: KafkaNodeHandle = { ...containerNode('kafka-1', started), nodeId: 1, address, proxy: undefined };
  return {
    service: {
      provider: 'containers',
      version: CONTAINER_IMAGES.kafka,
      brokers: [address],
      nodes: [node],
      node: (id) => {
        if (id !== 1) throw new UnsupportedError(`the containers provider runs one Kafka node (asked for ${id})`);
        return node;
      },
      leaderOf: async () => node,
    },
    stop: async () => {
      await started.stop();
    },
  };
}

export async function startRabbitMqContainer(): Promise<ContainerService<StartedRabbitMq>> {
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const started = await new RabbitMQContainer(CONTAINER_IMAGES.rabbitmq).withExposedPorts(5672, 15672, 15692).start();
  const host = started.getHost();
  return {
    service: {
      provider: 'containers',
      amqpUrl: started.getAmqpUrl(),
      managementUrl: `http://${host}:${started.getMappedPort(15672)}`,
      metricsUrl: `http://${host}:${started.getMappedPort(15692)}/metrics`,
      node: containerNode('rabbitmq', started),
      proxy: undefined,
    },
    stop: async () => {
      await started.stop();
    },
  };
}

export async function startPrometheusContainer(config: string): Promise<ContainerService<StartedPrometheus>> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await new GenericContainer(CONTAINER_IMAGES.prometheus)
    .withCopyContentToContainer([{ content: config, target: '/etc/prometheus/prometheus.yml' }])
    .withCommand(['--config.file=/etc/prometheus/prometheus.yml', '--web.enable-lifecycle'])
    .withExposedPorts(9090)
    .withWaitStrategy(Wait.forHttp('/-/ready', 9090))
    .start();
  const url = `http://${started.getHost()}:${started.getMappedPort(9090)}`;
  return {
    service: {
      provider: 'containers',
      url,
      node: containerNode('prometheus', started),
      configFile: undefined,
      reload: async () => {
        await requestText(`${url}/-/reload`, { method: 'POST' });
      },
    },
    stop: async () => {
      await started.stop();
    },
  };
}

/**
 * Jaeger v2's image with its built-in all-in-one config (memory storage, the web UI included),
 * inside the container; only the query API (16686) and the OTLP receivers (4317, 4318) are
 * published. `maxTraces` is the native provider's: the image keeps its own default.
 */
export async function startJaegerContainer(): Promise<ContainerService<StartedJaeger>> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await new GenericContainer(CONTAINER_IMAGES.jaeger).withExposedPorts(16686, 4317, 4318).withWaitStrategy(Wait.forHttp('/api/services', 16686)).start();
  const host = started.getHost();
  return {
    service: {
      provider: 'containers',
      version: CONTAINER_IMAGES.jaeger,
      queryUrl: `http://${host}:${started.getMappedPort(16686)}`,
      otlpHttpUrl: `http://${host}:${started.getMappedPort(4318)}`,
      otlpGrpcAddress: `${host}:${started.getMappedPort(4317)}`,
      node: containerNode('jaeger', started),
    },
    stop: async () => {
      await started.stop();
    },
  };
}
