import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { BrokerUnreachableError, errorMessage } from '@eda-harness/core';
import { createNameFilter } from '../name-filter';
import type { Collector, RabbitMqTargetConfig } from '../types';
import { redactCredentials } from '../setting-rules';
import { createManagementClient } from './management';
import type { ManagementClient, ManagementQueue } from './management';
import { createPrometheusEndpointClient } from './prometheus-endpoint';
import type { PrometheusEndpointClient } from './prometheus-endpoint';
import { amqpSnapshot, EMPTY_RABBITMQ_MEMORY, managementSnapshot } from './snapshot';
import type { CheckedQueue, ManagementAnswers, RabbitMqSelection } from './snapshot';
import type { RabbitMqCollection, RabbitMqCollectorSettings } from './types';

export const DEFAULT_RABBITMQ_DLQ_PATTERNS: readonly string[] = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT', '*.dead-letter'];
/** Queues named like retry queues are never DLQs (the topology finds most retry loops anyway). */
export const DEFAULT_RABBITMQ_RETRY_QUEUE_PATTERNS: readonly string[] = ['*.retry', '*-retry', 'retry.*', '*.retry.*'];

export interface RabbitMqCollectorDeps {
  /** The target, plus the collector's own settings (see {@link RabbitMqCollectorSettings}). */
  readonly config: RabbitMqTargetConfig & RabbitMqCollectorSettings;
  readonly now?: () => number;
  /** Replaces the management client (tests). */
  readonly management?: ManagementClient;
  /** Replaces the client of RabbitMQ's Prometheus endpoint (tests). */
  readonly prometheus?: PrometheusEndpointClient;
}

/**
 * Collects queue depth, consumers and message counts from the RabbitMQ management API, and
 * dead-letter queues from the topology (x-dead-letter-exchange arguments or policies, exchange
 * types and bindings) plus name patterns (the numbers: snapshot.ts). Three ways, best first:
 * - the management API with statistics: everything;
 * - the management API without statistics (disabled on large servers) or not answering, with
 *   RabbitMQ's Prometheus endpoint configured: depth and consumers from that endpoint, the topology
 *   from the management API when it answers; no message counts;
 * - AMQP passive declares of the queues configured by name: ready messages and consumers of those
 *   only. AMQP cannot list queues, so this collection is marked degraded (eda_exporter_degraded)
 *   rather than passed off as a complete, healthy picture.
 */
