import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage, withDeadline } from '@eda-harness/core';

/**
 * The harness's RabbitMQ clients for a service under test: a publisher of its inputs (publisher
 * confirms, persistent messages, `mandatory` so an input no queue takes is a failed send, not an
 * acknowledged one), and a reader of its dead-letter queue. Both come back after the broker or the
 * network did (amqplib does not reconnect); the service declares its own topology, so the harness
 * declares nothing and waits for it.
 */

type Log = (message: string) => void;

/** One connection and channel, opened again on close until `close()`; `ready()` waits for the first. */
function reconnecting<C extends Channel>(url: string, name: string, log: Log, open: (model: ChannelModel) => Promise<C>) {
  let channel: C | undefined;
  let model: ChannelModel | undefined;
  let closing = false;
  const loop = async (): Promise<void> => {
    for (let attempt = 1; !closing; attempt++) {
      let m: ChannelModel | undefined;
      try {
        m = await connect(url, { timeout: 3000 });
        m.on('error', (err: unknown) => log(`${name}: ${errorMessage(err)}`));
        m.on('close', () => {
          if (model !== m) return;
          model = undefined;
          channel = undefined;
          if (!closing) {
            log(`${name}: connection closed, reconnecting`);
            void loop();
          }
        });
        const ch = await open(m);
        if (closing) {
          // Closed while this attempt was under way: nobody would close this connection later.
          await m.close().catch(() => undefined);
          return;
        }
        ch.on('error', (err: unknown) => log(`${name}: channel: ${errorMessage(err)}`));
        model = m;
        channel = ch;
        if (attempt > 1) log(`${name}: connected after ${attempt} attempts`);
        return;
      } catch (err) {
        if (m !== undefined && model !== m) await m.close().catch(() => undefined);
        if (attempt === 1 || attempt % 10 === 0) log(`${name}: connect attempt ${attempt} failed: ${errorMessage(err)}`);
        await delay(Math.min(2000, 200 * attempt));
      }
    }
  };
  const first = loop();
  return {
    ready: () => first,
    current: () => channel,
    async close(): Promise<void> {
      closing = true;
      await first;
      await model?.close().catch(() => undefined);
    },
  };
}

export interface RabbitInputPublisher {
  /** Resolves once the first connection is up (it retries until then). */
  ready(): Promise<void>;
  /** Resolves when the broker confirmed the message into a queue; throws when it did not (nack, unroutable, no confirm, no connection). */
  publish(body: string, options: { headers: Record<string, string>; contentType: string; messageId: string }): Promise<void>;
  /** Waits until the service declared where its inputs go (the exchange, or the queue), up to `timeoutMs`; says what is missing otherwise. */
  waitForTopology(timeoutMs: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export function rabbitInputPublisher(url: string, target: { queue?: string | undefined; exchange?: string | undefined; routingKey?: string | undefined }, settleTimeoutMs: number, log: Log): RabbitInputPublisher {
  // Ids of inputs the broker returned as unroutable (mandatory): basic.return comes before the confirm.
  const returned = new Set<string>();
  const conn = reconnecting<ConfirmChannel>(url, 'input publisher', log, async (m) => {
    const ch = await m.createConfirmChannel();
    ch.on('return', (msg: ConsumeMessage) => {
      const id = msg.properties.messageId as unknown;
      if (typeof id === 'string') returned.add(id);
    });
    return ch;
  });
  const exchange = target.queue !== undefined ? '' : target.exchange!;
  const routingKey = target.queue ?? target.routingKey ?? '';
  const where = target.queue !== undefined ? `queue ${target.queue}` : `exchange ${target.exchange} (routing key ${routingKey})`;
  return {
    ready: () => conn.ready(),
    async publish(body, o) {
      const ch = conn.current();
      if (!ch) throw new Error('not connected to RabbitMQ');
      const confirmed = new Promise<void>((ok, fail) => {
        try {
          ch.publish(exchange, routingKey, Buffer.from(body), { persistent: true, mandatory: true, contentType: o.contentType, messageId: o.messageId, headers: o.headers }, (err: unknown) => {
            if (err) fail(err instanceof Error ? err : new Error(`publisher nack: ${String(err)}`));
            else if (returned.delete(o.messageId)) fail(new Error(`unroutable: no queue is bound for ${where}`));
            else ok();
          });
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      });
      // A confirm that never comes (the connection died with the message in flight) is a failure.
      await withDeadline(confirmed, settleTimeoutMs, () => new Error(`no publisher confirm within ${settleTimeoutMs} ms`));
    },
    async waitForTopology(timeoutMs) {
      await conn.ready();
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        // A check on a missing name closes the channel it ran on: use a throwaway one.
        let probe: ChannelModel | undefined;
        try {
          probe = await connect(url, { timeout: 3000 });
          probe.on('error', () => undefined);
          const ch = await probe.createChannel();
          ch.on('error', () => undefined);
          if (target.queue !== undefined) await ch.checkQueue(target.queue);
          else await ch.checkExchange(target.exchange!);
          return undefined;
        } catch (err) {
          last = errorMessage(err);
        } finally {
          await probe?.close().catch(() => undefined);
        }
        await delay(250);
      }
      return `${where} was not declared within ${timeoutMs} ms of starting the service (${last})`;
    },
    close: () => conn.close(),
  };
}

/** Consumes (and acks) every message of a dead-letter queue, handing each to `onMessage`. */
export function rabbitDeadLetterReader(url: string, queue: string, log: Log, onMessage: (msg: ConsumeMessage) => void): { ready(): Promise<void>; close(): Promise<void> } {
  const conn = reconnecting<Channel>(url, `dead-letter reader (${queue})`, log, async (m) => {
    const ch = await m.createChannel();
    ch.on('error', () => undefined);
    // The service declares its dead-letter queue; until it has, the check fails and the loop retries.
    await ch.checkQueue(queue);
    await ch.prefetch(50);
    await ch.consume(queue, (msg) => {
      if (!msg) return;
      onMessage(msg);
      ch.ack(msg);
    });
    return ch;
  });
  return { ready: () => conn.ready(), close: () => conn.close() };
}
