import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';
import { headAgeFromArrivals } from '../../../exporter/rabbitmq/snapshot';
import { EMPTY_INDEX, addSample } from '../../../exporter/offset-time-index';
import type { ManagementClient, ManagementQueue } from '../../../exporter/rabbitmq/management';

/**
 * A DLQ's oldest-message age when its messages carry no `timestamp` property (RabbitMQ then
 * reports no head_message_timestamp): estimated from the history of cumulative arrivals. The
 * management client is scripted here because the estimate is pure bookkeeping over its answers;
 * the broker path is covered by the integration tests.
 */

function scripted(frames: ManagementQueue[][]): ManagementClient & { next(): void } {
  let i = 0;
  return {
    next: () => void (i = Math.min(i + 1, frames.length - 1)),
    queues: async () => frames[i]!,
    bindings: async () => [],
    exchanges: async () => [],
    statisticsDisabled: async () => false,
  };
}

const dlq = (messages: number, ack = 0, head?: number): ManagementQueue => ({
  name: 'orders.dlq',
  vhost: '/',
  messages,
  message_stats: { ack },
  ...(head !== undefined ? { head_message_timestamp: head } : {}),
});

async function ages(frames: ManagementQueue[][], times: number[]): Promise<(number | undefined)[]> {
  let t = 0;
  const client = scripted(frames);
  const collector = createRabbitMqCollector({ config: { managementUrl: 'http://unused' }, management: client, now: () => t });
  const out: (number | undefined)[] = [];
  for (const [n, at] of times.entries()) {
    t = at;
    const snap = await collector.collect();
    out.push(snap.dlqs.find((d) => d.dlq === 'orders.dlq')?.oldestAgeSeconds);
    if (n < times.length - 1) client.next();
  }
  await collector.close();
  return out;
}

describe('RabbitMQ DLQ oldest-message age without publisher timestamps', () => {
  it('is 0 for an empty DLQ and ages the first dead letter from when it arrived', async () => {
    // Empty at 0 s, 3 messages by 10 s, still 3 at 40 s: the head arrived between 0 s and 10 s.
    const result = await ages([[dlq(0)], [dlq(3)], [dlq(3)]], [0, 10_000, 40_000]);
    expect(result[0]).toBe(0);
    expect(result[1]).toBeGreaterThan(0);
    expect(result[1]).toBeLessThanOrEqual(10);
    expect(result[2]).toBeGreaterThan(30);
    expect(result[2]).toBeLessThanOrEqual(40);
  });

  it('follows the head as messages are taken out', async () => {
    // 10 arrive by 10 s, 10 more by 20 s; at 30 s 12 were acked: the head is one of the second lot.
    const result = await ages([[dlq(0)], [dlq(10)], [dlq(20)], [dlq(8, 12)]], [0, 10_000, 20_000, 30_000]);
    expect(result[3]).toBeGreaterThanOrEqual(10);
    expect(result[3]).toBeLessThanOrEqual(20);
  });

  it('reports a growing lower bound for a DLQ already full when first seen, never a made-up figure', async () => {
    const result = await ages([[dlq(5)], [dlq(5)], [dlq(5)]], [0, 15_000, 30_000]);
    expect(result[0]).toBeUndefined();
    expect(result[1]).toBe(15);
    expect(result[2]).toBe(30);
  });

  it('prefers the head message timestamp when publishers set one', async () => {
    const result = await ages([[dlq(2, 0, 100)]], [160_000]);
    expect(result[0]).toBe(60);
  });

  it('restarts after a purge instead of carrying the purged messages age over', async () => {
    const result = await ages([[dlq(5)], [dlq(5)], [dlq(0)], [dlq(1)], [dlq(1)]], [0, 100_000, 110_000, 120_000, 125_000]);
    expect(result[1]).toBe(100);
    expect(result[2]).toBe(0);
    // The one new message arrived between 110 s and 120 s.
    expect(result[4]).toBeGreaterThanOrEqual(5);
    expect(result[4]).toBeLessThanOrEqual(15);
  });

  it('headAgeFromArrivals: nothing known gives undefined, not 0', () => {
    expect(headAgeFromArrivals(EMPTY_INDEX, 0, 1000)).toBeUndefined();
    expect(headAgeFromArrivals(addSample(EMPTY_INDEX, 4, 1000), 0, 1000)).toBeUndefined();
  });
});
