import type { Registry, RegistryContentType } from 'prom-client';
import type { TracerProvider } from '@opentelemetry/api';
import type { KafkaConfig } from 'kafkajs';

/**
 * The envelope every message of the reference system travels in (Kafka events and RabbitMQ
 * commands alike): identity and time for idempotency and latency, a type and version for
 * routing and evolution, and a correlation id that ties an order's messages together.
 */
export interface MessageEnvelope<P> {
  readonly eventId: string;
  readonly eventType: string;
  /** ISO 8601 with milliseconds, UTC (`Date#toISOString`). */
  readonly occurredAt: string;
  readonly version: number;
  readonly payload: P;
  readonly metadata: { readonly correlationId: string };
}

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  /** Minor currency units (cents), so amounts are integers. */
  readonly unitPrice: number;
}

export interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly email: string;
  readonly currency: string;
  readonly lines: readonly OrderLine[];
}

export interface OrderPlacedPayload {
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly total: { readonly amount: number; readonly currency: string };
}

export interface SendEmailPayload {
  readonly to: string;
  readonly template: string;
  readonly orderId: string;
  readonly subject: string;
}

export type OrderPlacedEvent = MessageEnvelope<OrderPlacedPayload>;
export type SendEmailCommand = MessageEnvelope<SendEmailPayload>;

/** Where the reference system's messages go; every name can be overridden (tests use random ones). */
export interface ReferenceNames {
  readonly ordersTopic: string;
  readonly inventoryGroup: string;
  readonly notificationsExchange: string;
  readonly emailRoutingKey: string;
  readonly emailQueue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
}

export type ReferenceServiceName = 'order-service' | 'inventory-service' | 'notification-service';

/** Passed through to instrumentKafka / instrumentAmqp, so tests and the demo choose where telemetry goes. */
export interface ReferenceInstrumentation {
  readonly registry?: Registry<RegistryContentType>;
  readonly tracerProvider?: TracerProvider;
}

/**
 * kafkajs's TLS and SASL options, for a secured cluster: `{ ssl: { ca: [pem] }, sasl: { mechanism:
 * 'scram-sha-512', username, password } }`. `kafkaClientSecurity()` of @eda-harness/core builds
 * them from the exporter's settings (KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*, KAFKA_SASL_*).
 */
export type KafkaSecurityOptions = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/** How a reference service reaches Kafka. */
export interface KafkaServiceOptions {
  readonly brokers: readonly string[];
  /** TLS / SASL for a secured listener (default: plaintext). */
  readonly security?: KafkaSecurityOptions;
  readonly instrumentation?: ReferenceInstrumentation;
  /** Default: the service's name. */
  readonly clientId?: string;
}

export interface ServiceLogger {
  info(message: string): void;
  warn(message: string, error?: unknown): void;
}
