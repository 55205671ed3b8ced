import { HttpRequestError, UnsupportedError, requestText } from '@eda-harness/core';
import type { NodeHandle, StartedKafka, StartedPrometheus, StartedRabbitMq, KafkaNodeHandle } from '../types';

/** Services named by the user: KAFKA_BROKERS, AMQP_URL, RABBITMQ_MANAGEMENT_URL, PROMETHEUS_URL. */
export interface ExternalSettings {
  readonly kafkaBrokers: string[] | undefined;
  readonly amqpUrl: string | undefined;
  readonly managementUrl: string | undefined;
  readonly prometheusUrl: string | undefined;
}

export function externalSettings(env: NodeJS.ProcessEnv = process.env): ExternalSettings {
  const brokers = env['KAFKA_BROKERS']
    ?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    kafkaBrokers: brokers && brokers.length > 0 ? brokers : undefined,
    amqpUrl: env['AMQP_URL'] || undefined,
    managementUrl: env['RABBITMQ_MANAGEMENT_URL'] || undefined,
    prometheusUrl: env['PROMETHEUS_URL'] || undefined,
  };
}

/** A node we did not start: there is nothing to signal, so every fault says so plainly. */
function externalNode(name: string): NodeHandle {
  const no = (what: string) => async (): Promise<void> => {
    throw new UnsupportedError(`${what} is not available for ${name}: it is an external service (not started by eda-harness).`, {
      hint: 'Unset KAFKA_BROKERS / AMQP_URL / PROMETHEUS_URL to let eda-harness start its own brokers, which support faults.',
    });
  };
  return { name, pid: undefined, running: true, stop: no('stop()'), start: no('start()'), kill: no('kill()'), pause: no('pause()'), resume: no('resume()'), restart: no('restart()') };
}

export function externalKafka(brokers: string[]): StartedKafka {
  const nodes: KafkaNodeHandle[] = brokers.map((address, i) => ({ ...externalNode(`kafka-${i + 1}`), nodeId: i + 1, address, proxy: undefined }));
  return {
    provider: 'external',
    version: 'external',
    brokers,
    nodes,
    node(nodeId) {
      const n = nodes.find((x) => x.nodeId === nodeId);
      if (!n) throw new UnsupportedError(`external Kafka has no node ${nodeId} known to eda-harness`);
      return n;
    },
    async leaderOf() {
      throw new UnsupportedError('leaderOf() needs broker ids that map to fault handles: not available for an external Kafka');
    },
  };
}

export function externalRabbitMq(amqpUrl: string, managementUrl: string | undefined): StartedRabbitMq {
  return { provider: 'external', amqpUrl, managementUrl, metricsUrl: undefined, node: externalNode('rabbitmq'), proxy: undefined };
}

export function externalPrometheus(url: string): StartedPrometheus {
  return {
    provider: 'external',
    url,
    node: externalNode('prometheus'),
    configFile: undefined,
    async reload() {
      try {
        await requestText(`${url}/-/reload`, { method: 'POST' });
      } catch (err) {
        if (!(err instanceof HttpRequestError) || err.status === undefined) throw err;
        throw new UnsupportedError(`external Prometheus at ${url} refused a reload (${err.status}); start it with --web.enable-lifecycle`, { cause: err });
      }
    },
  };
}
