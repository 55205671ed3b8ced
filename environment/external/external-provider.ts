import type { EnvironmentProvider } from '../provider';
import type { StartedJaeger, StartedKafka, StartedPrometheus, StartedRabbitMq } from '../types';
import {
  checkExternalSettings,
  externalJaeger,
  externalKafka,
  externalPrometheus,
  externalRabbitMq,
  externalSettings,
  untilJaegerAnswers,
  untilKafkaAnswers,
  untilPrometheusAnswers,
  untilRabbitMqAnswers,
} from './external';

/**
 * The external provider: services the user runs, named by KAFKA_BROKERS, AMQP_URL (and
 * RABBITMQ_MANAGEMENT_URL), PROMETHEUS_URL and JAEGER_QUERY_URL (with OTEL_EXPORTER_OTLP_ENDPOINT), read when each service is "started". Nothing is
 * started or stopped; faults are unsupported. A service counts as started once it answers: every
 * Kafka broker a metadata request, RabbitMQ an AMQP handshake (and its management API, when named),
 * Prometheus an HTTP request, Jaeger its query API and its OTLP endpoint.
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

  async startJaeger(): Promise<StartedJaeger> {
    checkExternalSettings('jaeger');
    const ext = externalSettings();
    await untilJaegerAnswers(ext.jaegerQueryUrl ?? '', ext.otlpEndpoint ?? '');
    return externalJaeger(ext.jaegerQueryUrl ?? '', ext.otlpEndpoint ?? '');
  }
}
