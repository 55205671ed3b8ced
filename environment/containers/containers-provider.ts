import { prometheusConfig } from '../prometheus-config';
import type { EnvironmentProvider, ProviderContext } from '../provider';
import type { PrometheusOptions, StartedKafka, StartedPrometheus, StartedRabbitMq } from '../types';
import type { ContainerService } from './containers';

/**
 * The containers provider: testcontainers, when a Docker engine answers. Nothing to prepare (images
 * are pulled by testcontainers) and no Toxiproxy (see ./containers). testcontainers is loaded only
 * when a container is started: it is an optional peer dependency.
 */
export class ContainersProvider implements EnvironmentProvider {
  readonly kind = 'containers';

  constructor(private readonly context: ProviderContext) {}

  async prepare(): Promise<void> {}

  async startKafka(): Promise<StartedKafka> {
    return this.started(import('./containers').then((c) => c.startKafkaContainer()));
  }

  async startRabbitMq(): Promise<StartedRabbitMq> {
    return this.started(import('./containers').then((c) => c.startRabbitMqContainer()));
  }

  async startPrometheus(options: PrometheusOptions): Promise<StartedPrometheus> {
    return this.started(import('./containers').then((c) => c.startPrometheusContainer(prometheusConfig(options))));
  }

  private async started<T>(starting: Promise<ContainerService<T>>): Promise<T> {
    const container = await starting;
    this.context.resources.onStop(container.stop);
    return container.service;
  }
}
