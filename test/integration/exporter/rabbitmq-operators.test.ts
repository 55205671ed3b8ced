import { connect } from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { requestText } from '../../../core/http-json';
import { waitFor } from '../../../core/wait-for';
import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';
import type { RabbitMqCollectorDeps } from '../../../exporter/rabbitmq/collector';
import { renderRabbitMqSamples } from '../../../exporter/rabbitmq/render';
import type { RabbitMqCollection } from '../../../exporter/rabbitmq/types';
import type { MetricSample } from '../../../exporter/render-samples';
import type { Collector } from '../../../exporter/types';
import { uniqueName } from '../../support/names';

/**
 * The RabbitMQ collector on setups operators run, on a real (native) RabbitMQ: two vhosts with a
 * queue of the same name, the retry pattern through a dead-letter exchange next to a real DLQ,
 * paginated reads, cumulative counters, RabbitMQ's own Prometheus endpoint, and the AMQP fallback
 * marked degraded. The collector's samples are checked as renderRabbitMqSamples turns them into
 * series (the exporter's render step delegates to it).
 */

let env: StartedEnvironment;
let managementUrl: string;
let prometheusUrl: string;
const models: ChannelModel[] = [];
const collectors: Collector<RabbitMqCollection>[] = [];
const prefix = uniqueName('rxo');
const vhosts = [`${prefix}-eu`, `${prefix}-us`];
const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };

async function management(method: string, path: string, body?: unknown): Promise<void> {
  await requestText(`${managementUrl}${path}`, { method, headers: auth, ...(body === undefined ? {} : { body }) });
}

async function channelIn(vhost: string): Promise<Channel> {
  const model = await connect(`${env.getAmqpUrl()}/${encodeURIComponent(vhost)}`);
  models.push(model);
  return model.createChannel();
}

function collector(config: RabbitMqCollectorDeps['config']): Collector<RabbitMqCollection> {
  const c = createRabbitMqCollector({ config });
  collectors.push(c);
  return c;
}

