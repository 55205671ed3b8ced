import { DLQ_SOURCE_UNKNOWN, RABBITMQ_QUEUE_OPERATION } from '@eda-harness/semconv';
import { addCount, growth, NO_COUNTS } from '../counts';
import type { Counts } from '../counts';
import { ageSeconds } from '../lag';
import { matchDlqPattern } from '../name-filter';
import type { NameFilter } from '../name-filter';
import { EMPTY_INDEX, addSample, estimateWriteTime } from '../offset-time-index';
import type { OffsetTimeIndex } from '../offset-time-index';
import { deadLetterTopology, queueKey } from './dead-letter-topology';
import type { ManagementBinding, ManagementExchange, ManagementQueue } from './management';
import type { RabbitMqCollection, RabbitMqDlqSample, RabbitMqQueueOperation, RabbitMqQueueSample } from './types';

/**
 * The numbers of a RabbitMQ collection, from what the management API or AMQP passive declares
 * said: queue depth, consumers and rates, and dead-letter queues (from the topology or by name)
 * with depth, age of the head and inflow. Pure: plain answers and the memory of the previous
 * collections in, the snapshot and the next memory out.
 *
 * RabbitMQ does not count dead-lettered messages per queue (its global counters have no queue
 * label, and a DLQ's `publish` stat does not include them), so a DLQ's inflow is derived: growth
 * of its depth plus what was taken out of it (acks, no-ack deliveries), attributed to its single
 * source queue when the topology names exactly one.
 */

export interface RabbitMqSelection {
  readonly queues: NameFilter;
  /** Dead-letter queue patterns, in addition to queues bound to a dead-letter exchange. */
  readonly dlqPatterns: readonly string[];
  /** Never DLQs: queues the operator says are not (deny list) and retry queues by name. */
  readonly notDlq?: NameFilter;
}

/** What the collector carries from one collection to the next, per DLQ (vhost and name). */
export interface RabbitMqMemory {
  /** Messages ever seen (depth + taken out) at the last collection. */
  readonly lastDlqCounts: ReadonlyMap<string, number>;
  /**
   * Cumulative arrivals over wall time, for the head's age when the publisher set no `timestamp`
   * property (dead-lettering keeps the original properties, and most publishers set none).
   */
  readonly arrivals: ReadonlyMap<string, OffsetTimeIndex>;
  /** eda_dlq_inflow_messages_total by dlq and source. */
  readonly inflow: Counts;
}

export const EMPTY_RABBITMQ_MEMORY: RabbitMqMemory = { lastDlqCounts: new Map(), arrivals: new Map(), inflow: NO_COUNTS };

/** Management API message_stats fields behind each exported rate. */
const RATE_FIELDS: Record<string, string> = {
  [RABBITMQ_QUEUE_OPERATION.PUBLISH]: 'publish_details',
  [RABBITMQ_QUEUE_OPERATION.DELIVER]: 'deliver_get_details',
  [RABBITMQ_QUEUE_OPERATION.ACK]: 'ack_details',
  [RABBITMQ_QUEUE_OPERATION.REDELIVER]: 'redeliver_details',
};
/** Management API message_stats cumulative counts behind each exported counter. */
const TOTAL_FIELDS: Record<RabbitMqQueueOperation, string> = {
  publish: 'publish',
  deliver: 'deliver_get',
  ack: 'ack',
  redeliver: 'redeliver',
};
/** Counters of messages leaving a queue, used to tell a DLQ's inflow from its depth. */
const OUTFLOW_FIELDS = ['ack', 'deliver_no_ack', 'get_no_ack'] as const;

export interface ManagementAnswers {
  readonly queues: readonly ManagementQueue[];
  readonly bindings: readonly ManagementBinding[];
  /** Exchange types; without them binding keys are matched the old way (see dead-letter-topology.ts). */
  readonly exchanges?: readonly ManagementExchange[];
  /** Wall time (ms) of the answers. */
  readonly atMs: number;
}

