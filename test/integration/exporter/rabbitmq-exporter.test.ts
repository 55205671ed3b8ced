import { connect } from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createExporter, serveMetrics } from '../../../exporter/index';
import type { Exporter, MetricsServer } from '../../../exporter/index';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { valueOf } from '../../support/exposition';
import { createCheckedScraper } from './scrape-checks';
import type { CheckedScraper } from './scrape-checks';

const M = {
  messages: METRIC.RABBITMQ_QUEUE_MESSAGES.name,
  consumers: METRIC.RABBITMQ_QUEUE_CONSUMERS.name,
  rate: METRIC.RABBITMQ_QUEUE_MESSAGE_RATE.name,
  up: METRIC.EXPORTER_UP.name,
  dlqDepth: METRIC.DLQ_DEPTH.name,
  dlqAge: METRIC.DLQ_OLDEST_AGE.name,
  dlqInflow: METRIC.DLQ_INFLOW.name,
};

let env: StartedEnvironment;
let model: ChannelModel;
let channel: Channel;
let exporter: Exporter;
let server: MetricsServer;
let scraper: CheckedScraper;
const extra: { exporter: Exporter; server: MetricsServer }[] = [];
const prefix = uniqueName('rx');

beforeAll(async () => {
  env = await new Environment().withRabbitMq().withToxiproxy(false).start();
  model = await connect(env.getAmqpUrl());
  channel = await model.createChannel();
  exporter = createExporter({
    config: {
      intervalSeconds: 0.5,
      collectTimeoutSeconds: 5,
      rabbitmq: { managementUrl: env.getRabbitMqManagementUrl(), amqpUrl: env.getAmqpUrl(), queues: { allow: [`${prefix}*`] } },
    },
  });
  server = await serveMetrics({ exporter, port: 0, host: '127.0.0.1' });
  scraper = createCheckedScraper(`${server.url}/metrics`);
  exporter.start();
}, 180_000);

afterAll(async () => {
  for (const e of extra) {
    await e.server.close();
    await e.exporter.stop();
  }
  await model?.close().catch(() => undefined);
  await server?.close();
  await exporter?.stop();
  await env?.stop();
  expect(scraper.checked.pages).toBeGreaterThan(10);
});

