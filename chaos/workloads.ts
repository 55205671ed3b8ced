import { trace } from '@opentelemetry/api';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, IHeaders, Producer } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';
import { BrokerUnreachableError, ConfigError, errorMessage } from '@eda-harness/core';
import { instrumentAmqp } from '@eda-harness/instrumentation';
import { extractContext, readHeader } from '@eda-harness/instrumentation';
import { instrumentKafka } from '@eda-harness/instrumentation';
import type { ChaosWorkload, ClientEvent, ConsumedMessage, RunningWorkload, SentMessage, WorkloadContext } from './types';

/**
 * The traffic a scenario runs under a fault. Every message carries a unique id and a per-key
 * sequence number (in headers, so even a malformed body can be identified), each key's messages
 * are sent one after another (the next once the previous settled), and the workload records what
 * the broker acknowledged and every delivery its consumer saw. Clients are instrumented with
 * eda-harness's own wrappers, so the traces invariant checks the real propagation path.
 *
 * The consumer does what a careful service does: parses, processes, and routes what it cannot
 * parse to a dead-letter queue; a second consumer reads the dead-letter queue back, so a poison
 * message counts as dead-lettered only once it is really there.
 */

export interface WorkloadOptions {
  /** Distinct keys, each an ordered stream (default 6). */
  readonly keys?: number;
  /** Target send rate over all keys (default 40 messages per second). */
  readonly messagesPerSecond?: number;
  /** Time the consumer spends per message (default 0); above 0 a backlog builds up. */
  readonly processingMs?: number;
}

export interface KafkaWorkloadOptions extends WorkloadOptions {
  /** Partitions of the workload's topic (default 3). */
  readonly partitions?: number;
  /** Run against a three-node cluster (replication factor 3, min.insync.replicas 2). */
  readonly cluster?: boolean;
}

export interface RabbitMqWorkloadOptions extends WorkloadOptions {
  /** Durable queues (default true); false is the negative control: a restart loses the queue. */
  readonly durable?: boolean;
  /** Persistent messages (default true); false is the negative control: a restart loses them. */
  readonly persistent?: boolean;
  /** Consumer prefetch (default 20). */
  readonly prefetch?: number;
  /** How long the first connections may take before the workload gives up (default 30 000 ms). */
  readonly connectTimeoutMs?: number;
}

const HEADER = { ID: 'chaos-id', KEY: 'chaos-key', SEQ: 'chaos-seq' } as const;
const SETTLE_TIMEOUT_MS = 15_000;

/** `promise`, or the error `onTimeout` makes once `ms` passed first. */
async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
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

/** The bookkeeping shared by both workloads. */
function recorder(startMs: () => number) {
  const sent: SentMessage[] = [];
  const consumed: ConsumedMessage[] = [];
  const events: ClientEvent[] = [];
  return {
    sent,
    consumed,
    events,
    event(where: ClientEvent['where'], message: string): void {
      events.push({ atMs: Date.now(), where, message });
    },
    /** Records a send once it settled (acknowledged or failed). */
    settle(m: Omit<SentMessage, 'ackedAtMs' | 'error'>, err: unknown): void {
      sent.push({ ...m, ackedAtMs: err === undefined ? Date.now() : undefined, error: err === undefined ? undefined : errorMessage(err) });
    },
    /** Records one delivery from its headers; undefined when the message is not the workload's. */
    delivery(headers: unknown, extra: { partition: number | undefined; redelivered: boolean; deadLettered: boolean }): ConsumedMessage | undefined {
      const id = readHeader(headers, HEADER.ID);
      if (id === undefined) return undefined;
      const sc = trace.getSpanContext(extractContext(headers));
      const c: ConsumedMessage = {
        id,
        key: readHeader(headers, HEADER.KEY) ?? '',
        seq: Number(readHeader(headers, HEADER.SEQ) ?? -1),
        atMs: Date.now(),
        partition: extra.partition,
        redelivered: extra.redelivered,
        producerTraceId: sc?.traceId,
        producerSpanId: sc?.spanId,
        deadLettered: extra.deadLettered,
      };
      consumed.push(c);
      return c;
    },
    startMs,
  };
}