export function managementSnapshot(
  answers: ManagementAnswers,
  memory: RabbitMqMemory,
  selection: RabbitMqSelection,
): { snapshot: RabbitMqCollection; memory: RabbitMqMemory } {
  const { atMs } = answers;
  const queues = answers.queues.filter((q) => selection.queues(q.name));
  const topology = deadLetterTopology(answers.queues, answers.bindings, answers.exchanges);
  const samples: RabbitMqQueueSample[] = queues.map((q) => ({
    vhost: q.vhost,
    queue: q.name,
    ready: num(q.messages_ready),
    unacked: num(q.messages_unacknowledged),
    consumers: num(q.consumers),
    rates: ratesOf(q),
    totals: totalsOf(q),
    ...(topology.retryHoldQueues.has(queueKey(q.vhost, q.name)) ? { retryHold: true } : {}),
  }));

  const sourcesByDlq = new Map<string, Set<string>>();
  for (const r of topology.routes) {
    const key = queueKey(r.vhost, r.dlq);
    sourcesByDlq.set(key, (sourcesByDlq.get(key) ?? new Set()).add(r.source));
  }
  const dlqs: RabbitMqDlqSample[] = [];
  const lastDlqCounts = new Map<string, number>();
  const arrivals = new Map<string, OffsetTimeIndex>();
  const inflow = new Map(memory.inflow);
  for (const q of queues) {
    const key = queueKey(q.vhost, q.name);
    if (topology.retryLoopQueues.has(key) || selection.notDlq?.(q.name)) continue;
    const fromTopology = sourcesByDlq.get(key);
    const fromName = matchDlqPattern(selection.dlqPatterns, q.name);
    if (!fromTopology && !fromName) continue;
    const sources = fromTopology ? [...fromTopology].sort() : fromName?.source ? [fromName.source] : [];
    const depth = num(q.messages ?? num(q.messages_ready) + num(q.messages_unacknowledged));
    // Everything that ever arrived = depth + messages taken out.
    const stats = q.message_stats ?? {};
    const total = depth + OUTFLOW_FIELDS.reduce((sum, f) => sum + num(stats[f]), 0);
    const index = addSample(memory.arrivals.get(key) ?? EMPTY_INDEX, total, atMs);
    arrivals.set(key, index);
    const head = typeof q.head_message_timestamp === 'number' ? q.head_message_timestamp * 1000 : undefined;
    const oldestAgeSeconds = depth === 0 ? 0 : (ageSeconds(atMs, head) ?? headAgeFromArrivals(index, total - depth, atMs));
    dlqs.push({ system: 'rabbitmq', vhost: q.vhost, dlq: q.name, sources, depth, oldestAgeSeconds });

    lastDlqCounts.set(key, total);
    const source = sources.length === 1 ? sources[0]! : DLQ_SOURCE_UNKNOWN;
    addCount(inflow, `${key}\u0000${source}`, { vhost: q.vhost, dlq: q.name, source }, growth(memory.lastDlqCounts.get(key), total));
  }
  return {
    snapshot: { atMs, via: 'management', source: 'management', degraded: false, queues: samples, dlqs, dlqInflow: [...inflow.values()], warnings: [] },
    memory: { lastDlqCounts, arrivals, inflow },
  };
}

/** A queue as an AMQP passive declare reports it: ready messages and consumers only. */
export interface CheckedQueue {
  /** The vhost of the AMQP connection (the URL's path). */
  readonly vhost: string;
  readonly queue: string;
  readonly messageCount: number;
  readonly consumerCount: number;
}

/**
 * The fallback when the management API does not answer: depth and consumers of the queues AMQP
 * could check, dead-letter queues by name only, no unacknowledged count or age (nothing tells
 * them), and the inflow counted so far.
 */
export function amqpSnapshot(checked: readonly CheckedQueue[], memory: RabbitMqMemory, selection: RabbitMqSelection, atMs: number): RabbitMqCollection {
  const queues: RabbitMqQueueSample[] = [];
  const dlqs: RabbitMqDlqSample[] = [];
  for (const q of checked) {
    queues.push({ vhost: q.vhost, queue: q.queue, ready: q.messageCount, unacked: undefined, consumers: q.consumerCount, rates: {}, totals: {} });
    const match = selection.notDlq?.(q.queue) ? undefined : matchDlqPattern(selection.dlqPatterns, q.queue);
    if (match) dlqs.push({ system: 'rabbitmq', vhost: q.vhost, dlq: q.queue, sources: match.source ? [match.source] : [], depth: q.messageCount, oldestAgeSeconds: undefined });
  }
  // Degraded: AMQP cannot list queues, so what is not configured by name is missing, not empty.
  return { atMs, via: 'amqp', source: 'amqp', degraded: true, queues, dlqs, dlqInflow: [...memory.inflow.values()], warnings: [] };
}

/**
 * The head message's age from the arrival history, for a DLQ whose messages carry no `timestamp`.
 * A DLQ is read in order, so its head is arrival number `headIndex` (0-based, the count of messages
 * taken out so far), and it arrived when cumulative arrivals first passed that number. Older than
 * every sample gives a lower bound (time since the first sample), reported once it is above 0; a
 * purge or an expiry (arrivals going down) restarts the history. Undefined when nothing is known.
 */
export function headAgeFromArrivals(index: OffsetTimeIndex, headIndex: number, nowMs: number): number | undefined {
  const estimate = estimateWriteTime(index, headIndex);
  if (estimate === undefined) return undefined;
  const age = Math.max(0, (nowMs - estimate.atMs) / 1000);
  return estimate.kind === 'lower-bound' && age === 0 ? undefined : age;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function totalsOf(q: ManagementQueue): RabbitMqQueueSample['totals'] {
  const stats = q.message_stats;
  if (!stats) return {};
  const totals: Partial<Record<RabbitMqQueueOperation, number>> = {};
  for (const [operation, field] of Object.entries(TOTAL_FIELDS) as [RabbitMqQueueOperation, string][]) {
    const value = stats[field];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) totals[operation] = value;
  }
  return totals;
}

function ratesOf(q: ManagementQueue): RabbitMqQueueSample['rates'] {
  const stats = q.message_stats;
  if (!stats) return {};
  const rates: Record<string, number> = {};
  for (const [operation, field] of Object.entries(RATE_FIELDS)) {
    const details = stats[field];
    const rate = details && typeof details === 'object' ? (details as { rate?: unknown }).rate : undefined;
    if (typeof rate === 'number' && Number.isFinite(rate) && rate >= 0) rates[operation] = rate;
  }
  return rates;
}
