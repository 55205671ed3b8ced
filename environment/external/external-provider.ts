import type { EnvironmentProvider } from '../provider';
import type { StartedKafka, StartedPrometheus, StartedRabbitMq } from '../types';
import { externalKafka, externalPrometheus, externalRabbitMq, externalSettings } from './external';

/**
 * The external provider: services the user runs, named by KAFKA_BROKERS, AMQP_URL (and
 * RABBITMQ_MANAGEMENT_URL) and PROMETHEUS_URL, read when each service is "started". Nothing is
 * started or stopped; faults are unsupported.
 */
export class ExternalProvider implements EnvironmentProvider {
  readonly kind = 'external';

  async prepare(): Promise<void> {}

  async startKafka(): Promise<StartedKafka> {
    return externalKafka(externalSettings().kafkaBrokers ?? []);
  }

  async startRabbitMq(): Promise<StartedRabbitMq> {
    const ext = externalSettings();
    return externalRabbitMq(ext.amqpUrl ?? '', ext.managementUrl);
  }

  async startPrometheus(): Promise<StartedPrometheus> {
    return externalPrometheus(externalSettings().prometheusUrl ?? '');
  }
}