describe('RabbitMQ queues', () => {
  it('reports ready and unacknowledged messages, consumers and rates from the management API', async () => {
    const queue = `${prefix}-work`;
    await channel.assertQueue(queue);
    for (let i = 0; i < 5; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`));
    await scraper.until('5 ready', (s) => valueOf(s, M.messages, { queue, state: 'ready' }) === 5 && valueOf(s, M.consumers, { queue }) === 0);

    const consumerChannel = await model.createChannel();
    await consumerChannel.prefetch(2);
    await consumerChannel.consume(queue, () => undefined); // never acks: two stay unacknowledged
    const seen = await scraper.until('2 unacked, 3 ready, 1 consumer', (s) =>
      valueOf(s, M.messages, { queue, state: 'unacked' }) === 2 && valueOf(s, M.messages, { queue, state: 'ready' }) === 3 && valueOf(s, M.consumers, { queue }) === 1 ? s : undefined,
    );
    for (const operation of ['publish', 'deliver', 'ack', 'redeliver']) {
      expect(valueOf(seen, M.rate, { queue, messaging_operation_name: operation })).toBeGreaterThanOrEqual(0);
    }
    await consumerChannel.close();
    await scraper.until('all 5 ready again after the consumer left', (s) => valueOf(s, M.messages, { queue, state: 'ready' }) === 5);
  });
});

describe('RabbitMQ dead-letter queues', () => {
  it('finds a DLQ from x-dead-letter-exchange and its binding (no naming convention) and attributes its inflow to the source queue', async () => {
    const source = `${prefix}-orders`;
    const dlx = `${prefix}-dlx`;
    const dlq = `${prefix}-orders-parking`; // matches no DLQ pattern on purpose
    await channel.assertExchange(dlx, 'direct', { durable: false });
    await channel.assertQueue(dlq);
    await channel.bindQueue(dlq, dlx, source);
    await channel.assertQueue(source, { arguments: { 'x-dead-letter-exchange': dlx } });
    const publishedAt = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 4; i++) channel.sendToQueue(source, Buffer.from(`o${i}`), { timestamp: publishedAt });
    await scraper.until('the empty DLQ', (s) => valueOf(s, M.dlqDepth, { system: 'rabbitmq', dlq }) === 0);

    for (let i = 0; i < 3; i++) {
      const m = await waitFor(() => channel.get(source), { description: 'a message to reject' });
      channel.nack(m, false, false);
    }
    const seen = await scraper.until('DLQ depth 3 attributed to the source', (s) =>
      valueOf(s, M.dlqDepth, { system: 'rabbitmq', dlq }) === 3 && valueOf(s, M.dlqInflow, { system: 'rabbitmq', dlq, source }) === 3 ? s : undefined,
    );
    expect(valueOf(seen, M.messages, { queue: source, state: 'ready' })).toBe(1);
    const age = valueOf(seen, M.dlqAge, { system: 'rabbitmq', dlq });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age!).toBeLessThanOrEqual(Date.now() / 1000 - publishedAt + 2);
  });

  it('finds a DLQ by name pattern and takes the source from the name', async () => {
    const source = `${prefix}-payments`;
    const dlq = `${source}.dlq`;
    await channel.assertQueue(dlq);
    await scraper.until('the empty DLQ', (s) => valueOf(s, M.dlqDepth, { system: 'rabbitmq', dlq }) === 0);
    const sentAtMs = Date.now();
    // No `timestamp` property (as from most publishers): the age comes from the arrival history.
    channel.sendToQueue(dlq, Buffer.from('x'));
    channel.sendToQueue(dlq, Buffer.from('y'));
    await scraper.until('DLQ depth 2 from the source in its name', (s) =>
      valueOf(s, M.dlqDepth, { system: 'rabbitmq', dlq }) === 2 && valueOf(s, M.dlqInflow, { system: 'rabbitmq', dlq, source }) === 2,
    );
    const age = await scraper.until('an oldest-message age for the DLQ without publisher timestamps', (s) => {
      const v = valueOf(s, M.dlqAge, { system: 'rabbitmq', dlq });
      return v !== undefined && v > 0 ? v : undefined;
    });
    expect(age).toBeLessThanOrEqual((Date.now() - sentAtMs) / 1000 + 1);
  });
});

describe('RabbitMQ without the management API', () => {
  it('falls back to AMQP passive declares for depth and consumers', async () => {
    const queue = `${prefix}-fallback`;
    await channel.assertQueue(queue);
    for (let i = 0; i < 7; i++) channel.sendToQueue(queue, Buffer.from(`f${i}`));
    // A port nobody listens on: grab one and release it.
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const fallback = createExporter({
      config: {
        intervalSeconds: 0.5,
        rabbitmq: { managementUrl: `http://127.0.0.1:${closedPort}`, amqpUrl: env.getAmqpUrl(), queues: { allow: [queue, `${prefix}-missing`] } },
      },
    });
    const fallbackServer = await serveMetrics({ exporter: fallback, port: 0, host: '127.0.0.1' });
    extra.push({ exporter: fallback, server: fallbackServer });
    fallback.start();
    const s2 = createCheckedScraper(`${fallbackServer.url}/metrics`);
    const seen = await s2.until('7 ready via AMQP', (s) => (valueOf(s, M.messages, { queue, state: 'ready' }) === 7 ? s : undefined));
    expect(valueOf(seen, M.up, { target: 'rabbitmq' })).toBe(1);
    expect(valueOf(seen, M.consumers, { queue })).toBe(0);
    // AMQP cannot tell unacknowledged messages: the series is absent rather than a made-up 0.
    expect(valueOf(seen, M.messages, { queue, state: 'unacked' })).toBeUndefined();
    // A missing queue costs a warning, not the collection (and not the channel of the others).
    expect(fallback.latest.rabbitmq?.via).toBe('amqp');
    expect(fallback.latest.rabbitmq?.warnings.some((w) => w.includes(`${prefix}-missing`))).toBe(true);
  });
});

describe('RabbitMQ broker restart', () => {
  it('keeps serving /metrics, reports the target down meanwhile, and recovers by itself', async () => {
    const queue = `${prefix}-durable`;
    await channel.assertQueue(queue, { durable: true });
    channel.sendToQueue(queue, Buffer.from('p'), { persistent: true });
    await scraper.until('1 ready before the restart', (s) => valueOf(s, M.messages, { queue, state: 'ready' }) === 1);

    let sawDown = false;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = await scraper.scrape();
        if (valueOf(s, M.up, { target: 'rabbitmq' }) === 0) sawDown = true;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await env.rabbitmq!.node.restart();
      await waitFor(() => sawDown, { description: 'eda_exporter_up{target="rabbitmq"} 0 during the restart', timeoutMs: 30_000 });
    } finally {
      polling = false;
      await poller;
    }
    await scraper.until('up again after the restart', (s) => valueOf(s, M.up, { target: 'rabbitmq' }) === 1 && valueOf(s, M.messages, { queue, state: 'ready' }) === 1, 90_000);
  });
});
