import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { setTimeout as delay } from 'node:timers/promises';
import { BrokerUnreachableError, ConfigError, errorMessage, withDeadline } from '@eda-harness/core';
import { instrumentAmqp } from '@eda-harness/instrumentation';
import type { ChaosWorkload, MessageId, RunningWorkload, WorkloadContext } from '../types';
import { POISON_BODY, SETTLE_TIMEOUT_MS, checkRate, goodBody, headersOf, isPoison, poisonSender, recorder, senders, type Recorder, type WorkloadOptions } from './traffic';

export interface RabbitMqWorkloadOptions extends WorkloadOptions {
  /** Durable queues (default true); false is the negative control: a restart loses the queue. */
  readonly durable?: boolean;
  /** Persistent messages (default true); false is the negative control: a restart loses them. */
  readonly persistent?: boolean;
  /** Consumer prefetch (default 20). */
  readonly prefetch?: number;
  /** How long the first connections may take before the workload gives up (default 30 000 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * Run on a three-node cluster (`withRabbitMq({ nodes: 3 })`): every client starts on node 1 and,
   * when its connection drops or a connect fails, tries the next node's URL, so consumers move
   * off a lost node. Default false: one URL, as before.
   */
  readonly cluster?: boolean;
  /**
   * `quorum` declares the queues with `x-queue-type: quorum` (replicated over the cluster by Raft,
   * always durable); `classic` is a queue on one node. Default: quorum on a cluster, else classic.
   */
  readonly queueType?: 'classic' | 'quorum';
}

export function rabbitMqWorkload(options: RabbitMqWorkloadOptions = {}): ChaosWorkload {
  const { keys, rate, processingMs } = checkRate(options);
  const durable = options.durable ?? true;
  const persistent = options.persistent ?? true;
  const prefetch = options.prefetch ?? 20;
  const cluster = options.cluster ?? false;
  const quorum = (options.queueType ?? (cluster ? 'quorum' : 'classic')) === 'quorum';
  if (quorum && !durable) throw new ConfigError('Workload.rabbitmq: a quorum queue is always durable; drop durable: false or use queueType: classic');
  const queueKind = quorum ? 'quorum queue' : `${durable ? 'durable' : 'non-durable'} queue`;
  const where = cluster ? ' on a three-node cluster (clients move to the next node when theirs is lost)' : '';
  return {
    system: 'rabbitmq',
    needs: cluster ? { rabbitmq: true, rabbitmqNodes: 3 } : { rabbitmq: true },
    description: `${rate} msg/s over ${keys} keys to a ${queueKind}${where}, ${persistent ? 'persistent' : 'transient'} messages, publisher confirms, manual acks (prefetch ${prefetch}), dead-letter exchange`,
    start: (ctx) => startRabbitMqWorkload(ctx, { keys, rate, processingMs, durable, persistent, prefetch, connectTimeoutMs: options.connectTimeoutMs ?? 30_000, cluster, quorum }),
  };
}

/**
 * The URL a client tries on its `attempt`-th connect (from 0) after starting on `start`: the next
 * node's each time, round the list, so a lost node is left for the one after it.
 */
