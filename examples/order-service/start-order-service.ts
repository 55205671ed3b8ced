import { connect } from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { instrumentAmqp, instrumentKafka } from '@eda-harness/instrumentation';
import type { MessageContextSource } from '../message-context';
import type { ReferenceInstrumentation } from '../types';
import { createOrderService } from './order-service';
import type { OrderService } from './order-service';

export interface OrderServiceRuntimeOptions extends MessageContextSource {
  readonly brokers: readonly string[];
  readonly amqpUrl: string;
  readonly ordersTopic: string;
  readonly notificationsExchange: string;
  readonly emailRoutingKey: string;
  readonly instrumentation?: ReferenceInstrumentation;
  readonly clientId?: string;
}

export interface RunningOrderService extends OrderService {
  readonly producer: Producer;
  readonly channel: ConfirmChannel;
  stop(): Promise<void>;
}

/** The order service on real transports: an instrumented idempotent producer and confirm channel. */
export async function startOrderService(options: OrderServiceRuntimeOptions): Promise<RunningOrderService> {
  const clientId = options.clientId ?? 'order-service';
  const kafka = instrumentKafka(new Kafka({ clientId, brokers: [...options.brokers], logLevel: logLevel.NOTHING }), {
    clientId,
    brokers: options.brokers,
    ...options.instrumentation,
  });
  // Idempotent: a retried send after a broker hiccup does not duplicate the event in the log.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const connection: ChannelModel = instrumentAmqp(await connect(options.amqpUrl), { ...options.instrumentation });
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
