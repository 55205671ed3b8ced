import type { ConfirmChannel } from 'amqplib';
import type { Producer } from 'kafkajs';
import { messageContext } from '../message-context';
import type { MessageContextSource } from '../message-context';
import type { Order, OrderPlacedEvent, SendEmailCommand } from '../types';
import { emailCommandMessage } from './email-command-message';
import { orderPlacedMessage } from './order-placed-message';

export interface OrderServiceOptions extends MessageContextSource {
  /** Any kafkajs producer (instrumented in production, a capturing one in contract verification). */
  readonly producer: Pick<Producer, 'send'>;
  /** A confirm channel: placeOrder resolves only once RabbitMQ has the email command. */
  readonly channel: Pick<ConfirmChannel, 'publish'>;
  readonly ordersTopic: string;
  readonly notificationsExchange: string;
  readonly emailRoutingKey: string;
}

export interface PlacedOrder {
  readonly event: OrderPlacedEvent;
  readonly command: SendEmailCommand;
}

export interface OrderService {
  /** Announces the order on Kafka, then asks for the confirmation email over RabbitMQ. */
  placeOrder(order: Order, options?: { readonly correlationId?: string }): Promise<PlacedOrder>;
}

export function createOrderService(options: OrderServiceOptions): OrderService {
  return {
    async placeOrder(order, placeOptions = {}) {
      const { event, message } = orderPlacedMessage(order, messageContext(options, placeOptions.correlationId));
      await options.producer.send({ topic: options.ordersTopic, messages: [message] });
      const email = emailCommandMessage(order, messageContext(options, event.metadata.correlationId));
      await new Promise<void>((resolve, reject) => {
        options.channel.publish(options.notificationsExchange, options.emailRoutingKey, email.content, email.options, (err) =>
          err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
        );
      });
      return { event, command: email.command };
    },
  };
}
