import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, Producer } from 'kafkajs';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, errorMessage } from '@eda-harness/core';
import { instrumentKafka } from '@eda-harness/instrumentation';
import { kafkaClientOptions, kafkaConnectionOf } from '../kafka-connection';
import { createTopicsWithLeaders } from '../kafka-topics';
import type { ChaosWorkload, MessageId, RunningWorkload, WorkloadContext } from '../types';
import { checkRate, goodBody, headersOf, recorder, type Recorder, type WorkloadOptions } from './traffic';

/**
 * Exactly-once traffic on Kafka: a transactional producer (idempotent, one transactionalId) writes
 * one message per key in each transaction, and a consumer reads the topic with isolation
 * read_committed. Every `abortEvery`-th transaction is aborted on purpose after its sends, so the
 * log holds aborted records a read_committed reader must never see.
 *
 * What the history holds, and why the shipped invariants then express "exactly once":
 * - A message counts as acknowledged when its transaction committed; a transaction that failed
 *   (and was aborted) records its messages as failed sends, their fate unknown.
 * - The aborted-on-purpose records are never recorded as sent (an aborted write did not happen):
 *   a reader that delivers one makes a phantom, which `noPhantoms` fails on.
 * - The reader records each log position (partition, offset) once: reading a position again after
 *   its own rejoin is the reader's at-least-once, not a duplicate in the log, and is only counted
 *   in an event. So a duplicate in the history is the same id at two offsets: a duplicate in the
 *   committed output, which `duplicates({ max: 0 })` fails on.
 *
 * The negative controls are the same workload with `isolation: 'read_uncommitted'` (the aborted
 * records are delivered) or `transactions: false` (a plain producer without idempotence, each
 * batch one send, nothing aborted: retries after a broker crash may write a message twice).
 */
export interface KafkaTransactionalWorkloadOptions extends WorkloadOptions {
  /** Partitions of the workload's topic (default 3). */
  readonly partitions?: number;
  /** Every n-th transaction is aborted on purpose after its sends (default 4; 0: never). */
  readonly abortEvery?: number;
  /** The reader's isolation level (default read_committed). */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  /** Send in transactions with an idempotent producer (default true); false is the plain producer. */
  readonly transactions?: boolean;
}

interface Settings {
  readonly keys: number;
  readonly rate: number;
  readonly processingMs: number;
  readonly partitions: number;
  readonly abortEvery: number;
  readonly isolation: 'read_committed' | 'read_uncommitted';
  readonly transactions: boolean;
}

export function kafkaTransactionalWorkload(options: KafkaTransactionalWorkloadOptions = {}): ChaosWorkload {
  const { keys, rate, processingMs } = checkRate(options);
  const partitions = options.partitions ?? 3;
  const transactions = options.transactions ?? true;
  const abortEvery = transactions ? (options.abortEvery ?? 4) : 0;
  const isolation = options.isolation ?? 'read_committed';
  if (!Number.isInteger(partitions) || partitions < 1) throw new ConfigError(`workload partitions must be a whole number ≥ 1, got ${partitions}`);
  if (!Number.isInteger(abortEvery) || abortEvery < 0 || abortEvery === 1) throw new ConfigError(`workload abortEvery must be 0 (never) or a whole number ≥ 2, got ${abortEvery}`);
  if (!transactions && options.abortEvery) throw new ConfigError('workload abortEvery needs transactions: a plain producer cannot abort', { hint: 'drop abortEvery, or set transactions: true' });
  const writes = transactions ? `transactions of one message per key from an idempotent transactional producer${abortEvery ? `, every ${abortEvery}th aborted on purpose` : ''}` : 'batches of one message per key from a plain producer (not idempotent, no transactions)';
  return {
    system: 'kafka',
    needs: { kafkaNodes: 1 },
    description: `${rate} msg/s over ${keys} keys to a ${partitions}-partition topic in ${writes} (acks -1), read ${isolation}`,
    start: (ctx) => startTransactionalWorkload(ctx, { keys, rate, processingMs, partitions, abortEvery, isolation, transactions }),
  };
}

/** Which transactions the producer aborts on purpose: the n-th, 2n-th... (1-based); none for n 0. */
export function abortsOnPurpose(transactionNo: number, abortEvery: number): boolean {
  return abortEvery > 0 && transactionNo % abortEvery === 0;
}