type Recorder = ReturnType<typeof recorder>;

/** Good messages are JSON with their own id; poison ones are not JSON at all. */
const goodBody = (id: string, key: string, seq: number): string => JSON.stringify({ id, key, seq, payload: 'x'.repeat(64) });
const POISON_BODY = '{"id": "truncated';

function isPoison(body: Buffer | null): boolean {
  if (body === null) return true;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return typeof parsed !== 'object' || parsed === null || typeof (parsed as { id?: unknown }).id !== 'string';
  } catch {
    return true;
  }
}

/**
 * One sender per key: send, wait until settled, pace to the target rate, repeat. A failed send is
 * recorded (its fate unknown) and the key moves on, as a service would after giving up.
 */
function senders(keys: number, messagesPerSecond: number, prefix: string, send: (m: { id: string; key: string; seq: number }) => Promise<void>, rec: Recorder) {
  let sending = true;
  const intervalMs = (keys / messagesPerSecond) * 1000;
  const loops = Array.from({ length: keys }, async (_, k) => {
    const key = `k${k}`;
    // Spread the keys over the first interval so sends do not all fire together.
    await delay((intervalMs * k) / keys);
    for (let seq = 0; sending; seq++) {
      const started = Date.now();
      const id = `${prefix}-${key}-${seq}`;
      let err: unknown;
      try {
        await send({ id, key, seq });
      } catch (e) {
        err = e ?? new Error('send failed');
      }
      rec.settle({ id, key, seq, sentAtMs: started, poison: false }, err);
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0 && sending) await delay(wait);
    }
  });
  return {
    async stop(): Promise<void> {
      sending = false;
      await Promise.all(loops);
    },
  };
}

/** Sends malformed messages one by one through `send`, each recorded as poison with its fate. */
function poisonSender(prefix: string, rec: Recorder, send: (id: string, seq: number) => Promise<void>): (count: number) => Promise<void> {
  let next = 0;
  return async (count) => {
    for (let i = 0; i < count; i++) {
      const seq = next++;
      const id = `${prefix}-poison-${seq}`;
      const sentAtMs = Date.now();
      let err: unknown;
      try {
        await send(id, seq);
      } catch (e) {
        err = e ?? new Error('send failed');
      }
      rec.settle({ id, key: 'poison', seq, sentAtMs, poison: true }, err);
    }
  };
}

function checkRate(o: WorkloadOptions): { keys: number; rate: number; processingMs: number } {
  const keys = o.keys ?? 6;
  const rate = o.messagesPerSecond ?? 40;
  const processingMs = o.processingMs ?? 0;
  if (!Number.isInteger(keys) || keys < 1) throw new ConfigError(`workload keys must be a whole number ≥ 1, got ${keys}`);
  if (!(rate > 0)) throw new ConfigError(`workload messagesPerSecond must be > 0, got ${rate}`);
  if (!(processingMs >= 0)) throw new ConfigError(`workload processingMs must be ≥ 0, got ${processingMs}`);
  return { keys, rate, processingMs };
}

// ---------------------------------------------------------------------------------------------
// Kafka
// ---------------------------------------------------------------------------------------------

function kafkaWorkload(options: KafkaWorkloadOptions = {}): ChaosWorkload {
  const { keys, rate, processingMs } = checkRate(options);
  const partitions = options.partitions ?? 3;
  const nodes = options.cluster ? 3 : 1;
  return {
    system: 'kafka',
    needs: { kafkaNodes: nodes },
    description: `${rate} msg/s over ${keys} keys to a ${partitions}-partition topic (acks -1${nodes === 3 ? ', replication factor 3, min.insync.replicas 2' : ''}), one consumer group, dead-letter topic`,
    start: (ctx) => startKafkaWorkload(ctx, { keys, rate, processingMs, partitions, nodes }),
  };
}