export function createRabbitMqCollector(deps: RabbitMqCollectorDeps): Collector<RabbitMqCollection> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const notDlq = createNameFilter({ allow: [...(config.dlqDeny ?? []), ...(config.retryQueuePatterns ?? DEFAULT_RABBITMQ_RETRY_QUEUE_PATTERNS)] });
  const selection: RabbitMqSelection = {
    queues: createNameFilter(config.queues),
    dlqPatterns: config.dlqPatterns ?? DEFAULT_RABBITMQ_DLQ_PATTERNS,
    // An empty allow list lets every name through: no patterns means no queue is excluded.
    notDlq: (name) => (config.dlqDeny?.length ?? 0) + (config.retryQueuePatterns ?? DEFAULT_RABBITMQ_RETRY_QUEUE_PATTERNS).length > 0 && notDlq(name),
  };
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
          ...(config.managementPageSize !== undefined ? { pageSize: config.managementPageSize } : {}),
          ...(config.managementCaFile !== undefined ? { caFile: config.managementCaFile } : {}),
        })
      : undefined);
  const prometheus = deps.prometheus ?? (config.prometheusUrl ? createPrometheusEndpointClient({ url: config.prometheusUrl, timeoutMs, ...(config.managementCaFile !== undefined ? { caFile: config.managementCaFile } : {}) }) : undefined);
  // Literal names only: AMQP cannot list queues.
  const fallbackQueues = config.fallbackQueues ?? (config.queues?.allow ?? []).filter((q) => !q.includes('*'));

  let amqp: ChannelModel | undefined;
  let memory = EMPTY_RABBITMQ_MEMORY;

  const snapshotOf = (answers: ManagementAnswers, source: RabbitMqCollection['source'], warnings: string[], signal: AbortSignal | undefined): RabbitMqCollection => {
    // An abandoned collection (the exporter's deadline passed) must not write its memory back:
    // a later collection may already have stored newer counts, and the DLQ inflow would count twice.
    signal?.throwIfAborted();
    const next = managementSnapshot(answers, memory, selection);
    memory = next.memory;
    return { ...next.snapshot, source, warnings };
  };

  /** Depth and consumers from the Prometheus endpoint, laid over the management API's queue list (topology) when there is one. */
  const viaPrometheus = async (
    client: PrometheusEndpointClient,
    topology: Omit<ManagementAnswers, 'atMs'> | undefined,
    reason: string,
    signal: AbortSignal | undefined,
  ): Promise<RabbitMqCollection> => {
    const counted = await client.queues();
    const inScope = config.vhost === undefined ? counted : counted.filter((q) => q.vhost === config.vhost);
    const declared = new Map((topology?.queues ?? []).map((q) => [`${q.vhost}\u0000${q.name}`, q]));
    const queues: ManagementQueue[] = inScope.map((q) => {
      const { message_stats: _ignored, ...shape } = declared.get(`${q.vhost}\u0000${q.name}`) ?? q;
      const counts = { messages: q.messages, messages_ready: q.messages_ready, messages_unacknowledged: q.messages_unacknowledged, consumers: q.consumers };
      return { ...shape, ...Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== undefined)) };
    });
    return snapshotOf({ queues, bindings: topology?.bindings ?? [], ...(topology?.exchanges ? { exchanges: topology.exchanges } : {}), atMs: now() }, 'prometheus', [
      `reading depth and consumers from RabbitMQ's Prometheus endpoint: ${reason}`,
    ], signal);
  };

  const viaManagement = async (client: ManagementClient, signal: AbortSignal | undefined): Promise<RabbitMqCollection> => {
    const [queues, bindings, exchanges, statsOff] = await Promise.all([client.queues(), client.bindings(), client.exchanges(), client.statisticsDisabled()]);
    if (!statsOff) return snapshotOf({ queues, bindings, exchanges, atMs: now() }, 'management', [], signal);
    if (prometheus) return viaPrometheus(prometheus, { queues, bindings, exchanges }, 'management statistics are disabled on the server', signal);
    const next = snapshotOf({ queues, bindings, exchanges, atMs: now() }, 'management', [
      'management statistics are disabled on the server: queue depths are not known; set the Prometheus endpoint URL (rabbitmq_prometheus, port 15692) to read them',
    ], signal);
    // Without statistics every count reads 0: say it is not the whole picture.
    return { ...next, degraded: true };
  };

  const amqpConnection = async (url: string, signal: AbortSignal | undefined): Promise<ChannelModel> => {
    if (amqp) return amqp;
    let model: ChannelModel;
    try {
      model = await connect(url, { timeout: timeoutMs });
    } catch (err) {
      throw new BrokerUnreachableError(`AMQP ${redactCredentials(url)}: ${errorMessage(err)}`, { cause: err });
    }
    model.on('error', () => undefined);
    // Abandoned while connecting, or another collection connected meanwhile: keep the shared one.
    if (signal?.aborted || amqp !== undefined) {
      await model.close().catch(() => undefined);
      signal?.throwIfAborted();
      return amqp!;
    }
    model.on('close', () => {
      if (amqp === model) amqp = undefined;
    });
    amqp = model;
    return model;
  };

  const viaAmqp = async (reason: string | undefined, signal: AbortSignal | undefined): Promise<RabbitMqCollection> => {
    if (!config.amqpUrl) throw new Error(reason ?? 'neither a management URL nor an AMQP URL is configured');
    const model = await amqpConnection(config.amqpUrl, signal);
    const vhost = amqpVhost(config.amqpUrl);
    const warnings: string[] = reason ? [`management API unavailable, using AMQP passive declares: ${reason}`] : [];
    const checked: CheckedQueue[] = [];
    for (const queue of fallbackQueues) {
      signal?.throwIfAborted();
      // A passive declare of a missing queue closes the channel: one channel per queue.
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        const ok = await channel.checkQueue(queue);
        checked.push({ vhost, queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount });
      } catch (err) {
        warnings.push(`checkQueue(${queue}): ${errorMessage(err)}`);
      } finally {
        await channel.close().catch(() => undefined);
      }
    }
    return { ...amqpSnapshot(checked, memory, selection, now()), warnings };
  };

  return {
    target: 'rabbitmq',
    async collect(signal?: AbortSignal) {
      signal?.throwIfAborted();
      const failures: unknown[] = [];
      if (management) {
        try {
          return await viaManagement(management, signal);
        } catch (err) {
          // Abandoned: no fallback either (its result would be discarded too).
          if (signal?.aborted) throw signal.reason ?? err;
          failures.push(err);
        }
      }
      if (prometheus && failures.length > 0) {
        try {
          return await viaPrometheus(prometheus, undefined, `the management API failed: ${errorMessage(failures[0])}`, signal);
        } catch (err) {
          if (signal?.aborted) throw signal.reason ?? err;
          failures.push(err);
        }
      }
      if (failures.length > 0 && !config.amqpUrl) {
        if (failures.length === 1) throw failures[0];
        throw new BrokerUnreachableError(`the management API and the Prometheus endpoint both failed: ${failures.map(errorMessage).join('; ')}`, {
          cause: new AggregateError(failures, 'every way to read RabbitMQ failed'),
        });
      }
      try {
        return await viaAmqp(failures.length > 0 ? failures.map(errorMessage).join('; ') : undefined, signal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        if (failures.length === 0) throw err;
        // Every way failed: say so, with every reason (the AMQP one alone hides a wrong management URL).
        const ways = failures.length === 1 ? 'both the management API and the AMQP fallback' : 'the management API, the Prometheus endpoint and the AMQP fallback all';
        throw new BrokerUnreachableError(`${ways} failed: ${[...failures, err].map(errorMessage).join('; ')}`, {
          cause: new AggregateError([...failures, err], failures.length === 1 ? 'management API and AMQP both failed' : 'every way to read RabbitMQ failed'),
        });
      }
    },
    async close() {
      const model = amqp;
      amqp = undefined;
      await model?.close().catch(() => undefined);
    },
  };
}

/** The vhost an AMQP URL connects to: its path, URL-decoded; `/` when there is none. */
export function amqpVhost(url: string): string {
  try {
    const path = new URL(url).pathname;
    return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
  } catch {
    return '/';
  }
}
