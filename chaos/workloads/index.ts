import { kafkaTransactionalWorkload } from './kafka-transactional-workload';
import { kafkaWorkload } from './kafka-workload';
import { rabbitMqWorkload } from './rabbitmq-workload';

/**
 * The traffic a scenario runs under a fault. Every message carries a unique id and a per-key
 * sequence number (in headers, so even a malformed body can be identified), each key's messages
 * are sent one after another (the next once the previous settled), and the workload records what
 * the broker acknowledged and every delivery its consumer saw. Clients are instrumented with
 * eda-harness's own wrappers, so the traces invariant checks the real propagation path.
 *
 * The consumer does what a careful service does: parses, processes, and routes what it cannot
 * parse to a dead-letter queue; a second consumer reads the dead-letter queue back, so a poison
 * message counts as dead-lettered only once it is really there.
 */

/**
 * The workloads, behind one facade: `Workload.kafka({ cluster: true })`, `Workload.rabbitmq()`,
 * `Workload.kafkaTransactional()` (exactly-once: transactions in, read_committed out).
 */
export const Workload = { kafka: kafkaWorkload, kafkaTransactional: kafkaTransactionalWorkload, rabbitmq: rabbitMqWorkload } as const;
export type { WorkloadOptions } from './traffic';
export type { KafkaWorkloadOptions } from './kafka-workload';
export type { KafkaTransactionalWorkloadOptions } from './kafka-transactional-workload';
export type { RabbitMqWorkloadOptions } from './rabbitmq-workload';
