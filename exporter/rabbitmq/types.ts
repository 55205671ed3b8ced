import type { CountSample, DlqSample, QueueSample, RabbitMqSnapshot } from '../types';

/** The operations RabbitMQ counts per queue in its management message_stats. */
export type RabbitMqQueueOperation = 'publish' | 'deliver' | 'ack' | 'redeliver';

/** Where a collection read its numbers (see eda_exporter_rabbitmq_via). */
export type RabbitMqVia = 'management' | 'prometheus' | 'amqp';

/**
 * Settings of the RabbitMQ collector beyond the shared target configuration; every one has a
 * default, so a configuration that names none behaves as before.
 */
export interface RabbitMqCollectorSettings {
  /** Queue name patterns never reported as dead-letter queues, whatever the topology or names say. */
  readonly dlqDeny?: readonly string[];
  /**
   * Queue name patterns of retry queues (a TTL queue dead-lettering back to its source): never
   * DLQs. Retry loops are also recognised from the topology alone; this covers the loops whose
   * way back the exporter cannot see (a consumer republishing, a plugin exchange).
   */
  readonly retryQueuePatterns?: readonly string[];
  /** Queues per management API page (default 500, RabbitMQ's maximum). */
  readonly managementPageSize?: number;
  /** PEM file of the CA(s) that signed the management API's certificate, for https URLs. */
  readonly managementCaFile?: string;
  /**
   * RabbitMQ's own Prometheus endpoint (rabbitmq_prometheus plugin, http://host:15692), read when
   * the management API answers without statistics (management_agent.disable_metrics_collector)
   * or does not answer at all.
   */
  readonly prometheusUrl?: string;
}

export interface RabbitMqQueueSample extends QueueSample {
  /** RabbitMQ's cumulative message_stats counts, by operation (exported as counters). */
  readonly totals: Readonly<Partial<Record<RabbitMqQueueOperation, number>>>;
}

export interface RabbitMqDlqSample extends DlqSample {
  readonly vhost: string;
}

/**
 * A RabbitMQ collection: the shared snapshot with what RabbitMQ adds (vhosts on DLQs, cumulative
 * counts, which way the numbers were read and whether that way sees everything).
 */
export interface RabbitMqCollection extends RabbitMqSnapshot {
  readonly source: RabbitMqVia;
  /** True when the numbers come from a fallback that cannot see every queue (AMQP passive declares). */
  readonly degraded: boolean;
  readonly queues: readonly RabbitMqQueueSample[];
  readonly dlqs: readonly RabbitMqDlqSample[];
  /** eda_dlq_inflow_messages_total by vhost, dlq and source. */
  readonly dlqInflow: readonly CountSample[];
}