export function rotateUrl(urls: readonly string[], start: number, attempt: number): { url: string; index: number } {
  if (urls.length === 0) throw new ConfigError('no AMQP URL to connect to');
  const index = (((start + attempt) % urls.length) + urls.length) % urls.length;
  return { url: urls[index] as string, index };
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

interface RabbitNames {
  readonly queue: string;
  readonly dlx: string;
  readonly dlq: string;
}

/** Declares the topology; run on every (re)connect, as a service must (a restart may have lost it). */
async function declare(ch: Channel, n: RabbitNames, durable: boolean, quorum = false): Promise<void> {
  const type = quorum ? { 'x-queue-type': 'quorum' } : {};
  await ch.assertExchange(n.dlx, 'fanout', { durable });
  await ch.assertQueue(n.dlq, { durable, ...(quorum ? { arguments: type } : {}) });
  await ch.bindQueue(n.dlq, n.dlx, '');
  await ch.assertQueue(n.queue, { durable, arguments: { 'x-dead-letter-exchange': n.dlx, ...type } });
}

/**
 * A connection that comes back: amqplib does not reconnect, so every user writes this loop. On
 * close, `onUp` runs again on a new connection once the broker answers. With several URLs (a
 * cluster's nodes), each attempt after a lost connection or a failed connect tries the next node.
 */
function resilientConnection(urls: readonly string[], name: string, rec: Recorder, onUp: (model: ChannelModel) => Promise<void>) {
  let model: ChannelModel | undefined;
  let closing = false;
  let connecting: Promise<void> | undefined;
  /** The node index the next attempt starts from: the one after the node last used. */
  let next = 0;
  let everConnected = false;
  const open = async (): Promise<void> => {
    for (let attempt = 1; !closing; attempt++) {
      const { url, index } = rotateUrl(urls, next, 0);
      next = index + 1;
      try {
        const m = await connect(url, { timeout: 3000 });
        m.on('error', (err: unknown) => rec.event('connection', `${name}: ${errorMessage(err)}`));
        m.on('close', () => {
          if (model !== m) return;
          model = undefined;
          if (closing) return;
          rec.event('connection', `${name}: connection closed, reconnecting`);
          connecting = open();
        });
        try {
          await onUp(m);
        } catch (err) {
          await m.close().catch(() => undefined);
          throw err;
        }
        model = m;
        everConnected = true;
        // The node a client uses is recorded, so a history shows consumers moving between nodes.
        if (urls.length > 1) rec.event('connection', `${name}: connected to node ${index + 1} (${redactUrl(url)})`);
        if (attempt > 1) rec.event('connection', `${name}: reconnected after ${attempt} attempts`);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0 || urls.length > 1) rec.event('connection', `${name}: connect attempt ${attempt}${urls.length > 1 ? ` to node ${index + 1}` : ''} failed: ${errorMessage(err)}`);
        // Before its first connection, a client tries its first node three times: it moves to
        // another node when its node is lost, not for one slow handshake on a busy machine.
        if (!everConnected && attempt < 3) next = index;
        await delay(Math.min(2000, 200 * attempt));
      }
    }
  };
  connecting = open();
  return {
    ready: () => connecting ?? Promise.resolve(),
    current: () => model,
    async close(): Promise<void> {
      closing = true;
      await connecting;
      await model?.close().catch(() => undefined);
    },
  };
}