async function startKafkaWorkload(ctx: WorkloadContext, o: { keys: number; rate: number; processingMs: number; partitions: number; nodes: number }): Promise<RunningWorkload> {
  const brokers = ctx.env.getKafkaBrokers();
  const topic = `${ctx.prefix}.orders`;
  const dlq = `${topic}.dlq`;
  const clientId = `chaos-${ctx.prefix}`;
  const startedAt = Date.now();
  const rec = recorder(() => startedAt);
  const kafka = instrumentKafka(
    new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 8, initialRetryTime: 250, maxRetryTime: 3000 },
    }),
    { tracerProvider: ctx.tracerProvider, registry: ctx.registry, brokers, clientId, logger: { warn: (m) => rec.event('connection', `instrumentation: ${m}`) } },
  );
  const replicationFactor = Math.min(o.nodes, 3);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: o.partitions, replicationFactor },
        { topic: dlq, numPartitions: 1, replicationFactor },
      ],
    });
  } finally {
    await admin.disconnect();
  }

  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const headersOf = (id: string, key: string, seq: number): IHeaders => ({ [HEADER.ID]: id, [HEADER.KEY]: key, [HEADER.SEQ]: String(seq) });

  const consumers: Consumer[] = [];
  let closing = false;
  /** A consumer that starts itself again after a crash kafkajs does not restart from. */
  const supervise = async (groupId: string, subscribeTo: string, handle: Parameters<Consumer['run']>[0]): Promise<void> => {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200, retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3000 } });
    consumers.push(consumer);
    consumer.on(consumer.events.CRASH, (e) => {
      const restart = (e.payload as { restart?: boolean }).restart === true;
      rec.event('consume', `${groupId} crashed (${errorMessage(e.payload.error)})${restart ? ', kafkajs restarts it' : ''}`);
      if (restart || closing) return;
      void (async () => {
        await consumer.disconnect().catch(() => undefined);
        for (let attempt = 1; !closing; attempt++) {
          await delay(Math.min(5000, 500 * attempt));
          try {
            await supervise(groupId, subscribeTo, handle);
            rec.event('consume', `${groupId} started again by the workload`);
            return;
          } catch (err) {
            rec.event('consume', `${groupId} restart attempt ${attempt} failed: ${errorMessage(err)}`);
          }
        }
      })();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: subscribeTo, fromBeginning: true });
    await consumer.run(handle);
  };

  try {
    await supervise(`${ctx.prefix}-orders`, topic, {
      eachMessage: async ({ partition, message }) => {
        if (isPoison(message.value)) {
          // Dead-letter it; if that fails the handler throws and kafkajs redelivers (at least once).
          await producer.send({ topic: dlq, acks: -1, messages: [{ key: message.key, value: message.value, headers: message.headers ?? {} }] });
          return;
        }
        if (o.processingMs > 0) await delay(o.processingMs);
        rec.delivery(message.headers, { partition, redelivered: false, deadLettered: false });
      },
    });
    await supervise(`${ctx.prefix}-dlq-reader`, dlq, {
      eachMessage: async ({ partition, message }) => void rec.delivery(message.headers, { partition, redelivered: false, deadLettered: true }),
    });
  } catch (err) {
    // Half started: disconnect what did start, or its sockets and timers outlive the scenario.
    closing = true;
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    throw err;
  }

  const send = async ({ id, key, seq }: { id: string; key: string; seq: number }) => {
    await producer.send({ topic, acks: -1, timeout: SETTLE_TIMEOUT_MS, messages: [{ key, value: goodBody(id, key, seq), headers: headersOf(id, key, seq) }] });
  };
  const loops = senders(o.keys, o.rate, ctx.prefix, send, rec);
  const sendPoison = poisonSender(ctx.prefix, rec, (id, seq) =>
    producer.send({ topic, acks: -1, messages: [{ key: 'poison', value: POISON_BODY, headers: headersOf(id, 'poison', seq) }] }).then(() => undefined),
  );

  return {
    destination: topic,
    sendPoison,
    stopSending: () => loops.stop(),
    async close() {
      closing = true;
      await loops.stop();
      for (const c of consumers) await c.disconnect().catch((err: unknown) => rec.event('consume', `disconnect: ${errorMessage(err)}`));
      await producer.disconnect().catch((err: unknown) => rec.event('produce', `disconnect: ${errorMessage(err)}`));
    },
    sent: () => rec.sent,
    consumed: () => rec.consumed,
    events: () => rec.events,
  };
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ
// ---------------------------------------------------------------------------------------------

