import type { EnvironmentProvider } from '../provider';
import type { StartedKafka, StartedPrometheus, StartedRabbitMq } from '../types';
import {
  checkExternalSettings,
  externalKafka,
  externalPrometheus,
  externalRabbitMq,
  externalSettings,
  untilKafkaAnswers,
  untilPrometheusAnswers,
  untilRabbitMqAnswers,
} from './external';

/**
 * The external provider: services the user runs, named by KAFKA_BROKERS, AMQP_URL (and
 * RABBITMQ_MANAGEMENT_URL) and PROMETHEUS_URL, read when each service is "started". Nothing is
 * started or stopped; faults are unsupported. A service counts as started once it answers: every
 * Kafka broker a metadata request, RabbitMQ an AMQP handshake (and its management API, when named),
 * Prometheus an HTTP request.
 */
export class ExternalProvider implements EnvironmentProvider {
  readonly kind = 'external';

  async prepare(): Promise<void> {}

  async startKafka(): Promise<StartedKafka> {
    checkExternalSettings('kafka');
    const brokers = externalSettings().kafkaBrokers ?? [];
    await untilKafkaAnswers(brokers);
    return externalKafka(brokers);
  }

  async startRabbitMq(): Promise<StartedRabbitMq> {
    checkExternalSettings('rabbitmq');
    const ext = externalSettings();
    await untilRabbitMqAnswers(ext.amqpUrl ?? '', ext.managementUrl);
    return externalRabbitMq(ext.amqpUrl ?? '', ext.managementUrl);
  }

  async startPrometheus(): Promise<StartedPrometheus> {
    checkExternalSettings('prometheus');
    const url = externalSettings().prometheusUrl ?? '';
    await untilPrometheusAnswers(url);
    return externalPrometheus(url);
  }
}
