import { EventEmitter } from 'node:events';
import type { ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import type { AmqpSettlement, CapturedAmqpMessage } from './types';

type OnMessage = (msg: ConsumeMessage | null) => unknown;

export interface CapturingChannel {
  /** Behaves like an amqplib ConfirmChannel for publishing, consuming and settling; no broker behind it. */
  readonly channel: ConfirmChannel;
  /** Everything published, in order. */
  readonly published: readonly CapturedAmqpMessage[];
  /** How each delivery tag was settled (first settlement wins, as on a real channel). */
  settlementOf(deliveryTag: number): AmqpSettlement | undefined;
  /** Hands a message to the callback registered with consume(queue, ...). */
  deliver(queue: string, message: ConsumeMessage): void;
}

/**
 * A stand-in for an amqplib confirm channel that records instead of talking to RabbitMQ: the
 * provider side captures what its code publishes, the consumer side runs a real handler and
 * sees how it settles. Publishes are confirmed at once; topology calls succeed and do nothing.
 */
export function createCapturingChannel(): CapturingChannel {
  const published: CapturedAmqpMessage[] = [];
  const settlements = new Map<number, AmqpSettlement>();
  const consumers = new Map<string, OnMessage>();
  const settle = (msg: Message | undefined, s: AmqpSettlement) => {
    const tag = msg?.fields?.deliveryTag;
    if (typeof tag === 'number' && !settlements.has(tag)) settlements.set(tag, s);
  };
  const ok = async () => ({});
  const channel = Object.assign(new EventEmitter(), {
    connection: undefined,
    publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish = {}, callback?: (err: unknown, ok: unknown) => void): boolean {
      published.push({ transport: 'amqp', exchange, routingKey, content: Buffer.from(content), properties: { ...options, headers: { ...(options.headers as object | undefined) } } });
      if (callback) setImmediate(() => callback(null, {}));
      return true;
    },
    sendToQueue(this: ConfirmChannel, queue: string, content: Buffer, options?: Options.Publish, callback?: (err: unknown, ok: unknown) => void): boolean {
      // As amqplib does: the default exchange with the queue as routing key.
      return this.publish('', queue, content, options, callback as never);
    },
    async consume(queue: string, onMessage: OnMessage) {
      consumers.set(queue, onMessage);
      return { consumerTag: `capture-${queue}` };
    },
    async get() {
      return false as const;
    },
    ack(msg: Message) {
      settle(msg, { kind: 'ack' });
    },
    nack(msg: Message, _allUpTo?: boolean, requeue = true) {
      settle(msg, { kind: 'nack', requeue });
    },
    reject(msg: Message, requeue = true) {
      settle(msg, { kind: 'reject', requeue });
    },
    ackAll: () => undefined,
    nackAll: () => undefined,
    waitForConfirms: async () => undefined,
    assertQueue: async (queue?: string) => ({ queue: queue ?? 'capture-anonymous', messageCount: 0, consumerCount: 0 }),
    checkQueue: async (queue: string) => ({ queue, messageCount: 0, consumerCount: 0 }),
    assertExchange: async (exchange: string) => ({ exchange }),
    checkExchange: ok,
    bindQueue: ok,
    unbindQueue: ok,
    bindExchange: ok,
    unbindExchange: ok,
    deleteQueue: async () => ({ messageCount: 0 }),
    purgeQueue: async () => ({ messageCount: 0 }),
    deleteExchange: ok,
    prefetch: ok,
    recover: ok,
    cancel: async (consumerTag: string) => ({ consumerTag }),
    close: async () => undefined,
  });
  return {
    channel: channel as unknown as ConfirmChannel,
    published,
    settlementOf: (tag) => settlements.get(tag),
    deliver(queue, message) {
      const onMessage = consumers.get(queue);
      if (!onMessage) throw new Error(`nothing consumes from "${queue}" on this channel`);
      onMessage(message);
    },
  };
}