/**
 * The reader's filter: true the first time a log position (partition, offset) is seen, false when
 * the reader reads it again (after a rejoin, from its last committed offset).
 */
export function firstReadOf(): (partition: number, offset: string) => boolean {
  const seen = new Set<string>();
  return (partition, offset) => {
    const at = `${partition}/${offset}`;
    if (seen.has(at)) return false;
    seen.add(at);
    return true;
  };
}

async function startTransactionalWorkload(ctx: WorkloadContext, o: Settings): Promise<RunningWorkload> {
  const connection = ctx.kafka ?? kafkaConnectionOf(ctx.env, undefined);
  const brokers = connection.brokers;
  const topic = `${ctx.prefix}.orders`;
  const clientId = `chaos-${ctx.prefix}`;
  const transactionalId = `${ctx.prefix}-tx`;
  const rec = recorder(ctx.history, topic);
  const kafka = instrumentKafka(
    new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 8, initialRetryTime: 250, maxRetryTime: 3000 }, ...kafkaClientOptions(connection) }),
    { tracerProvider: ctx.tracerProvider, registry: ctx.registry, brokers, clientId, logger: { warn: (m) => rec.event('connection', `instrumentation: ${m}`) } },
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(admin, [{ topic, numPartitions: o.partitions, replicationFactor: 1 }]);
  } finally {
    await admin.disconnect();
  }

  let closing = false;
  const newProducer = (): Producer => (o.transactions ? kafka.producer({ allowAutoTopicCreation: false, transactionalId, idempotent: true, maxInFlightRequests: 1 }) : kafka.producer({ allowAutoTopicCreation: false, idempotent: false }));
  let producer = newProducer();
  await producer.connect();

  const groupId = `${ctx.prefix}-reader`;
  const consumers: Consumer[] = [];
  const firstRead = firstReadOf();
  let rereads = 0;
  const startReader = async (): Promise<void> => {
    const consumer = kafka.consumer({ groupId, readUncommitted: o.isolation === 'read_uncommitted', sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200, retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3000, restartOnFailure: async () => !closing } });
    consumers.push(consumer);
    consumer.on(consumer.events.CRASH, (e) => {
      const restart = (e.payload as { restart?: boolean }).restart === true;
      rec.event('consume', `${groupId} crashed (${errorMessage(e.payload.error)})${restart ? ', kafkajs restarts it' : ''}`);
      if (restart || closing) return;
      void restartReader(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (!firstRead(partition, message.offset)) {
          rereads++;
          rec.event('consume', `${groupId} read ${partition}/${message.offset} again (${rereads} positions re-read so far): not a second copy in the log`);
          return;
        }
        if (o.processingMs > 0) await delay(o.processingMs);
        rec.delivery(message.headers, { consumer: groupId, partition, offset: message.offset, redelivered: false, deadLettered: false });
      },
    });
  };
  const restartReader = async (crashed: Consumer): Promise<void> => {
    await crashed.disconnect().catch(() => undefined);
    for (let attempt = 1; !closing; attempt++) {
      await delay(Math.min(5000, 500 * attempt));
      if (closing) return;
      try {
        await startReader();
        rec.event('consume', `${groupId} started again by the workload`);
        return;
      } catch (err) {
        rec.event('consume', `${groupId} restart attempt ${attempt} failed: ${errorMessage(err)}`);
      }
    }
  };
  try {
    await startReader();
  } catch (err) {
    closing = true;
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    throw err;
  }

  const messagesOf = (batch: readonly MessageId[]) => batch.map((m) => ({ key: m.key, value: goodBody(m), headers: headersOf(m) }));
  const writer = transactionWriter({
    rec,
    write: async (batch, abort) => {
      if (!o.transactions) {
        await producer.send({ topic, acks: -1, messages: messagesOf(batch) });
        return;
      }
      const tx = await producer.transaction();
      try {
        await tx.send({ topic, acks: -1, messages: messagesOf(batch) });
        if (abort) await tx.abort();
        else await tx.commit();
      } catch (err) {
        // The transaction failed part way: abort it, then start a new producer with the same
        // transactionalId, whose InitProducerId bumps the epoch (fencing the old one, having the
        // coordinator abort whatever it left open) and restarts the sequence numbers. Going on
        // with the old producer is not safe: kafkajs (2.2.4) takes back the sequence numbers of a
        // failed produce although the broker may have written it, and its abort() bumps nothing,
        // so the next transaction's batch can carry the same producer id, epoch and sequence as
        // the aborted one; the broker then answers it as a duplicate without writing it, and
        // that transaction commits with its records lost.
        await tx.abort().catch((abortErr: unknown) => rec.event('produce', `abort after a failed transaction failed too: ${errorMessage(abortErr)}`));
        rec.event('produce', `transaction failed (${errorMessage(err)}): starting a new producer with the same transactionalId`);
        await producer.disconnect().catch(() => undefined);
        producer = newProducer();
        await connectUntil(producer, () => closing, rec);
        throw err;
      }
    },
  });
  const loop = pacedTransactions(o, ctx.prefix, writer, () => closing);

  return {
    destination: topic,
    sendPoison: () => Promise.reject(new ConfigError('the transactional Kafka workload sends no poison messages', { hint: 'use Workload.kafka() for the poison fault' })),
    stopSending: () => loop.stop(),
    async close() {
      closing = true;
      await loop.stop();
      for (const c of consumers) await c.disconnect().catch((err: unknown) => rec.event('consume', `disconnect: ${errorMessage(err)}`));
      await producer.disconnect().catch((err: unknown) => rec.event('produce', `disconnect: ${errorMessage(err)}`));
    },
    sent: () => rec.sent,
    consumed: () => rec.consumed,
    events: () => rec.events,
  };
}