function rabbitMqWorkload(options: RabbitMqWorkloadOptions = {}): ChaosWorkload {
  const { keys, rate, processingMs } = checkRate(options);
  const durable = options.durable ?? true;
  const persistent = options.persistent ?? true;
  const prefetch = options.prefetch ?? 20;
  return {
    system: 'rabbitmq',
    needs: { rabbitmq: true },
    description: `${rate} msg/s over ${keys} keys to a ${durable ? 'durable' : 'non-durable'} queue, ${persistent ? 'persistent' : 'transient'} messages, publisher confirms, manual acks (prefetch ${prefetch}), dead-letter exchange`,
    start: (ctx) => startRabbitMqWorkload(ctx, { keys, rate, processingMs, durable, persistent, prefetch, connectTimeoutMs: options.connectTimeoutMs ?? 30_000 }),
  };
}

interface RabbitNames {
  readonly queue: string;
  readonly dlx: string;
  readonly dlq: string;
}

/** Declares the topology; run on every (re)connect, as a service must (a restart may have lost it). */
async function declare(ch: Channel, n: RabbitNames, durable: boolean): Promise<void> {
  await ch.assertExchange(n.dlx, 'fanout', { durable });
  await ch.assertQueue(n.dlq, { durable });
  await ch.bindQueue(n.dlq, n.dlx, '');
  await ch.assertQueue(n.queue, { durable, arguments: { 'x-dead-letter-exchange': n.dlx } });
}

/**
 * A connection that comes back: amqplib does not reconnect, so every user writes this loop. On
 * close, `onUp` runs again on a new connection once the broker answers.
 */