async function startRabbitMqWorkload(
  ctx: WorkloadContext,
  o: { keys: number; rate: number; processingMs: number; durable: boolean; persistent: boolean; prefetch: number; connectTimeoutMs: number; cluster: boolean; quorum: boolean },
): Promise<RunningWorkload> {
  const url = ctx.env.getAmqpUrl();
  const clusterUrls = ctx.env.rabbitmq?.amqpUrls;
  if (o.cluster && (!clusterUrls || clusterUrls.length < 2)) {
    throw new ConfigError('Workload.rabbitmq({ cluster: true }) needs a RabbitMQ cluster, but the environment has one node', { hint: 'start the environment with withRabbitMq({ nodes: 3 }) (native provider)' });
  }
  const urls = o.cluster && clusterUrls ? clusterUrls : [url];
  const names: RabbitNames = { queue: `${ctx.prefix}.work`, dlx: `${ctx.prefix}.dlx`, dlq: `${ctx.prefix}.work.dlq` };
  const rec = recorder(ctx.history, names.queue);
  const instrumentation = { tracerProvider: ctx.tracerProvider, registry: ctx.registry, logger: { warn: (m: string) => rec.event('connection', `instrumentation: ${m}`) } };

  let publishChannel: ConfirmChannel | undefined;
  const openPublishChannel = async (model: ChannelModel): Promise<void> => {
    const ch = instrumentAmqp(await model.createConfirmChannel(), instrumentation);
    ch.on('error', (err: unknown) => rec.event('produce', `channel: ${errorMessage(err)}`));
    ch.on('close', () => {
      if (publishChannel === ch) publishChannel = undefined;
    });
    await declare(ch, names, o.durable, o.quorum);
    publishChannel = ch;
  };
  const publisher = resilientConnection(urls, 'publisher', rec, openPublishChannel);

  /**
   * Quorum queues: after a publisher nack, a new channel. RabbitMQ 3.10 nacks every publish of a
   * channel whose first publish to a quorum queue came while the queue's leader was down (before a
   * new one was elected) for as long as that node stays down, while a new channel is confirmed at
   * once; a careful client reopens its channel on a nack rather than retry on it for ever.
   */
  let renewing: Promise<void> | undefined;
  const renewPublishChannel = (): void => {
    const model = publisher.current();
    if (renewing || !model) return;
    const old = publishChannel;
    renewing = (async () => {
      rec.event('produce', 'publisher: message nacked; opening a new channel');
      publishChannel = undefined;
      await old?.close().catch(() => undefined);
      // A moment for a leader election to end, so the new channel does not start on the old leader.
      await delay(250);
      await openPublishChannel(model).catch((err: unknown) => rec.event('produce', `publisher: a new channel failed: ${errorMessage(err)}`));
    })().finally(() => {
      renewing = undefined;
    });
  };

  const consume = (queue: string, deadLettered: boolean, handle: (ch: Channel, msg: ConsumeMessage) => Promise<void>) =>
    resilientConnection(urls, deadLettered ? 'dlq reader' : 'consumer', rec, async (model) => {
      const ch = instrumentAmqp(await model.createChannel(), instrumentation);
      ch.on('error', (err: unknown) => rec.event('consume', `channel: ${errorMessage(err)}`));
      await declare(ch, names, o.durable, o.quorum);
      await ch.prefetch(o.prefetch);
      await ch.consume(queue, (msg) => {
        if (!msg) return;
        handle(ch, msg).catch((err: unknown) => {
          rec.event('consume', `handler: ${errorMessage(err)}`);
          try {
            ch.nack(msg, false, true);
          } catch {
            // The channel is gone; the broker redelivers the message to the next consumer.
          }
        });
      });
    });

  /**
   * The consumers connect once the publisher has declared the topology. Three clients declaring the
   * same new quorum queue at once on one node can see a declaration fail (a race inside RabbitMQ 3),
   * and the client that lost it would start on another node than the queue's leader: sequenced, the
   * leader lands on the publisher's node (client-local) and the consumers start beside it.
   */
  const startConsumers = () => {
    const consumer = consume(names.queue, false, async (ch, msg) => {
      if (isPoison(msg.content)) {
        // Rejected without requeue: the broker moves it through the dead-letter exchange.
        ch.nack(msg, false, false);
        return;
      }
      if (o.processingMs > 0) await delay(o.processingMs);
      rec.delivery(msg.properties.headers, { consumer: 'consumer', partition: undefined, redelivered: msg.fields.redelivered, deadLettered: false });
      ch.ack(msg);
    });
    const dlqReader = consume(names.dlq, true, async (ch, msg) => {
      rec.delivery(msg.properties.headers, { consumer: 'dlq reader', partition: undefined, redelivered: msg.fields.redelivered, deadLettered: true });
      ch.ack(msg);
    });
    return [consumer, dlqReader] as const;
  };
  // amqplib has no connect retry of its own and ours retries for ever: bound the first connection.
  const connections: { ready(): Promise<void>; close(): Promise<void> }[] = [publisher];
  let gaveUp = false;
  const connectAll = async (): Promise<readonly [typeof publisher, typeof publisher]> => {
    await publisher.ready();
    if (gaveUp) throw new Error('gave up');
    const started = startConsumers();
    connections.push(...started);
    await Promise.all(started.map((c) => c.ready()));
    return started;
  };
  let consumer: typeof publisher;
  let dlqReader: typeof publisher;
  try {
    [consumer, dlqReader] = await withDeadline(connectAll(), o.connectTimeoutMs, () => {
      gaveUp = true;
      const last = rec.events.filter((e) => e.where === 'connection').pop()?.message;
      return new BrokerUnreachableError(`RabbitMQ at ${redactUrl(url)} did not accept the workload's connections within ${o.connectTimeoutMs / 1000} s${last ? ` (last: ${last})` : ''}`, {
        hint: 'check that the broker is running and the AMQP URL is right (eda-harness env status)',
      });
    });
  } catch (err) {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    throw err;
  }

  const publish = async (m: MessageId, body: string): Promise<void> => {
    const ch = publishChannel;
    if (!ch) throw new Error('not connected to RabbitMQ');
    const confirmed = new Promise<void>((resolve, reject) => {
      try {
        ch.sendToQueue(names.queue, Buffer.from(body), { persistent: o.persistent, messageId: m.id, contentType: 'application/json', headers: headersOf(m) }, (err: unknown) => {
          if (err) {
            if (o.quorum) renewPublishChannel();
            reject(err instanceof Error ? err : new Error(`publisher nack: ${String(err)}`));
          } else resolve();
        });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    // A confirm that never comes (the connection died with the message in flight) is a failure.
    await withDeadline(confirmed, SETTLE_TIMEOUT_MS, () => new Error(`no publisher confirm within ${SETTLE_TIMEOUT_MS} ms`));
  };

  const loops = senders(o.keys, o.rate, ctx.prefix, (m) => publish(m, goodBody(m)), rec);
  const sendPoison = poisonSender(ctx.prefix, rec, (m) => publish(m, POISON_BODY));
  return {
    destination: names.queue,
    sendPoison,
    stopSending: () => loops.stop(),
    async close() {
      await loops.stop();
      await renewing;
      await Promise.all([consumer.close(), dlqReader.close(), publisher.close()]);
    },
    sent: () => rec.sent,
    consumed: () => rec.consumed,
    events: () => rec.events,
  };
}
