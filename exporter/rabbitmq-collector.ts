import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { errorMessage } from '@eda-harness/core';
import { DLQ_SOURCE_UNKNOWN, RABBITMQ_QUEUE_OPERATION } from '@eda-harness/semconv';
import { deadLetterRoutes } from './dead-letter-topology';
import { ageSeconds } from './lag';
import { addSample, EMPTY_INDEX, estimateWriteTime } from './offset-time-index';
import type { OffsetTimeIndex } from './offset-time-index';
import { createNameFilter, matchDlqPattern } from './name-filter';
import { createManagementClient } from './rabbitmq-management';
import type { ManagementClient, ManagementQueue } from './rabbitmq-management';
import type { Collector, CountSample, DlqSample, QueueSample, RabbitMqSnapshot, RabbitMqTargetConfig } from './types';

export const DEFAULT_RABBITMQ_DLQ_PATTERNS: readonly string[] = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT', '*.dead-letter'];

export interface RabbitMqCollectorDeps {
  readonly config: RabbitMqTargetConfig;
  readonly now?: () => number;
  /** Replaces the management client (tests). */
  readonly management?: ManagementClient;
}

/** Management API message_stats fields behind each exported rate. */
const RATE_FIELDS: Record<string, string> = {
  [RABBITMQ_QUEUE_OPERATION.PUBLISH]: 'publish_details',
  [RABBITMQ_QUEUE_OPERATION.DELIVER]: 'deliver_get_details',
  [RABBITMQ_QUEUE_OPERATION.ACK]: 'ack_details',
  [RABBITMQ_QUEUE_OPERATION.REDELIVER]: 'redeliver_details',
};
/** Counters of messages leaving a queue, used to tell a DLQ's inflow from its depth. */
const OUTFLOW_FIELDS = ['ack', 'deliver_no_ack', 'get_no_ack'] as const;

/**
 * Collects queue depth, consumers and rates from the RabbitMQ management API, and dead-letter
 * queues from the topology (x-dead-letter-exchange arguments or policies, and the bindings of
 * those exchanges) plus name patterns. When the API does not answer, depth (ready messages) and
 * consumers of the configured queues come from AMQP passive declares instead, so the exporter
 * still says something useful with the management plugin disabled.
 *
 * RabbitMQ does not count dead-lettered messages per queue (its global counters have no queue
 * label, and a DLQ's `publish` stat does not include them), so a DLQ's inflow is derived: growth
 * of its depth plus what was taken out of it (acks, no-ack deliveries), attributed to its single
 * source queue when the topology names exactly one.
 */