const value = (samples: readonly MetricSample[], key: string, labels: Record<string, string>): number | undefined =>
  samples.find((s) => s.key === key && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

/** Collects until `check` holds for the rendered samples; returns them. */
async function until(c: Collector<RabbitMqCollection>, description: string, check: (s: MetricSample[], snapshot: RabbitMqCollection) => boolean, timeoutMs = 30_000): Promise<MetricSample[]> {
  return waitFor(
    async () => {
      const snapshot = await c.collect();
      const samples = renderRabbitMqSamples(snapshot);
      return check(samples, snapshot) ? samples : undefined;
    },
    { description, timeoutMs, intervalMs: 250 },
  );
}

beforeAll(async () => {
  env = await new Environment().withRabbitMq().withToxiproxy(false).start();
  managementUrl = env.getRabbitMqManagementUrl();
  prometheusUrl = env.describe().rabbitmq!.metricsUrl!;
  for (const v of vhosts) {
    await management('PUT', `/api/vhosts/${encodeURIComponent(v)}`);
    await management('PUT', `/api/permissions/${encodeURIComponent(v)}/guest`, { configure: '.*', write: '.*', read: '.*' });
  }
}, 180_000);

afterAll(async () => {
  for (const c of collectors) await c.close();
  for (const m of models) await m.close().catch(() => undefined);
  for (const v of vhosts) await management('DELETE', `/api/vhosts/${encodeURIComponent(v)}`).catch(() => undefined);
  await env?.stop();
});

describe('two vhosts with a queue of the same name', () => {
  it('exports both, each with its own depth and vhost label, read page by page', async () => {
    const queue = `${prefix}-orders`;
    const [eu, us] = [await channelIn(vhosts[0]!), await channelIn(vhosts[1]!)];
    await eu.assertQueue(queue);
    await us.assertQueue(queue);
    // More queues than one page holds, so the read must page through them.
    for (let i = 0; i < 3; i++) await eu.assertQueue(`${prefix}-filler-${i}`);
    for (let i = 0; i < 2; i++) eu.sendToQueue(queue, Buffer.from(`e${i}`));
    for (let i = 0; i < 5; i++) us.sendToQueue(queue, Buffer.from(`u${i}`));

    const c = collector({ managementUrl, queues: { allow: [`${prefix}*`] }, managementPageSize: 2 });
    const seen = await until(c, 'both queues with their own depth', (s) =>
      value(s, 'RABBITMQ_QUEUE_MESSAGES', { vhost: vhosts[0]!, queue, state: 'ready' }) === 2 && value(s, 'RABBITMQ_QUEUE_MESSAGES', { vhost: vhosts[1]!, queue, state: 'ready' }) === 5,
    );
    expect(seen.filter((s) => s.key === 'RABBITMQ_QUEUE_MESSAGES' && s.labels['queue'] === queue && s.labels['state'] === 'ready')).toHaveLength(2);
    expect(seen.filter((s) => s.key === 'RABBITMQ_QUEUE_CONSUMERS' && s.labels['queue']?.startsWith(`${prefix}-filler-`))).toHaveLength(3);
    // Every series names its vhost.
    for (const s of seen.filter((x) => x.key.startsWith('RABBITMQ_QUEUE'))) expect(vhosts).toContain(s.labels['vhost']);

    // The cumulative publish counts, exported as counters, per vhost.
    await until(c, 'publish counters per vhost', (s) =>
      value(s, 'RABBITMQ_QUEUE_OPERATIONS', { vhost: vhosts[0]!, queue, messaging_operation_name: 'publish' }) === 2 &&
      value(s, 'RABBITMQ_QUEUE_OPERATIONS', { vhost: vhosts[1]!, queue, messaging_operation_name: 'publish' }) === 5,
    );
  });

  it("RabbitMQ's Prometheus endpoint, read when the management API does not answer, keeps the vhosts apart too", async () => {
    const queue = `${prefix}-orders`;
    const c = collector({ managementUrl: `http://127.0.0.1:${await closedPort()}`, prometheusUrl, queues: { allow: [`${prefix}*`] } });
    const seen = await until(c, 'depths from /metrics/detailed', (s, snapshot) =>
      snapshot.source === 'prometheus' &&
      value(s, 'RABBITMQ_QUEUE_MESSAGES', { vhost: vhosts[0]!, queue, state: 'ready' }) === 2 &&
      value(s, 'RABBITMQ_QUEUE_MESSAGES', { vhost: vhosts[1]!, queue, state: 'ready' }) === 5,
    );
    expect(value(seen, 'EXPORTER_RABBITMQ_VIA', { via: 'prometheus' })).toBe(1);
    expect(value(seen, 'EXPORTER_DEGRADED', { target: 'rabbitmq' })).toBe(0);
  });
});

describe('the retry pattern through a dead-letter exchange', () => {
  it('is not reported as DLQ inflow, while a real DLQ next to it still is', async () => {
    const vhost = vhosts[0]!;
    const ch = await channelIn(vhost);
    const orders = `${prefix}-orders-work`;
    // Named like no DLQ and no retry queue: only the topology can tell what it is.
    const wait = `${prefix}-orders-wait`;
    const retryX = `${prefix}-retry-x`;
    const workX = `${prefix}-work-x`;
    await ch.assertExchange(retryX, 'direct', { durable: false });
    await ch.assertExchange(workX, 'direct', { durable: false });
    await ch.assertQueue(orders, { arguments: { 'x-dead-letter-exchange': retryX } });
    await ch.assertQueue(wait, { arguments: { 'x-dead-letter-exchange': workX, 'x-message-ttl': 200 } });
    await ch.bindQueue(wait, retryX, orders);
    await ch.bindQueue(orders, workX, orders);
    // A real DLQ: payments dead-letters into a parking queue that sends nothing back.
    const payments = `${prefix}-payments`;
    const parking = `${prefix}-payments-parking`;
    const parkingX = `${prefix}-parking-x`;
    await ch.assertExchange(parkingX, 'fanout', { durable: false });
    await ch.assertQueue(parking);
    await ch.bindQueue(parking, parkingX, '');
    await ch.assertQueue(payments, { arguments: { 'x-dead-letter-exchange': parkingX } });

    const c = collector({ managementUrl, vhost, queues: { allow: [`${prefix}*`] } });
    const dlqSeries = (s: MetricSample[]) => s.filter((x) => x.key.startsWith('DLQ_') && (x.labels['dlq'] === orders || x.labels['dlq'] === wait || x.labels['source'] === wait));
    await until(c, 'the empty parking DLQ', (s) => value(s, 'DLQ_DEPTH', { vhost, dlq: parking }) === 0);

    // Each order is rejected twice: it goes round the loop (orders → wait → orders) twice.
    for (let i = 0; i < 3; i++) ch.sendToQueue(orders, Buffer.from(`o${i}`));
    let retried = 0;
    while (retried < 6) {
      const m = await waitFor(() => ch.get(orders), { description: 'an order back from the retry queue', timeoutMs: 10_000, intervalMs: 50 });
      ch.nack(m, false, false);
      retried++;
      const snapshot = await c.collect();
      expect(dlqSeries(renderRabbitMqSamples(snapshot))).toEqual([]);
    }
    for (let i = 0; i < 2; i++) ch.sendToQueue(payments, Buffer.from(`p${i}`));
    for (let i = 0; i < 2; i++) ch.nack(await waitFor(() => ch.get(payments), { description: 'a payment to reject' }), false, false);

    const seen = await until(c, 'the parking DLQ with inflow 2 from payments', (s) =>
      value(s, 'DLQ_DEPTH', { vhost, dlq: parking }) === 2 && value(s, 'DLQ_INFLOW', { vhost, dlq: parking, source: payments }) === 2,
    );
    expect(dlqSeries(seen)).toEqual([]);
    // The waiting queue (TTL, dead-letters back) is marked as such, so the no-consumer alert leaves it out; the work queue is not.
    const retryInfo = seen.filter((x) => x.key === 'RABBITMQ_RETRY_QUEUE' && x.labels['queue']?.startsWith(prefix));
    expect(retryInfo.map((x) => [x.labels['vhost'], x.labels['queue'], x.value])).toEqual([[vhost, wait, 1]]);
    // The orders came back each time: the loop held them, nothing was lost to a "DLQ".
    const back = await waitFor(() => ch.get(orders), { description: 'an order back again', timeoutMs: 10_000 });
    expect(back).toBeTruthy();
  });
});

describe('the AMQP fallback', () => {
  it('marks the target degraded instead of reporting an empty, healthy server', async () => {
    const queue = `${prefix}-orders`;
    const c = collector({
      managementUrl: `http://127.0.0.1:${await closedPort()}`,
      amqpUrl: `${env.getAmqpUrl()}/${encodeURIComponent(vhosts[1]!)}`,
      queues: { allow: [queue] },
    });
    const seen = await until(c, 'the AMQP path', (s, snapshot) => snapshot.source === 'amqp');
    expect(value(seen, 'EXPORTER_DEGRADED', { target: 'rabbitmq' })).toBe(1);
    expect(value(seen, 'EXPORTER_RABBITMQ_VIA', { via: 'amqp' })).toBe(1);
    expect(value(seen, 'RABBITMQ_QUEUE_MESSAGES', { vhost: vhosts[1]!, queue, state: 'ready' })).toBe(5);
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