/** Connects a new producer, retrying while the broker is away, until it works or `stop()` says so. */
async function connectUntil(producer: Producer, stop: () => boolean, rec: Recorder): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.connect();
      return;
    } catch (err) {
      rec.event('produce', `new producer: connect attempt ${attempt} failed: ${errorMessage(err)}`);
      if (stop()) throw err;
      await delay(Math.min(3000, 300 * attempt));
    }
  }
}

type WriteBatch = (batch: readonly MessageId[], abort: boolean) => Promise<void>;

/**
 * Records a batch as the workload's sends when it is to be committed (each message acknowledged
 * when the write resolved, failed with its error when it rejected), and records an aborted-on-
 * purpose batch as an event only: its records must never be read by a read_committed reader.
 */
export function transactionWriter(deps: { rec: Recorder; write: WriteBatch }) {
  return {
    async commit(batch: readonly MessageId[]): Promise<void> {
      const written = deps.write(batch, false);
      // Each message settles with the batch (one rejection handled per message, none left unhandled).
      await Promise.all(batch.map((m) => deps.rec.send(m, false, () => written)));
    },
    async abort(batch: readonly MessageId[], transactionNo: number): Promise<void> {
      try {
        await deps.write(batch, true);
        deps.rec.event('produce', `transaction ${transactionNo} aborted on purpose after writing ${batch.map((m) => m.id).join(', ')}`);
      } catch (err) {
        deps.rec.event('produce', `transaction ${transactionNo} (to be aborted on purpose) failed: ${errorMessage(err)}`);
      }
    },
  };
}

/**
 * One transaction at a time (a producer has at most one open), each with the next message of every
 * key, paced so the keys together go at `rate` messages per second. The ids of an aborted batch
 * say so (`<prefix>-aborted-<n>-<key>`, key `aborted`), so a reader that delivers one names it in
 * the report.
 */
function pacedTransactions(o: Settings, prefix: string, writer: ReturnType<typeof transactionWriter>, closing: () => boolean) {
  let sending = true;
  const intervalMs = (o.keys / o.rate) * 1000;
  const keys = Array.from({ length: o.keys }, (_, k) => `k${k}`);
  const done = (async () => {
    let seq = 0;
    for (let n = 1; sending && !closing(); n++) {
      const started = Date.now();
      if (abortsOnPurpose(n, o.abortEvery)) await writer.abort(keys.map((key) => ({ id: `${prefix}-aborted-${n}-${key}`, key: 'aborted', seq: n })), n);
      else await writer.commit(keys.map((key) => ({ id: `${prefix}-${key}-${seq}`, key, seq })));
      if (!abortsOnPurpose(n, o.abortEvery)) seq++;
      const wait = intervalMs - (Date.now() - started);
      if (wait > 0 && sending) await delay(wait);
    }
  })();
  return {
    async stop(): Promise<void> {
      sending = false;
      await done;
    },
  };
}
