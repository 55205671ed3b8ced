import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import * as amqp from 'amqplib';
import { Environment, type StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { uniqueName } from '../../support/names';
import { medianMs } from '../../support/timing';

/**
 * One Kafka node and RabbitMQ, both behind Toxiproxy: round trips, network faults on the proxies,
 * and pause/resume of the broker processes. Every assertion needs the real broker to hold.
 */
let env: StartedEnvironment;
let kafka: Kafka;

beforeAll(async () => {
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy().start();
  kafka = new Kafka({ clientId: 'env-test', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

afterEach(async () => {
  await env?.toxiproxy?.clearAll();
});

describe('Kafka single node', () => {
  let producer: Producer;
  let consumer: Consumer;
  let topic: string;
  const received: string[] = [];

  beforeAll(async () => {
    topic = uniqueName('rt');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    consumer = kafka.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value?.toString() ?? '') });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
  });

  async function roundTrip(): Promise<void> {
    const value = uniqueName('m');
    await producer.send({ topic, acks: -1, messages: [{ value }] });
    await waitFor(() => received.includes(value), { description: `message ${value} to be consumed`, timeoutMs: 30_000, intervalMs: 5 });
  }

  it('advertises the proxy, so client traffic crosses Toxiproxy', () => {
    const node = env.kafka?.node(1);
    expect(node?.proxy).toBeDefined();
    expect(env.getKafkaBrokers()).toEqual([`127.0.0.1:${node?.proxy?.port}`]);
  });

  it('produces and consumes a message (acks -1)', async () => {
    await roundTrip();
  });

  it('a 300 ms latency fault slows the round trip measurably, and clearing it restores it', async () => {
    const proxy = env.kafka?.node(1).proxy;
    if (!proxy) throw new Error('no proxy');
    const baseline = await medianMs(5, roundTrip);
    await proxy.latency(300);
    const slowed = await medianMs(5, roundTrip);
    await proxy.clear();
    const restored = await medianMs(5, roundTrip);
    // Produce and fetch each pay at least one proxied response.
    expect(slowed - baseline).toBeGreaterThanOrEqual(300);
    expect(restored).toBeLessThan(slowed - 250);
  });

  it('a down fault fails a client with a connection error, and up restores service', async () => {
    const proxy = env.kafka?.node(1).proxy;
    if (!proxy) throw new Error('no proxy');
    const fresh = new Kafka({ clientId: 'down-test', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 1, initialRetryTime: 100 } });
    const admin = fresh.admin();
    await proxy.down();
    await expect(admin.connect()).rejects.toThrow(/connect|ECONNREFUSED|Connection/i);
    await proxy.up();
    await admin.connect();
    await expect(admin.listTopics()).resolves.toContain(topic);
    await admin.disconnect();
    await roundTrip();
  });

  it('pause() freezes the broker and resume() brings it back', async () => {
    const node = env.kafka?.node(1);
    if (!node) throw new Error('no node');
    await node.pause();
    const frozen = new Kafka({ clientId: 'pause-test', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 1500, retry: { retries: 0 } });
    const admin = frozen.admin();
    // The socket opens (the kernel accepts), but the JVM answers nothing while stopped.
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow();
    await admin.disconnect().catch(() => undefined);
    await node.resume();
    await roundTrip();
  });
});

describe('RabbitMQ', () => {
  async function amqpRoundTrip(url: string, queue: string): Promise<void> {
    const conn = await amqp.connect(url);
    conn.on('error', () => undefined);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { durable: false, autoDelete: true });
      const body = uniqueName('b');
      ch.sendToQueue(queue, Buffer.from(body));
      await waitFor(async () => {
        const msg = await ch.get(queue, { noAck: true });
        return msg !== false && msg.content.toString() === body;
      }, { description: 'the message to come back', timeoutMs: 10_000, intervalMs: 5 });
    } finally {
      await conn.close();
    }
  }

  it('publishes and consumes through the proxy', async () => {
    const queue = uniqueName('q');
    const conn = await amqp.connect(env.getAmqpUrl());
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: false, autoDelete: true });
    const got: string[] = [];
    await ch.consume(queue, (msg) => {
      if (msg) {
        got.push(msg.content.toString());
        ch.ack(msg);
      }
    });
    ch.sendToQueue(queue, Buffer.from('hello'));
    await waitFor(() => got.includes('hello'), { description: 'the consumer to get the message' });
    await conn.close();
    expect(env.getAmqpUrl()).toContain(`:${env.rabbitmq?.proxy?.port}`);
  });

  it('a 300 ms latency fault slows an AMQP round trip, and clearing it restores it', async () => {
    const proxy = env.rabbitmq?.proxy;
    if (!proxy) throw new Error('no proxy');
    const queue = uniqueName('lat');
    const baseline = await medianMs(3, () => amqpRoundTrip(env.getAmqpUrl(), queue));
    await proxy.latency(300);
    const slowed = await medianMs(3, () => amqpRoundTrip(env.getAmqpUrl(), queue));
    await proxy.clear();
    const restored = await medianMs(3, () => amqpRoundTrip(env.getAmqpUrl(), queue));
    // Connection set-up alone is several round trips, each paying 300 ms.
    expect(slowed - baseline).toBeGreaterThanOrEqual(900);
    expect(restored).toBeLessThan(slowed - 600);
  });

  it('a down fault fails the connection; after up, clients connect again', async () => {
    const proxy = env.rabbitmq?.proxy;
    if (!proxy) throw new Error('no proxy');
    const conn = await amqp.connect(env.getAmqpUrl());
    const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()));
    conn.on('error', () => undefined);
    await proxy.down();
    await closed; // the open connection is cut
    await expect(amqp.connect(env.getAmqpUrl(), { timeout: 2000 })).rejects.toThrow(/ECONNREFUSED|closed|socket|connect/i);
    await proxy.up();
    await amqpRoundTrip(env.getAmqpUrl(), uniqueName('up'));
  });

  it('a durable queue with persistent messages survives restart() of the node', async () => {
    const queue = uniqueName('durable');
    let conn = await amqp.connect(env.getAmqpUrl());
    let ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < 20; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true });
    await ch.waitForConfirms();
    conn.on('error', () => undefined);
    await conn.close();

    const pidBefore = env.rabbitmq?.node.pid;
    await env.rabbitmq?.node.restart();
    expect(env.rabbitmq?.node.pid).not.toBe(pidBefore);

    conn = await amqp.connect(env.getAmqpUrl());
    ch = await conn.createConfirmChannel();
    const check = await ch.checkQueue(queue);
    expect(check.messageCount).toBe(20);
    const bodies: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = await ch.get(queue, { noAck: true });
      if (m) bodies.push(m.content.toString());
    }
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    await ch.deleteQueue(queue);
    await conn.close();
  });

  it('pause() freezes RabbitMQ and resume() brings it back', async () => {
    const node = env.rabbitmq?.node;
    if (!node) throw new Error('no node');
    await node.pause();
    await expect(amqp.connect(env.getAmqpUrl(), { timeout: 1500 })).rejects.toThrow();
    await node.resume();
    await amqpRoundTrip(env.getAmqpUrl(), uniqueName('resumed'));
  });
});
