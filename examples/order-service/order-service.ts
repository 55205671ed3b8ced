import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
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
  /** Traces placeOrder; default the global provider's tracer (a no-op until one is registered). */
  readonly tracer?: Tracer;
}

export interface PlacedOrder {
  readonly event: OrderPlacedEvent;
  readonly command: SendEmailCommand;
}

export interface OrderService {
  /** Announces the order on Kafka, then asks for the confirmation email over RabbitMQ. */
  placeOrder(order: Order, options?: { readonly correlationId?: string }): Promise<PlacedOrder>;
}

export const PLACE_ORDER_SPAN = 'place order';

export function createOrderService(options: OrderServiceOptions): OrderService {
  const tracer = options.tracer ?? trace.getTracer('eda-harness-reference-order-service');
  return {
    // One span around the whole operation (as an HTTP handler would have): both sends are its
    // children, so an order's Kafka and RabbitMQ journeys end up in one trace.
    placeOrder: (order, placeOptions = {}) =>
      tracer.startActiveSpan(PLACE_ORDER_SPAN, { kind: SpanKind.SERVER, attributes: { 'app.order.lines': order.lines.length } }, async (span) => {
        try {
          return await send(order, placeOptions);
        } catch (err) {
          span.recordException(err instanceof Error ? err : String(err));
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      }),
  };

  async function send(order: Order, placeOptions: { readonly correlationId?: string }): Promise<PlacedOrder> {
    const { event, message } = orderPlacedMessage(order, messageContext(options, placeOptions.correlationId));
    await options.producer.send({ topic: options.ordersTopic, messages: [message] });
    const email = emailCommandMessage(order, messageContext(options, event.metadata.correlationId));
    await new Promise<void>((resolve, reject) => {
      options.channel.publish(options.notificationsExchange, options.emailRoutingKey, email.content, email.options, (err) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
    return { event, command: email.command };
  }
}
