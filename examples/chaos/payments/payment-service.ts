import type { TracerProvider } from '@opentelemetry/api';
import { Kafka, logLevel } from 'kafkajs';
import { instrumentKafka } from '@eda-harness/instrumentation';

/**
 * A tiny service that is not the reference system, for the chaos docs: it reads payment requests
 * (`{ paymentId, amount }`), authorizes each once (remembering the ids it authorized), and writes
 * `{ paymentId, status: 'authorized' }` to its output topic. Its Kafka client is instrumented with
 * eda-harness, so the harness sees it process each request and follows the trace to the output.
 */
export interface PaymentServiceOptions {
  readonly brokers: readonly string[];
  readonly requests: string;
  readonly authorized: string;
  readonly groupId: string;
  readonly tracerProvider?: TracerProvider;
}

export interface PaymentService {
  /** How many times each payment id was authorized (1 each, if all is well). */
  authorizations(): Record<string, number>;
  stop(): Promise<void>;
}

export async function startPaymentService(o: PaymentServiceOptions): Promise<PaymentService> {
  const kafka = instrumentKafka(new Kafka({ clientId: 'payment-service', brokers: [...o.brokers], logLevel: logLevel.NOTHING }), {
    clientId: 'payment-service',
    brokers: o.brokers,
    ...(o.tracerProvider ? { tracerProvider: o.tracerProvider } : {}),
  });
  const counts: Record<string, number> = {};
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: o.groupId, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: o.requests, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const { paymentId } = JSON.parse(message.value?.toString('utf8') ?? '{}') as { paymentId?: string };
      if (typeof paymentId !== 'string') return;
      // Idempotent: a redelivered request is answered again but authorized only once.
      if (!counts[paymentId]) counts[paymentId] = 1;
      // Sent inside the process span, so the output joins the request's trace.
      await producer.send({ topic: o.authorized, acks: -1, messages: [{ key: message.key, value: JSON.stringify({ paymentId, status: 'authorized' }) }] });
    },
  });
  return {
    authorizations: () => ({ ...counts }),
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
