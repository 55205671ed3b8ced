import { trace } from '@opentelemetry/api';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, errorMessage } from '@eda-harness/core';
import { extractContext, readHeader } from '@eda-harness/instrumentation';
import type { HistoryRecord } from '../history/format';
import type { ClientEvent, ConsumedMessage, MessageId, SentMessage } from '../types';

/**
 * What both workloads share: how a message is identified (a unique id and a per-key sequence
 * number, in headers, so even a malformed body can be identified), what its body is, the senders
 * that pace each key's stream, and the bookkeeping of what was sent and seen.
 */

export interface WorkloadOptions {
  /** Distinct keys, each an ordered stream (default 6). */
  readonly keys?: number;
  /** Target send rate over all keys (default 40 messages per second). */
  readonly messagesPerSecond?: number;
  /** Time the consumer spends per message (default 0); above 0 a backlog builds up. */
  readonly processingMs?: number;
}

/** How long a send may take to be acknowledged before it counts as failed. */
export const SETTLE_TIMEOUT_MS = 15_000;

const HEADER = { ID: 'chaos-id', KEY: 'chaos-key', SEQ: 'chaos-seq' } as const;

/** The headers that carry a message's identity, on Kafka and on RabbitMQ alike. */
export function headersOf(m: MessageId): Record<string, string> {
  return { [HEADER.ID]: m.id, [HEADER.KEY]: m.key, [HEADER.SEQ]: String(m.seq) };
}

/** Good messages are JSON with their own id; poison ones are not JSON at all. */
export const goodBody = (m: MessageId): string => JSON.stringify({ id: m.id, key: m.key, seq: m.seq, payload: 'x'.repeat(64) });
export const POISON_BODY = '{"id": "truncated';

export function isPoison(body: Buffer | null): boolean {
  if (body === null) return true;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return typeof parsed !== 'object' || parsed === null || typeof (parsed as { id?: unknown }).id !== 'string';
  } catch {
    return true;
  }
}

/** Where the broker put an acknowledged message, when it says (a Kafka partition and offset). */
export interface SendPlacement {
  readonly partition?: number;
  readonly offset?: string;
}

/**
 * The bookkeeping shared by both workloads: what was sent and seen, in memory, and each operation
 * as it happens to `history` (the scenario's history log) when given.
 */
export function recorder(history?: (record: HistoryRecord) => void, destination = '') {
  const sent: SentMessage[] = [];
  const consumed: ConsumedMessage[] = [];
  const events: ClientEvent[] = [];
  const log = history ?? (() => undefined);
  return {
    sent,
    consumed,
    events,
    event(where: ClientEvent['where'], message: string): void {
      const atMs = Date.now();
      events.push({ atMs, where, message });
      log({ type: 'event', t: atMs, where, message });
    },
    /**
     * Sends one message through `send` and records it once it settled (acknowledged or failed).
     * A failed send is recorded, its fate unknown, and not rethrown: the caller moves on.
     */
    async send(m: MessageId, poison: boolean, send: (m: MessageId) => Promise<void | SendPlacement>): Promise<void> {
      const sentAtMs = Date.now();
      log({ type: 'send', t: sentAtMs, id: m.id, key: m.key, seq: m.seq, poison, destination });
      let err: unknown;
      let placement: void | SendPlacement = undefined;
      try {
        placement = await send(m);
      } catch (e) {
        err = e ?? new Error('send failed');
      }
      const settledMs = Date.now();
      const error = err === undefined ? undefined : errorMessage(err);
      sent.push({ ...m, sentAtMs, poison, ackedAtMs: err === undefined ? settledMs : undefined, error });
      if (error === undefined) log({ type: 'send-ack', t: settledMs, id: m.id, ...(placement ?? {}) });
      else log({ type: 'send-failed', t: settledMs, id: m.id, error });
    },
    /** Records one delivery from its headers; undefined when the message is not the workload's. */
    delivery(headers: unknown, extra: { consumer: string; partition: number | undefined; offset?: string; redelivered: boolean; deadLettered: boolean }): ConsumedMessage | undefined {
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
      const where = { ...(c.partition === undefined ? {} : { partition: c.partition }), ...(extra.offset === undefined ? {} : { offset: extra.offset }) };
      const traceIds = { ...(c.producerTraceId === undefined ? {} : { traceId: c.producerTraceId }), ...(c.producerSpanId === undefined ? {} : { spanId: c.producerSpanId }) };
      log({ type: 'delivery', t: c.atMs, id, key: c.key, seq: c.seq, consumer: extra.consumer, ...where, redelivered: c.redelivered, deadLettered: c.deadLettered, ...traceIds });
      return c;
    },
  };
}

export type Recorder = ReturnType<typeof recorder>;

/**
 * One sender per key: send, wait until settled, pace to the target rate, repeat. A failed send is
 * recorded (its fate unknown) and the key moves on, as a service would after giving up.
 */
export function senders(keys: number, messagesPerSecond: number, prefix: string, send: (m: MessageId) => Promise<void | SendPlacement>, rec: Recorder) {
  let sending = true;
  const intervalMs = (keys / messagesPerSecond) * 1000;
  const loops = Array.from({ length: keys }, async (_, k) => {
    const key = `k${k}`;
    // Spread the keys over the first interval so sends do not all fire together.
    await delay((intervalMs * k) / keys);
    for (let seq = 0; sending; seq++) {
      const started = Date.now();
      await rec.send({ id: `${prefix}-${key}-${seq}`, key, seq }, false, send);
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

/** Sends malformed messages (key `poison`) one by one through `send`, each recorded as poison with its fate. */
export function poisonSender(prefix: string, rec: Recorder, send: (m: MessageId) => Promise<void | SendPlacement>): (count: number) => Promise<void> {
  let next = 0;
  return async (count) => {
    for (let i = 0; i < count; i++) {
      const seq = next++;
      await rec.send({ id: `${prefix}-poison-${seq}`, key: 'poison', seq }, true, send);
    }
  };
}

export function checkRate(o: WorkloadOptions): { keys: number; rate: number; processingMs: number } {
  const keys = o.keys ?? 6;
  const rate = o.messagesPerSecond ?? 40;
  const processingMs = o.processingMs ?? 0;
  if (!Number.isInteger(keys) || keys < 1) throw new ConfigError(`workload keys must be a whole number ≥ 1, got ${keys}`);
  if (!(rate > 0)) throw new ConfigError(`workload messagesPerSecond must be > 0, got ${rate}`);
  if (!(processingMs >= 0)) throw new ConfigError(`workload processingMs must be ≥ 0, got ${processingMs}`);
  return { keys, rate, processingMs };
}
