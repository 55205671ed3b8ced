import type { Channel } from 'amqplib';
import { connectInstrumentedAmqp } from '../clients';
import type { ReferenceInstrumentation, ServiceLogger } from '../types';
import { createFakeEmailSender } from './email-sender';
import type { EmailSender } from './email-sender';
import { createNotificationMessageHandler } from './notification-message-handler';
import { assertNotificationTopology } from './notification-topology';
import type { NotificationTopologyNames } from './notification-topology';

export interface NotificationServiceOptions {
  readonly amqpUrl: string;
  readonly names: NotificationTopologyNames;
  readonly sender?: EmailSender;
  readonly maxAttempts?: number;
  /** Unacked deliveries in flight (default 10). */
  readonly prefetch?: number;
  readonly instrumentation?: ReferenceInstrumentation;
  readonly logger?: ServiceLogger;
}

export interface NotificationService {
  readonly sender: EmailSender;
  readonly channel: Channel;
  stop(): Promise<void>;
}

/** Consumes email commands from the durable queue, with bounded retries and a dead-letter queue. */
export async function startNotificationService(options: NotificationServiceOptions): Promise<NotificationService> {
  const connection = await connectInstrumentedAmqp(options.amqpUrl, options.instrumentation);
  const channel = await connection.createChannel();
  await assertNotificationTopology(channel, options.names);
  await channel.prefetch(options.prefetch ?? 10);
  const sender = options.sender ?? createFakeEmailSender();
  const handle = createNotificationMessageHandler({
    channel,
    sender,
    queue: options.names.emailQueue,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const { consumerTag } = await channel.consume(options.names.emailQueue, (msg) => {
    handle(msg).catch((err: unknown) => {
      // Unexpected (not a poison message, not a send failure): leave it to RabbitMQ to redeliver.
      options.logger?.warn('notification: handler failed unexpectedly', err);
      if (msg) channel.nack(msg, false, true);
    });
  });
  return {
    sender,
    channel,
    async stop() {
      await channel.cancel(consumerTag).catch(() => undefined);
      await connection.close();
    },
  };
}
