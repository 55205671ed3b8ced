import { context } from './shared/otel-api';
import type { Registry, RegistryContentType } from 'prom-client';
import { LABEL } from './shared/vocabulary';
import type { DlqReason, MessagingSystem } from '@eda-harness/semconv';
import { consumerGroupOf } from './kafka/group-context';
import { messagingMetrics } from './shared/metrics';

export interface DeadLetterEvent {
  readonly system: MessagingSystem;
  /** The topic or queue the message was consumed from. */
  readonly source: string;
  /** The dead-letter topic, queue or exchange it was sent to. */
  readonly dlq: string;
  readonly reason: DlqReason;
  /**
   * The Kafka consumer group that dead-lettered the message (label messaging_consumer_group_name,
   * so DeadLetterRatioHigh compares it with that group's consumption). Called inside an
   * instrumented eachMessage / eachBatch / traceKafkaMessage it defaults to that consumer's group;
   * elsewhere, and for AMQP, it is empty unless given.
   */
  readonly consumerGroup?: string;
  readonly count?: number;
  readonly registry?: Registry<RegistryContentType>;
}

/**
 * Counts an application-level dead-lettering in eda_dlq_messages_total, for cases the wrappers
 * cannot see (a Kafka consumer that republishes a poison message to `orders.DLT`). AMQP nack/reject
 * toward a dead-letter exchange is counted automatically; do not count those twice.
 *
 * It records into the registry's shared metrics state, under the same series cap as the wrappers
 * (whichever was created first), and never throws; a count that is not a finite number >= 0 is ignored.
 */
export function recordDeadLetter(event: DeadLetterEvent): void {
  try {
    const group = event.consumerGroup || consumerGroupOf(context.active());
    messagingMetrics(event.registry ? { registry: event.registry } : {}).inc(
      'DLQ_MESSAGES',
      { [LABEL.MESSAGING_SYSTEM]: event.system, [LABEL.SOURCE]: event.source, [LABEL.DLQ]: event.dlq, [LABEL.REASON]: event.reason, [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: group },
      event.count ?? 1,
    );
  } catch {
    /* telemetry never throws into the caller */
  }
}
