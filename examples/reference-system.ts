import type { Options } from 'amqplib';
import { quietKafka } from './clients';
import { createFakeEmailSender } from './notification-service/email-sender';
import { startInventoryService } from './inventory-service/inventory-service';
import type { InventoryService } from './inventory-service/inventory-service';
import { startNotificationService } from './notification-service/notification-service';
import type { NotificationService } from './notification-service/notification-service';
import type { PlacedOrder } from './order-service/order-service';
import { startOrderService } from './order-service/start-order-service';
import type { RunningOrderService } from './order-service/start-order-service';
import { referenceNames } from './reference-names';
import { sampleOrder } from './sample-orders';
import type { KafkaSecurityOptions, Order, ReferenceInstrumentation, ReferenceNames, ReferenceServiceName, ServiceLogger } from './types';

export interface ReferenceSystemOptions {
  readonly kafkaBrokers: readonly string[];
  /**
   * TLS / SASL of the Kafka listener (kafkajs's `ssl` and `sasl`), for a secured cluster; every
   * client of the system (the services' and the one creating the topic) uses them.
   */
  readonly kafkaSecurity?: KafkaSecurityOptions;
  readonly amqpUrl: string;
  /** Names of topics, queues, ...; default: the production names, or prefixed ones when `prefix` is set. */
  readonly names?: ReferenceNames;
  readonly prefix?: string;
  /** Partitions of the orders topic when it has to be created (default 3). */
  readonly partitions?: number;
  /** Deliveries of an email command before it is dead-lettered (default 3). */
  readonly maxAttempts?: number;
  /** Recipient domains whose emails always fail (default `bounce.invalid`). */
  readonly failingDomains?: readonly string[];
  /**
   * Registry and tracer provider for the instrumentation; a function gives each service its own
   * (a tracer provider per service gives each its own service.name in traces).
   */
  readonly instrumentation?: ReferenceInstrumentation | ((service: ReferenceServiceName) => ReferenceInstrumentation);
  readonly logger?: ServiceLogger;
}

export interface ReferenceSystem {
  readonly names: ReferenceNames;
  readonly orderService: RunningOrderService;
  readonly inventory: InventoryService;
  readonly notification: NotificationService;
  /** Places an order (a sample one by default): OrderPlaced to Kafka, SendEmail to RabbitMQ. */
  placeOrder(order?: Order): Promise<PlacedOrder>;
  /** Publishes raw bytes as an email command, as a buggy producer would: how poison messages are made. */
  publishEmailCommand(content: Buffer, options?: Options.Publish): Promise<void>;
  /** Stops the three services (consumers first); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the three services of the reference system against real brokers: the default system
 * under test for contracts, dashboards and chaos. Creates the orders topic if it is missing;
 * the notification service declares its own queues.
 */
export async function startReferenceSystem(options: ReferenceSystemOptions): Promise<ReferenceSystem> {
  const names = options.names ?? referenceNames(options.prefix);
  const security = options.kafkaSecurity ? { security: options.kafkaSecurity } : {};
  await ensureTopic(options.kafkaBrokers, names.ordersTopic, options.partitions ?? 3, options.kafkaSecurity);
  const instrumentationOf = (service: ReferenceServiceName): { instrumentation?: ReferenceInstrumentation } => {
    const i = typeof options.instrumentation === 'function' ? options.instrumentation(service) : options.instrumentation;
    return i ? { instrumentation: i } : {};
  };
  const logger = options.logger ? { logger: options.logger } : {};
  const started: { stop(): Promise<void> }[] = [];
  try {
    const notification = await startNotificationService({
      amqpUrl: options.amqpUrl,
      names,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      ...(options.failingDomains ? { sender: createFakeEmailSender({ failingDomains: options.failingDomains }) } : {}),
      ...instrumentationOf('notification-service'),
      ...logger,
    });
    started.push(notification);
    const inventory = await startInventoryService({ brokers: options.kafkaBrokers, ...security, topic: names.ordersTopic, groupId: names.inventoryGroup, ...instrumentationOf('inventory-service'), ...logger });
    started.push(inventory);
    const orderService = await startOrderService({
      brokers: options.kafkaBrokers,
      ...security,
      amqpUrl: options.amqpUrl,
      ordersTopic: names.ordersTopic,
      notificationsExchange: names.notificationsExchange,
      emailRoutingKey: names.emailRoutingKey,
      ...instrumentationOf('order-service'),
    });
    started.push(orderService);
    let counter = 0;
    let stopping: Promise<void> | undefined;
    return {
      names,
      orderService,
      inventory,
      notification,
      placeOrder: (order) => orderService.placeOrder(order ?? sampleOrder(counter++)),
      publishEmailCommand: (content, publishOptions = {}) =>
        new Promise<void>((resolve, reject) => {
          orderService.channel.publish(names.notificationsExchange, names.emailRoutingKey, content, publishOptions, (err) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
          );
        }),
      stop: () => (stopping ??= stopAll(started)),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** Stops in reverse start order; one failing stop does not keep the others running. */
async function stopAll(started: readonly { stop(): Promise<void> }[]): Promise<void> {
  const errors: unknown[] = [];
  for (const s of [...started].reverse()) await s.stop().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw new AggregateError(errors, 'reference system: some services did not stop cleanly');
}

async function ensureTopic(brokers: readonly string[], topic: string, partitions: number, security: KafkaSecurityOptions | undefined): Promise<void> {
  const admin = quietKafka('reference-system-admin', brokers, security).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: false });
    // Not kafkajs's waitForLeaders: on several nodes it gives up when asked a node that has not
    // learned of the topic yet ("does not host this topic-partition"). Ask again for up to 30 s.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const led = await admin
        .fetchTopicMetadata({ topics: [topic] })
        .then((m) => m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        .catch((err: unknown) => {
          if (Date.now() >= deadline) throw err;
          return false;
        });
      if (led) return;
      if (Date.now() >= deadline) throw new Error(`reference system: topic ${topic} has partitions without a leader after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}