export function createRabbitMqCollector(deps: RabbitMqCollectorDeps): Collector<RabbitMqSnapshot> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const queueFilter = createNameFilter(config.queues);
  const dlqPatterns = config.dlqPatterns ?? DEFAULT_RABBITMQ_DLQ_PATTERNS;
  const timeoutMs = config.requestTimeoutMs ?? 5_000;
  const management =
    deps.management ??
    (config.managementUrl
      ? createManagementClient({
          url: config.managementUrl,
          timeoutMs,
          ...(config.managementUser !== undefined ? { user: config.managementUser } : {}),
          ...(config.managementPassword !== undefined ? { password: config.managementPassword } : {}),
          ...(config.vhost !== undefined ? { vhost: config.vhost } : {}),
        })
      : undefined);
  // Literal names only: AMQP cannot list queues.
  const fallbackQueues =
    config.fallbackQueues ?? (config.queues?.allow ?? []).filter((q) => !q.includes('*'));

  let amqp: ChannelModel | undefined;
  const lastDlqCounts = new Map<string, number>();
  // Per DLQ: cumulative arrivals (depth + taken out) over wall time, for the head's age when the
  // publisher set no `timestamp` property (RabbitMQ's dead-lettering keeps the original properties,
  // and most publishers set none).
  const arrivals = new Map<string, OffsetTimeIndex>();
  const inflow = new Map<string, { dlq: string; source: string; count: number }>();

  const viaManagement = async (client: ManagementClient): Promise<RabbitMqSnapshot> => {
    const warnings: string[] = [];
    const [allQueues, bindings] = await Promise.all([client.queues(), client.bindings()]);
    const atMs = now();
    const queues = allQueues.filter((q) => queueFilter(q.name));
    const samples: QueueSample[] = queues.map((q) => ({
      vhost: q.vhost,
      queue: q.name,
      ready: num(q.messages_ready),
      unacked: num(q.messages_unacknowledged),
      consumers: num(q.consumers),
      rates: ratesOf(q),
    }));

    const routes = deadLetterRoutes(allQueues, bindings);
    const sourcesByDlq = new Map<string, Set<string>>();
    for (const r of routes) {
      const key = `${r.vhost}\u0000${r.dlq}`;
      sourcesByDlq.set(key, (sourcesByDlq.get(key) ?? new Set()).add(r.source));
    }
    const dlqs: DlqSample[] = [];
    const seen = new Set<string>();
    for (const q of queues) {
      const key = `${q.vhost}\u0000${q.name}`;
      const fromTopology = sourcesByDlq.get(key);
      const fromName = matchDlqPattern(dlqPatterns, q.name);
      if (!fromTopology && !fromName) continue;
      seen.add(key);
      const sources = fromTopology ? [...fromTopology].sort() : fromName?.source ? [fromName.source] : [];
      const depth = num(q.messages ?? num(q.messages_ready) + num(q.messages_unacknowledged));
      // Inflow = depth growth + messages taken out, since the previous collection.
      const stats = q.message_stats ?? {};
      const out = OUTFLOW_FIELDS.reduce((sum, f) => sum + num(stats[f]), 0);
      const total = depth + out;
      const index = addSample(arrivals.get(key) ?? EMPTY_INDEX, total, atMs);
      arrivals.set(key, index);
      const head = typeof q.head_message_timestamp === 'number' ? q.head_message_timestamp * 1000 : undefined;
      dlqs.push({ system: 'rabbitmq', dlq: q.name, sources, depth, oldestAgeSeconds: depth === 0 ? 0 : (ageSeconds(atMs, head) ?? headAgeFromArrivals(index, total - depth, atMs)) });

      const previous = lastDlqCounts.get(key);
      lastDlqCounts.set(key, total);
      const source = sources.length === 1 ? sources[0]! : DLQ_SOURCE_UNKNOWN;
      const inflowKey = `${key}\u0000${source}`;
      const entry = inflow.get(inflowKey) ?? { dlq: q.name, source, count: 0 };
      inflow.set(inflowKey, { ...entry, count: entry.count + (previous === undefined ? 0 : Math.max(0, total - previous)) });
    }
    for (const k of lastDlqCounts.keys()) if (!seen.has(k)) lastDlqCounts.delete(k);
    for (const k of arrivals.keys()) if (!seen.has(k)) arrivals.delete(k);
    return { atMs, via: 'management', queues: samples, dlqs, dlqInflow: inflowSamples(), warnings };
  };

  const inflowSamples = (): CountSample[] =>
    [...inflow.values()].map((e) => ({ labels: { dlq: e.dlq, source: e.source }, value: e.count }));

  const viaAmqp = async (reason: string | undefined): Promise<RabbitMqSnapshot> => {
    if (!config.amqpUrl) throw new Error(reason ?? 'neither a management URL nor an AMQP URL is configured');
    if (!amqp) {
      const model = await connect(config.amqpUrl, { timeout: timeoutMs });
      model.on('error', () => undefined);
      model.on('close', () => {
        if (amqp === model) amqp = undefined;
      });
      amqp = model;
    }
    const model = amqp;
    const warnings: string[] = reason ? [`management API unavailable, using AMQP passive declares: ${reason}`] : [];
    const queues: QueueSample[] = [];
    const dlqs: DlqSample[] = [];
    for (const name of fallbackQueues) {
      // A passive declare of a missing queue closes the channel: one channel per queue.
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        const ok = await channel.checkQueue(name);
        queues.push({ vhost: '', queue: name, ready: ok.messageCount, unacked: undefined, consumers: ok.consumerCount, rates: {} });
        const match = matchDlqPattern(dlqPatterns, name);
        if (match) dlqs.push({ system: 'rabbitmq', dlq: name, sources: match.source ? [match.source] : [], depth: ok.messageCount, oldestAgeSeconds: undefined });
      } catch (err) {
        warnings.push(`checkQueue(${name}): ${errorMessage(err)}`);
      } finally {
        await channel.close().catch(() => undefined);
      }
    }
    return { atMs: now(), via: 'amqp', queues, dlqs, dlqInflow: inflowSamples(), warnings };
  };

  return {
    target: 'rabbitmq',
    async collect() {
      if (!management) return viaAmqp(undefined);
      try {
        return await viaManagement(management);
      } catch (err) {
        if (!config.amqpUrl) throw err;
        return viaAmqp(errorMessage(err));
      }
    },
    async close() {
      const model = amqp;
      amqp = undefined;
      await model?.close().catch(() => undefined);
    },
  };
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function ratesOf(q: ManagementQueue): QueueSample['rates'] {
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
