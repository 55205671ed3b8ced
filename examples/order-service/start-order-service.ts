import type { ConfirmChannel } from 'amqplib';
import { Partitioners } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { connectInstrumentedAmqp, instrumentedKafka } from '../clients';
import type { MessageContextSource } from '../message-context';
import type { KafkaServiceOptions } from '../types';
import { createOrderService } from './order-service';
import type { OrderService } from './order-service';

export interface OrderServiceRuntimeOptions extends KafkaServiceOptions, MessageContextSource {
  readonly amqpUrl: string;
  readonly ordersTopic: string;
  readonly notificationsExchange: string;
  readonly emailRoutingKey: string;
}

export interface RunningOrderService extends OrderService {
  readonly producer: Producer;
  readonly channel: ConfirmChannel;
  stop(): Promise<void>;
}

/** The order service on real transports: an instrumented idempotent producer and confirm channel. */
export async function startOrderService(options: OrderServiceRuntimeOptions): Promise<RunningOrderService> {
  const clientId = options.clientId ?? 'order-service';
  const kafka = instrumentedKafka(clientId, options.brokers, options.instrumentation, options.security);
  // Idempotent: a retried send after a broker hiccup does not duplicate the event in the log.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const connection = await connectInstrumentedAmqp(options.amqpUrl, options.instrumentation);
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(options.notificationsExchange, 'direct', { durable: true });
  const tracerProvider = options.instrumentation?.tracerProvider;
  const service = createOrderService({ ...options, producer, channel, ...(tracerProvider ? { tracer: tracerProvider.getTracer(clientId) } : {}) });
  return {
    ...service,
    producer,
    channel,
    async stop() {
      await producer.disconnect();
      await connection.close();
    },
  };
}
