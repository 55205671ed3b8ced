import type { Channel, ConsumeMessage } from 'amqplib';
import { InvalidMessageError } from '../invalid-message-error';
import { object, string } from '../field-readers';
import { parseEnvelope } from '../parse-envelope';
import type { ServiceLogger } from '../types';
import type { EmailSender } from './email-sender';

export const SEND_EMAIL_TYPE = 'SendEmail';
export const SEND_EMAIL_SUPPORTED_VERSION = 1;
/** Header counting deliveries of one command across our retries (classic queues do not count them). */
export const ATTEMPT_HEADER = 'x-attempt';
/** Header naming the command: the queue may carry several kinds, this service handles SendEmail only. */
export const MESSAGE_TYPE_HEADER = 'x-message-type';
export const DEFAULT_MAX_ATTEMPTS = 3;

/** What the handler did with one delivery. */
export type NotificationOutcome = 'sent' | 'retried' | 'dead-lettered' | 'ignored';

export interface NotificationHandlerOptions {
  /** The channel the message was delivered on: acks, nacks and retry publishes go through it. */
  readonly channel: Pick<Channel, 'ack' | 'nack' | 'sendToQueue'>;
  readonly sender: EmailSender;
  /** The queue consumed from; a retry is re-sent to it through the default exchange. */
  readonly queue: string;
  /** Deliveries per command before it is dead-lettered (default 3). */
  readonly maxAttempts?: number;
  readonly logger?: ServiceLogger;
}

/**
 * The notification service's amqplib consume callback. Settles every delivery exactly once:
 * - a valid command is emailed, then acked;
 * - one that is not a SendEmail command (by its {@link MESSAGE_TYPE_HEADER} header) or is invalid
 *   (poison) is nacked without requeue at once: the queue's dead-letter exchange
 *   takes it, since no retry can fix it;
 * - a failed send is retried by re-publishing a copy with {@link ATTEMPT_HEADER} + 1 and acking
 *   the original (requeue would spin on the same message with no count), and dead-lettered once
 *   maxAttempts deliveries have failed.
 */
export function createNotificationMessageHandler(options: NotificationHandlerOptions): (msg: ConsumeMessage | null) => Promise<NotificationOutcome> {
  const { channel, sender, queue, logger } = options;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  return async (msg) => {
    // null: RabbitMQ cancelled the consumer (queue deleted); nothing to settle.
    if (msg === null) return 'ignored';
    let email;
    try {
      const type: unknown = msg.properties.headers?.[MESSAGE_TYPE_HEADER];
      const typeText = Buffer.isBuffer(type) ? type.toString('utf8') : type;
      if (typeText !== SEND_EMAIL_TYPE) throw new InvalidMessageError(`headers.${MESSAGE_TYPE_HEADER}`, typeText === undefined ? 'is missing' : `is ${String(typeText)}, this service handles ${SEND_EMAIL_TYPE}`);
      const command = parseEnvelope(msg.content, SEND_EMAIL_TYPE, SEND_EMAIL_SUPPORTED_VERSION, readSendEmail);
      if (msg.properties.contentType !== 'application/json') throw new InvalidMessageError('contentType', `is ${String(msg.properties.contentType)}, expected application/json`);
      email = { ...command.payload, messageId: command.eventId };
    } catch (err) {
      if (!(err instanceof InvalidMessageError)) throw err;
      logger?.warn(`notification: dead-lettering poison message: ${err.message}`);
      channel.nack(msg, false, false);
      return 'dead-lettered';
    }
    const attempt = attemptOf(msg);
    try {
      await sender.send(email);
    } catch (err) {
      if (attempt >= maxAttempts) {
        logger?.warn(`notification: giving up on ${email.messageId} after ${attempt} attempts`, err);
        channel.nack(msg, false, false);
        return 'dead-lettered';
      }
      channel.sendToQueue(queue, msg.content, {
        contentType: msg.properties.contentType as string,
        messageId: msg.properties.messageId as string | undefined,
        correlationId: msg.properties.correlationId as string | undefined,
        type: msg.properties.type as string | undefined,
        persistent: true,
        headers: { ...msg.properties.headers, [ATTEMPT_HEADER]: attempt + 1 },
      } as Parameters<Channel['sendToQueue']>[2]);
      channel.ack(msg);
      return 'retried';
    }
    channel.ack(msg);
    return 'sent';
  };
}

function readSendEmail(payload: unknown): { to: string; subject: string; template: string; orderId: string } {
  const p = object(payload, '$.payload');
  const to = string(p['to'], '$.payload.to');
  if (!/^[^@\s]+@[^@\s]+$/.test(to)) throw new InvalidMessageError('$.payload.to', 'is not an email address');
  return { to, subject: string(p['subject'], '$.payload.subject'), template: string(p['template'], '$.payload.template'), orderId: string(p['orderId'], '$.payload.orderId') };
}

function attemptOf(msg: ConsumeMessage): number {
  const raw: unknown = msg.properties.headers?.[ATTEMPT_HEADER];
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}
