import { createContextKey } from '../shared/otel-api';
import type { Attributes, Context } from '@opentelemetry/api';
import { ATTR, LABEL, MESSAGING_SYSTEM, OPERATION_NAME, destinationLabel, isAnonymousQueue, isTemporaryQueue } from '../shared/vocabulary';
import type { DestinationKind } from '@eda-harness/semconv';
import type { MetricLabels } from '../shared/metrics';
import { BoundedMap } from './bounded-map';

/**
 * What the AMQP wrappers know about queues beyond their names: dead-letter targets and temporary
 * queues learned from assertQueue, and the label object of each (low-cardinality) destination.
 *
 * Temporary and anonymous queues (RPC reply queues above all: one per client or per call) must not
 * become span names or metric label values, or a few dozen RPC clients exhaust the series cap and
 * real queues end up as `_overflow`. They are recognised by RabbitMQ's own naming (`amq.gen-…`
 * server-named: anonymous; `amq.rabbitmq.reply-to…` direct reply-to: temporary), by an `exclusive`
 * declaration seen on an instrumented channel, and on the replying side by the `replyTo` of the
 * delivery being processed. An `autoDelete` declaration alone is not taken as temporary: a named
 * auto-delete queue is often a stable work queue that only disappears while nobody consumes it.
 *
 * Everything learned is bounded (oldest forgotten first); the span attribute
 * `messaging.destination.name` keeps the real name, flagged temporary / anonymous.
 */
export interface Destinations {
  /** The `dlq` label of `queue`'s dead-letter target, from options or a declaration we saw. */
  deadLetterOf(queue: string): string | undefined;
  learnDeadLetter(queue: string, target: string): void;
  /** `queue` was declared exclusive: it lives as long as its connection. */
  markTemporary(queue: string): void;
  forgetTemporary(queue: string): void;
  /** The kind of a queue consumed from or got from. */
  queueKind(queue: string): DestinationKind;
  /** The kind of a publish destination; `ctx` is the active context (a reply is sent inside the request's process span). */
  publishKind(exchange: string, routingKey: string, ctx: Context): DestinationKind;
  /** Frozen labels of deliveries from `queue` (reused per delivery: the metrics cache by identity). */
  deliveryLabels(operation: 'process' | 'receive', queue: string, kind: DestinationKind): MetricLabels;
}

// Read once: the compiled import reads every use through the module's re-export getter, and
// queueKind runs per delivery.
const anonymousQueue: (queue: string) => boolean = isAnonymousQueue;
const temporaryQueue: (queue: string) => boolean = isTemporaryQueue;

/** Most queue names remembered per kind of knowledge. */
const MAX_REMEMBERED = 10_000;
/** Most label objects cached per operation; beyond that they are built per delivery (still correct). */
const MAX_CACHED_LABELS = 1_000;

/** The `replyTo` of the delivery whose handler is running, for recognising its reply. */
export const REPLY_TO_KEY = createContextKey('eda-harness amqp replyTo');

export function createDestinations(deadLetterExchanges: Readonly<Record<string, string>> | undefined): Destinations {
  // Configured targets are the user's and permanent; learned ones are bounded.
  const configured = new Map<string, string>(Object.entries(deadLetterExchanges ?? {}));
  const learned = new BoundedMap<string, string>(MAX_REMEMBERED);
  const temporary = new BoundedMap<string, true>(MAX_REMEMBERED);
  const labels = { process: new BoundedMap<string, MetricLabels>(MAX_CACHED_LABELS), receive: new BoundedMap<string, MetricLabels>(MAX_CACHED_LABELS) };
  const queueKind = (queue: string): DestinationKind => {
    if (anonymousQueue(queue)) return 'anonymous';
    return temporaryQueue(queue) || temporary.has(queue) ? 'temporary' : 'named';
  };
  return {
    deadLetterOf: (queue) => learned.get(queue) ?? configured.get(queue),
    learnDeadLetter: (queue, target) => learned.set(queue, target),
    markTemporary: (queue) => temporary.set(queue, true),
    forgetTemporary: (queue) => temporary.delete(queue),
    queueKind,
    publishKind(exchange, routingKey, ctx) {
      // On a named exchange the span name and label are the exchange's: the routing key does not matter.
      if (exchange !== '') return 'named';
      const kind = queueKind(routingKey);
      if (kind !== 'named') return kind;
      return ctx.getValue(REPLY_TO_KEY) === routingKey ? 'temporary' : 'named';
    },
    deliveryLabels(operation, queue, kind) {
      const value = destinationLabel(queue, kind);
      const cache = labels[operation];
      let l = cache.get(value);
      if (!l) {
        l = Object.freeze({
          [LABEL.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ,
          [LABEL.MESSAGING_OPERATION_NAME]: operation === 'process' ? OPERATION_NAME.RABBITMQ_PROCESS : OPERATION_NAME.RABBITMQ_RECEIVE,
          [LABEL.MESSAGING_DESTINATION_NAME]: value,
        });
        cache.set(value, l);
      }
      return l;
    },
  };
}

/** messaging.destination.temporary / anonymous on a span's attributes, for a destination of `kind`. */
export function flagDestination(attributes: Attributes, kind: DestinationKind): void {
  if (kind === 'temporary') attributes[ATTR.MESSAGING_DESTINATION_TEMPORARY] = true;
  else if (kind === 'anonymous') attributes[ATTR.MESSAGING_DESTINATION_ANONYMOUS] = true;
}
