import type { Channel } from 'amqplib';

export interface NotificationTopologyNames {
  readonly notificationsExchange: string;
  readonly emailRoutingKey: string;
  readonly emailQueue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
}

/**
 * Declares (idempotently) the exchange the order service publishes to, the durable email queue
 * and its dead-letter exchange and queue. The DLX is a queue argument set here, so the
 * instrumentation learns it from this assertQueue call and counts dead-lettered messages.
 */
export async function assertNotificationTopology(channel: Pick<Channel, 'assertExchange' | 'assertQueue' | 'bindQueue'>, names: NotificationTopologyNames): Promise<void> {
  await channel.assertExchange(names.notificationsExchange, 'direct', { durable: true });
  await channel.assertExchange(names.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.deadLetterQueue, { durable: true });
  await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, '');
  await channel.assertQueue(names.emailQueue, { durable: true, deadLetterExchange: names.deadLetterExchange });
  await channel.bindQueue(names.emailQueue, names.notificationsExchange, names.emailRoutingKey);
}
