import { EventEmitter } from 'node:events';
import type { ConfirmChannel, Connection, ConsumeMessage, GetMessage, Message, Options, Replies } from 'amqplib';
import { unsupported } from './stand-in';
import type { AmqpSettlement, CapturedAmqpMessage } from './types';

type OnMessage = (msg: ConsumeMessage | null) => void;
type Confirm = (err: unknown, ok: Replies.Empty) => void;

export interface CapturingChannel {
  /**
   * An amqplib confirm channel with no broker behind it: publishes are recorded and confirmed at
   * once, consume / ack / nack / reject work on what `deliver` hands over, topology calls succeed
   * and do nothing, `get` finds no message; `connection` throws UnsupportedError.
   */
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
 * sees how it settles.
 */
export function createCapturingChannel(): CapturingChannel {
  const channel = new RecordingChannel();
  return {
    channel,
    published: channel.published,
    settlementOf: (tag) => channel.settlements.get(tag),
    deliver(queue, message) {
      const onMessage = channel.consumers.get(queue);
      if (!onMessage) throw new Error(`nothing consumes from "${queue}" on this channel`);
      onMessage(message);
    },
  };
}

const nothing = async (): Promise<Replies.Empty> => ({});
const noMessages = async (): Promise<Replies.DeleteQueue & Replies.PurgeQueue> => ({ messageCount: 0 });

class RecordingChannel extends EventEmitter implements ConfirmChannel {
  readonly published: CapturedAmqpMessage[] = [];
  readonly settlements = new Map<number, AmqpSettlement>();
  readonly consumers = new Map<string, OnMessage>();

  get connection(): Connection {
    return unsupported('capturing channel', 'channel.connection', 'there is no connection behind a capturing channel; keep connection handling out of the code under contract test');
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish = {}, callback?: Confirm): boolean {
    this.published.push({ transport: 'amqp', exchange, routingKey, content: Buffer.from(content), properties: { ...options, headers: { ...(options.headers as object | undefined) } } });
    if (callback) setImmediate(() => callback(null, {}));
    return true;
  }

  sendToQueue(queue: string, content: Buffer, options?: Options.Publish, callback?: Confirm): boolean {
    // As amqplib does: the default exchange with the queue as routing key.
    return this.publish('', queue, content, options, callback);
  }

  async consume(queue: string, onMessage: OnMessage): Promise<Replies.Consume> {
    this.consumers.set(queue, onMessage);
    return { consumerTag: `capture-${queue}` };
  }

  async get(): Promise<GetMessage | false> {
    return false;
  }

  ack(message: Message): void {
    this.settle(message, { kind: 'ack' });
  }

  nack(message: Message, _allUpTo?: boolean, requeue = true): void {
    this.settle(message, { kind: 'nack', requeue });
  }

  reject(message: Message, requeue = true): void {
    this.settle(message, { kind: 'reject', requeue });
  }

  // Nothing is ever outstanding, and there is no broker whose topology or flow control could change.
  ackAll(): void {}
  nackAll(): void {}
  async waitForConfirms(): Promise<void> {}
  async close(): Promise<void> {}
  async assertQueue(queue?: string): Promise<Replies.AssertQueue> {
    return { queue: queue ?? 'capture-anonymous', messageCount: 0, consumerCount: 0 };
  }
  async checkQueue(queue: string): Promise<Replies.AssertQueue> {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  async assertExchange(exchange: string): Promise<Replies.AssertExchange> {
    return { exchange };
  }
  async cancel(consumerTag: string): Promise<Replies.Cancel> {
    return { consumerTag };
  }
  readonly deleteQueue = noMessages;
  readonly purgeQueue = noMessages;
  readonly checkExchange = nothing;
  readonly deleteExchange = nothing;
  readonly bindQueue = nothing;
  readonly unbindQueue = nothing;
  readonly bindExchange = nothing;
  readonly unbindExchange = nothing;
  readonly prefetch = nothing;
  readonly recover = nothing;

  private settle(message: Message | undefined, settlement: AmqpSettlement): void {
    const tag = message?.fields?.deliveryTag;
    if (typeof tag === 'number' && !this.settlements.has(tag)) this.settlements.set(tag, settlement);
  }
}
