import type { Registry, RegistryContentType } from 'prom-client';
import { LABEL } from '@eda-harness/semconv';
import type { DlqReason, MessagingSystem } from '@eda-harness/semconv';
import { messagingMetrics } from './shared/metrics';

export interface DeadLetterEvent {
  readonly system: MessagingSystem;
  /** The topic or queue the message was consumed from. */
  readonly source: string;
  /** The dead-letter topic, queue or exchange it was sent to. */
  readonly dlq: string;
  readonly reason: DlqReason;
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
    messagingMetrics(event.registry ? { registry: event.registry } : {}).inc(
      'DLQ_MESSAGES',
      { [LABEL.MESSAGING_SYSTEM]: event.system, [LABEL.SOURCE]: event.source, [LABEL.DLQ]: event.dlq, [LABEL.REASON]: event.reason },
      event.count ?? 1,
    );
  } catch {
    /* telemetry never throws into the caller */
  }
}
