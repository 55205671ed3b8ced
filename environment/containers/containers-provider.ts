import { UnsupportedError } from '@eda-harness/core';
import { prometheusConfig } from '../prometheus-config';
import type { EnvironmentProvider, ProviderContext } from '../provider';
import type { JaegerOptions, PrometheusOptions, StartedJaeger, StartedKafka, StartedPrometheus, StartedRabbitMq } from '../types';
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

  async startJaeger(options: JaegerOptions): Promise<StartedJaeger> {
    if (options.maxTraces !== undefined) {
      throw new UnsupportedError("withJaeger({ maxTraces }) is not supported by the containers provider: the image's own config keeps its default", {
        hint: "Leave maxTraces out, or use the native provider (withProvider('native'), --provider native or EDA_HARNESS_PROVIDER=native).",
      });
    }
    return this.started(import('./containers').then((c) => c.startJaegerContainer()));
  }

  private async started<T>(starting: Promise<ContainerService<T>>): Promise<T> {
    const container = await starting;
    this.context.resources.onStop(container.stop);
    return container.service;
  }
}
