import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { BrokerUnreachableError, errorMessage } from '@eda-harness/core';
import { createNameFilter } from '../name-filter';
import type { Collector, RabbitMqSnapshot, RabbitMqTargetConfig } from '../types';
import { redactCredentials } from '../setting-rules';
import { createManagementClient } from './management';
import type { ManagementClient } from './management';
import { amqpSnapshot, EMPTY_RABBITMQ_MEMORY, managementSnapshot } from './snapshot';
import type { CheckedQueue, RabbitMqSelection } from './snapshot';

export const DEFAULT_RABBITMQ_DLQ_PATTERNS: readonly string[] = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT', '*.dead-letter'];

export interface RabbitMqCollectorDeps {
  readonly config: RabbitMqTargetConfig;
  readonly now?: () => number;
  /** Replaces the management client (tests). */
  readonly management?: ManagementClient;
}

/**
 * Collects queue depth, consumers and rates from the RabbitMQ management API, and dead-letter
 * queues from the topology (x-dead-letter-exchange arguments or policies, and the bindings of
 * those exchanges) plus name patterns (the numbers: snapshot.ts). When the API does not answer,
 * depth (ready messages) and consumers of the configured queues come from AMQP passive declares
 * instead, so the exporter still says something useful with the management plugin disabled.
 */
export function createRabbitMqCollector(deps: RabbitMqCollectorDeps): Collector<RabbitMqSnapshot> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const selection: RabbitMqSelection = { queues: createNameFilter(config.queues), dlqPatterns: config.dlqPatterns ?? DEFAULT_RABBITMQ_DLQ_PATTERNS };
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
  const fallbackQueues = config.fallbackQueues ?? (config.queues?.allow ?? []).filter((q) => !q.includes('*'));

  let amqp: ChannelModel | undefined;
  let memory = EMPTY_RABBITMQ_MEMORY;

  const viaManagement = async (client: ManagementClient): Promise<RabbitMqSnapshot> => {
    const [queues, bindings] = await Promise.all([client.queues(), client.bindings()]);
    const next = managementSnapshot({ queues, bindings, atMs: now() }, memory, selection);
    memory = next.memory;
    return next.snapshot;
  };

  const amqpConnection = async (url: string): Promise<ChannelModel> => {
    if (amqp) return amqp;
    let model: ChannelModel;
    try {
      model = await connect(url, { timeout: timeoutMs });
    } catch (err) {
      throw new BrokerUnreachableError(`AMQP ${redactCredentials(url)}: ${errorMessage(err)}`, { cause: err });
    }
    model.on('error', () => undefined);
    model.on('close', () => {
      if (amqp === model) amqp = undefined;
    });
    amqp = model;
    return model;
  };

  const viaAmqp = async (reason: string | undefined): Promise<RabbitMqSnapshot> => {
    if (!config.amqpUrl) throw new Error(reason ?? 'neither a management URL nor an AMQP URL is configured');
    const model = await amqpConnection(config.amqpUrl);
    const warnings: string[] = reason ? [`management API unavailable, using AMQP passive declares: ${reason}`] : [];
    const checked: CheckedQueue[] = [];
    for (const queue of fallbackQueues) {
      // A passive declare of a missing queue closes the channel: one channel per queue.
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      try {
        const ok = await channel.checkQueue(queue);
        checked.push({ queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount });
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
    async collect() {
      if (!management) return viaAmqp(undefined);
      let managementError: unknown;
      try {
        return await viaManagement(management);
      } catch (err) {
        if (!config.amqpUrl) throw err;
        managementError = err;
      }
      try {
        return await viaAmqp(errorMessage(managementError));
      } catch (err) {
        // Both ways failed: say so, with both reasons (the AMQP one alone hides a wrong management URL).
        throw new BrokerUnreachableError(`both the management API and the AMQP fallback failed: ${errorMessage(managementError)}; ${errorMessage(err)}`, {
          cause: new AggregateError([managementError, err], 'management API and AMQP both failed'),
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