function resilientConnection(url: string, name: string, rec: Recorder, onUp: (model: ChannelModel) => Promise<void>) {
  let model: ChannelModel | undefined;
  let closing = false;
  let connecting: Promise<void> | undefined;
  const open = async (): Promise<void> => {
    for (let attempt = 1; !closing; attempt++) {
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
        await onUp(m);
        model = m;
        if (attempt > 1) rec.event('connection', `${name}: reconnected after ${attempt} attempts`);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) rec.event('connection', `${name}: connect attempt ${attempt} failed: ${errorMessage(err)}`);
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
  o: { keys: number; rate: number; processingMs: number; durable: boolean; persistent: boolean; prefetch: number; connectTimeoutMs: number },
): Promise<RunningWorkload> {
  const url = ctx.env.getAmqpUrl();
  const names: RabbitNames = { queue: `${ctx.prefix}.work`, dlx: `${ctx.prefix}.dlx`, dlq: `${ctx.prefix}.work.dlq` };
  const startedAt = Date.now();
  const rec = recorder(() => startedAt);
  const instrumentation = { tracerProvider: ctx.tracerProvider, registry: ctx.registry, logger: { warn: (m: string) => rec.event('connection', `instrumentation: ${m}`) } };

  let publishChannel: ConfirmChannel | undefined;
  const publisher = resilientConnection(url, 'publisher', rec, async (model) => {
    const ch = instrumentAmqp(await model.createConfirmChannel(), instrumentation);
    ch.on('error', (err: unknown) => rec.event('produce', `channel: ${errorMessage(err)}`));
    ch.on('close', () => {
      if (publishChannel === ch) publishChannel = undefined;
    });
    await declare(ch, names, o.durable);
    publishChannel = ch;
  });

  const consume = (queue: string, deadLettered: boolean, handle: (ch: Channel, msg: ConsumeMessage) => Promise<void>) =>
    resilientConnection(url, deadLettered ? 'dlq reader' : 'consumer', rec, async (model) => {
      const ch = instrumentAmqp(await model.createChannel(), instrumentation);
      ch.on('error', (err: unknown) => rec.event('consume', `channel: ${errorMessage(err)}`));
      await declare(ch, names, o.durable);
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

  const consumer = consume(names.queue, false, async (ch, msg) => {
    if (isPoison(msg.content)) {
      // Rejected without requeue: the broker moves it through the dead-letter exchange.
      ch.nack(msg, false, false);
      return;
    }
    if (o.processingMs > 0) await delay(o.processingMs);
    rec.delivery(msg.properties.headers, { partition: undefined, redelivered: msg.fields.redelivered, deadLettered: false });
    ch.ack(msg);
  });
  const dlqReader = consume(names.dlq, true, async (ch, msg) => {
    rec.delivery(msg.properties.headers, { partition: undefined, redelivered: msg.fields.redelivered, deadLettered: true });
    ch.ack(msg);
  });
  // amqplib has no connect retry of its own and ours retries for ever: bound the first connection.
  const connections = [publisher, consumer, dlqReader];
  try {
    await withDeadline(Promise.all(connections.map((c) => c.ready())), o.connectTimeoutMs, () => {
      const last = rec.events.filter((e) => e.where === 'connection').pop()?.message;
      return new BrokerUnreachableError(`RabbitMQ at ${redactUrl(url)} did not accept the workload's connections within ${o.connectTimeoutMs / 1000} s${last ? ` (last: ${last})` : ''}`, {
        hint: 'check that the broker is running and the AMQP URL is right (eda-harness env status)',
      });
    });
  } catch (err) {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    throw err;
  }

  const publish = (id: string, key: string, seq: number, body: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const ch = publishChannel;
      if (!ch) {
        reject(new Error('not connected to RabbitMQ'));
        return;
      }
      // A confirm that never comes (the connection died with the message in flight) is a failure.
      const timer = setTimeout(() => reject(new Error(`no publisher confirm within ${SETTLE_TIMEOUT_MS} ms`)), SETTLE_TIMEOUT_MS);
      try {
        ch.sendToQueue(names.queue, Buffer.from(body), { persistent: o.persistent, messageId: id, contentType: 'application/json', headers: { [HEADER.ID]: id, [HEADER.KEY]: key, [HEADER.SEQ]: String(seq) } }, (err: unknown) => {
          clearTimeout(timer);
          if (err) reject(err instanceof Error ? err : new Error(`publisher nack: ${String(err)}`));
          else resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });

  const loops = senders(o.keys, o.rate, ctx.prefix, ({ id, key, seq }) => publish(id, key, seq, goodBody(id, key, seq)), rec);
  const sendPoison = poisonSender(ctx.prefix, rec, (id, seq) => publish(id, 'poison', seq, POISON_BODY));
  return {
    destination: names.queue,
    sendPoison,
    stopSending: () => loops.stop(),
    async close() {
      await loops.stop();
      await Promise.all([consumer.close(), dlqReader.close(), publisher.close()]);
    },
    sent: () => rec.sent,
    consumed: () => rec.consumed,
    events: () => rec.events,
  };
}

/** The workloads, behind one facade: `Workload.kafka({ cluster: true })`, `Workload.rabbitmq()`. */
export const Workload = { kafka: kafkaWorkload, rabbitmq: rabbitMqWorkload } as const;
