import type { KafkaSecuritySettings } from '@eda-harness/core';
import { createSecuredKafkaClient, type KafkaTargetConfig } from '@eda-harness/exporter';

/**
 * The demo's stuck consumer: an "analytics" consumer group on the orders topic that reads and
 * commits like any other for a few seconds, then pauses (kafkajs `pause`: it stays a member of its
 * group, fetches nothing and commits nothing), so its lag grows with every order and the pack's
 * consumer-lag alerts go pending, then firing. It is deliberately not instrumented: no
 * eda-harness metrics say it is consuming, which is what KafkaConsumerStopped looks for.
 */

export interface PausedConsumer {
  readonly group: string;
  readonly topic: string;
  /** When it paused (ms since the epoch), undefined until then. */
  pausedAtMs(): number | undefined;
  stop(): Promise<void>;
}

export interface PausedConsumerOptions {
  readonly brokers: readonly string[];
  readonly security: KafkaSecuritySettings | undefined;
  readonly topic: string;
  readonly group: string;
  /** How long it consumes (from its first message) before pausing. */
  readonly pauseAfterMs: number;
  readonly onPause?: (group: string) => void;
}

export async function startPausedConsumer(options: PausedConsumerOptions): Promise<PausedConsumer> {
  // The exporter's client builder: the same TLS / SASL handling as every eda-harness Kafka client.
  const kafka = createSecuredKafkaClient({ ...((options.security ?? {}) as Pick<KafkaTargetConfig, 'securityProtocol' | 'tls' | 'sasl'>), brokers: options.brokers, clientId: options.group });
  const consumer = kafka.consumer({ groupId: options.group, retry: { retries: 5 } });
  let pausedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: false });
    await consumer.run({
      eachMessage: async () => {
        timer ??= setTimeout(() => {
          consumer.pause([{ topic: options.topic }]);
          pausedAt = Date.now();
          options.onPause?.(options.group);
        }, options.pauseAfterMs);
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }
  return {
    group: options.group,
    topic: options.topic,
    pausedAtMs: () => pausedAt,
    async stop() {
      if (timer) clearTimeout(timer);
      await consumer.disconnect();
    },
  };
}
