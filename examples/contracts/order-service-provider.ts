import { createMessageCapture } from '@eda-harness/contracts';
import type { CapturedMessage, MessageCapture, MessageProviderDefinition, StateParams } from '@eda-harness/contracts';
import { createOrderService } from '../order-service/order-service';
import type { OrderService, OrderServiceOptions } from '../order-service/order-service';
import { REFERENCE_NAMES } from '../reference-names';
import type { Order, ReferenceNames } from '../types';
import { ORDER_PLACED_DESCRIPTION } from './inventory-contract';
import { SEND_EMAIL_DESCRIPTION } from './notification-contract';
import { ORDER_SERVICE_PROVIDER, STATE_ORDER_WITH_TWO_LINES } from './order-service-contract';

export interface OrderServiceProviderOptions {
  readonly names?: ReferenceNames;
  /** Builds the service under test (default the real createOrderService); lets a test simulate a producer change. */
  readonly createService?: (options: OrderServiceOptions) => OrderService;
}

/** The order a state sets up; `lines` (default 2) from the state's params. */
function orderFor(params: StateParams): Order {
  const count = typeof params['lines'] === 'number' ? params['lines'] : 2;
  return {
    orderId: 'order-contract-1',
    customerId: 'customer-42',
    email: 'ada@example.com',
    currency: 'EUR',
    lines: Array.from({ length: count }, (_, i) => ({ sku: `SKU-${i + 1}`, quantity: i + 1, unitPrice: 1999 })),
  };
}

/**
 * The order service's side of its message contracts: each message factory runs the real
 * placeOrder() on capturing transports (instrumented, no broker) and returns what it sent.
 */
export function orderServiceProvider(options: OrderServiceProviderOptions = {}): MessageProviderDefinition {
  const names = options.names ?? REFERENCE_NAMES;
  const create = options.createService ?? createOrderService;
  let order = orderFor({});
  const place = async (pick: (capture: MessageCapture) => CapturedMessage): Promise<CapturedMessage> => {
    const capture = createMessageCapture();
    try {
      const service = create({
        producer: capture.producer,
        channel: capture.channel,
        ordersTopic: names.ordersTopic,
        notificationsExchange: names.notificationsExchange,
        emailRoutingKey: names.emailRoutingKey,
      });
      await service.placeOrder(order);
      return pick(capture);
    } finally {
      capture.close();
    }
  };
  return {
    provider: ORDER_SERVICE_PROVIDER,
    states: {
      [STATE_ORDER_WITH_TWO_LINES]: {
        setup: (params) => {
          order = orderFor(params);
        },
        teardown: () => {
          order = orderFor({});
        },
      },
    },
    messages: {
      [ORDER_PLACED_DESCRIPTION]: () => place((c) => c.kafka()),
      [SEND_EMAIL_DESCRIPTION]: () => place((c) => c.amqp()),
    },
  };
}

/** What `eda-harness contracts verify` verifies when no --provider-module is given. */
export default orderServiceProvider();
