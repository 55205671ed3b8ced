import type { Admin, Kafka } from 'kafkajs';
import { createKafkaCollector } from '../../../exporter/kafka/collector';
import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';

/** The collectors honour the concurrency and request timeout settings. */

describe('Kafka collector settings', () => {
  /** An admin (no internal cluster) whose fetchOffsets records how many run at once. */
  function countingAdmin(groups: number, peak: { now: number; max: number }): Admin {
    return {
      listGroups: async () => ({ groups: Array.from({ length: groups }, (_, i) => ({ groupId: `g${i}`, protocolType: 'consumer' })) }),
      describeGroups: async (ids: string[]) => ({ groups: ids.map((groupId) => ({ groupId, state: 'Empty', protocolType: 'consumer', protocol: '', members: [] })) }),
      fetchOffsets: async () => {
        peak.now++;
        peak.max = Math.max(peak.max, peak.now);
        await new Promise((r) => setTimeout(r, 5));
        peak.now--;
        return [];
      },
      listTopics: async () => [],
      disconnect: async () => undefined,
    } as unknown as Admin;
  }

  it.each([
    [undefined, 16],
    [3, 3],
    [1, 1],
  ])('concurrency %p: at most %p groups have their offsets read at once', async (concurrency, expected) => {
    const peak = { now: 0, max: 0 };
    const collector = createKafkaCollector({
      config: { brokers: ['unused:9092'], ...(concurrency === undefined ? {} : { concurrency }) },
      createKafka: () => ({}) as Kafka,
      openConnection: async () => ({ admin: countingAdmin(40, peak), cluster: undefined }),
    });
    await collector.collect();
    expect(peak.max).toBe(expected);
    await collector.close();
  });

  it('the request timeout reaches the kafkajs client', () => {
    const seen: unknown[] = [];
    const collector = createKafkaCollector({
      config: { brokers: ['unused:9092'], requestTimeoutMs: 1_234 },
      createKafka: (config) => {
        seen.push(config.requestTimeoutMs);
        return {} as Kafka;
      },
      openConnection: async () => ({ admin: countingAdmin(0, { now: 0, max: 0 }), cluster: undefined }),
    });
    return collector.collect().then(() => expect(seen).toEqual([1_234]));
  });
});

describe('RabbitMQ collector settings', () => {
  it('the request timeout bounds each management request', async () => {
    const { createServer } = await import('node:http');
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const collector = createRabbitMqCollector({ config: { managementUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 } });
    const started = Date.now();
    await expect(collector.collect()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
    await collector.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
