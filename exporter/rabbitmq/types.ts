import type { CountSample, DlqSample, QueueSample, RabbitMqSnapshot, RabbitMqTargetConfig } from '../types';

/** The operations RabbitMQ counts per queue in its management message_stats. */
export type RabbitMqQueueOperation = 'publish' | 'deliver' | 'ack' | 'redeliver';

/** Where a collection read its numbers (see eda_exporter_rabbitmq_via). */
export type RabbitMqVia = 'management' | 'prometheus' | 'amqp';

/**
 * Settings of the RabbitMQ collector beyond the queue filters and URLs; every one has a default,
 * so a configuration that names none behaves as before. They are part of the target configuration
 * (the exporter's settings table gives each a flag, a variable and a file key).
 */
export type RabbitMqCollectorSettings = Pick<RabbitMqTargetConfig, 'dlqDeny' | 'retryQueuePatterns' | 'managementPageSize' | 'managementCaFile' | 'prometheusUrl'>;

export interface RabbitMqQueueSample extends QueueSample {
  /** RabbitMQ's cumulative message_stats counts, by operation (exported as counters). */
  readonly totals: Readonly<Partial<Record<RabbitMqQueueOperation, number>>>;
  /**
   * The waiting queue of a retry loop: it dead-letters back towards its source and has a message
   * TTL, so it holds messages with no consumer by design (see retryHoldQueues).
   */
  readonly retryHold?: boolean;
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
