/**
 * One process of bench/micro.ts: CPU time per message of one instrumentation mode, no broker.
 *
 * The kafkajs and amqplib objects here are in-memory fakes used only as the DRIVER of the wrapped
 * functions: a fake consumer hands the wrapped eachMessage/eachBatch a kafkajs-shaped payload, a
 * fake producer's send resolves at once, a fake channel's publish returns true and its consume
 * hands the wrapped callback an amqplib-shaped message. What is measured is therefore the
 * wrapper's own CPU cost (spans, context, headers, metrics) plus the same fixed driver cost in
 * every mode; nothing about a broker or a network.
 *
 * Modes (argv[2]): see bench/mode-setup.ts (the same set-up as the broker benchmark's).
 * Prints one JSON line: { mode, us: { path: median µs per message } }.
 */
import { EventEmitter } from 'node:events';
import { context } from '@opentelemetry/api';
import { setUpMode } from './mode-setup';
import { PATHS, median } from './modes';
import type { Mode, PathName } from './modes';

const mode = (process.argv[2] ?? 'none') as Mode;
const N = Number(process.env['BENCH_MICRO_MESSAGES'] ?? 10_000);
/**
 * eachBatch runs its wrapper once per BATCH messages and had not settled at N: one worker
 * (unsampled + followParentSampling, --no-allocation-site-pretenuring, 2026-12-04) measured
 * 0.66-0.76 µs per message with 50,000 messages per repetition, 0.40-0.49 with 200,000 and
 * 0.37-0.40 with 400,000. It gets 4 × N, warm-up included (the other paths wrap every message).
 */
const messagesOf = (p: PathName): number => (p === 'kafka.eachBatch' ? 4 * N : N);
const REPS = Number(process.env['BENCH_MICRO_REPS'] ?? 3);
const BATCH = 100;

const setup = setUpMode(mode);
const { provider } = setup;

// ---- fakes: drivers only ----------------------------------------------------------------------

type Handler = (payload: unknown) => Promise<unknown>;

class FakeConsumer extends EventEmitter {
  readonly events = { GROUP_JOIN: 'consumer.group_join', COMMIT_OFFSETS: 'consumer.commit_offsets', REBALANCING: 'consumer.rebalancing', STOP: 'consumer.stop', CRASH: 'consumer.crash', REQUEST: 'consumer.network.request' };
  config: { eachMessage?: Handler; eachBatch?: Handler } = {};
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(config: { eachMessage?: Handler; eachBatch?: Handler }): Promise<void> {
    this.config = config;
  }
  override on(event: string, listener: (...a: unknown[]) => void): never {
    super.on(event, listener);
    return (() => this.removeListener(event, listener)) as never;
  }
}

const SEND_RESULT = [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' }];
class FakeProducer extends EventEmitter {
  readonly events = { REQUEST: 'producer.network.request' };
  async connect(): Promise<void> {}
  send(_args: unknown): Promise<unknown> {
    return Promise.resolve(SEND_RESULT);
  }
  sendBatch(_args: unknown): Promise<unknown> {
    return Promise.resolve(SEND_RESULT);
  }
  async transaction(): Promise<unknown> {
    return {};
  }
  override on(event: string, listener: (...a: unknown[]) => void): never {
    super.on(event, listener);
    return (() => this.removeListener(event, listener)) as never;
  }
}

class FakeKafka {
  producer(): FakeProducer {
    return new FakeProducer();
  }
  consumer(_config?: unknown): FakeConsumer {
    return new FakeConsumer();
  }
}

type OnMessage = (msg: unknown) => unknown;
class FakeChannel extends EventEmitter {
  readonly connection = { stream: { remoteAddress: '127.0.0.1', remotePort: 5672 }, serverProperties: { product: 'RabbitMQ', version: '3.10' } };
  onMessage: OnMessage | undefined;
  published = 0;
  publish(_exchange: string, _routingKey: string, _content: Buffer, _options?: unknown): boolean {
    this.published++;
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options?: unknown): boolean {
    return this.publish('', queue, content, options);
  }
  consume(_queue: string, onMessage: OnMessage, _options?: unknown): Promise<{ consumerTag: string }> {
    this.onMessage = onMessage;
    return Promise.resolve({ consumerTag: 'ctag' });
  }
  ack(_msg: unknown, _allUpTo?: boolean): void {}
  nack(_msg: unknown, _allUpTo?: boolean, _requeue?: boolean): void {}
  reject(_msg: unknown, _requeue?: boolean): void {}
  ackAll(): void {}
  nackAll(_requeue?: boolean): void {}
  get(_queue: string, _options?: unknown): Promise<false> {
    return Promise.resolve(false);
  }
  assertQueue(queue: string, _options?: unknown): Promise<unknown> {
    return Promise.resolve({ queue, messageCount: 0, consumerCount: 0 });
  }
}

type ConfirmCallback = (err: unknown, ok?: unknown) => void;
class FakeConfirmChannel extends FakeChannel {
  /** The broker's confirm, delivered by the driver right after publish returns. */
  pendingConfirm: ConfirmCallback | undefined;
  override publish(_exchange: string, _routingKey: string, _content: Buffer, _options?: unknown, callback?: ConfirmCallback): boolean {
    this.published++;
    this.pendingConfirm = callback;
    return true;
  }
  waitForConfirms(): Promise<void> {
    return Promise.resolve();
  }
}

// ---- instrumentation per mode -------------------------------------------------------------------

if (setup.contrib) {
  const { KafkaJsInstrumentation } = require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');
  const { AmqplibInstrumentation } = require('@opentelemetry/instrumentation-amqplib') as typeof import('@opentelemetry/instrumentation-amqplib');
  // Patch the fake modules directly through the instrumentations' own module definitions (what
  // their require hooks would call on kafkajs / amqplib).
  const kafkaInst = new KafkaJsInstrumentation();
  for (const def of kafkaInst.getModuleDefinitions()) if (def.name === 'kafkajs') def.patch?.({ Kafka: FakeKafka } as never, '2.2.4');
  const amqpInst = new AmqplibInstrumentation();
  for (const def of amqpInst.getModuleDefinitions()) {
    for (const file of def.files) if (file.name.endsWith('channel_model.js')) file.patch({ Channel: FakeChannel, ConfirmChannel: FakeConfirmChannel } as never, '0.10.4');
  }
}

if (setup.floor) {
  // Patched on the fakes' prototypes, as contrib's are, so every client made below has it.
  const { floor } = require('./floor-instrumentation') as typeof import('./floor-instrumentation');
  floor.kafkaRun(FakeConsumer.prototype);
  floor.kafkaSend(FakeProducer.prototype);
  floor.amqpPublish(FakeChannel.prototype, false);
  floor.amqpPublish(FakeConfirmChannel.prototype, true);
  floor.amqpConsume(FakeChannel.prototype);
}

const edaLib = setup.eda ? (require('@eda-harness/instrumentation') as typeof import('@eda-harness/instrumentation')) : undefined;
const edaOptions = setup.edaOptions;

function kafkaClient(): FakeKafka {
  const kafka = new FakeKafka();
  if (edaLib) edaLib.instrumentKafka(kafka as never, { brokers: ['127.0.0.1:9092'], clientId: 'bench', ...edaOptions });
  return kafka;
}

function channel<C extends FakeChannel>(c: C): C {
  if (edaLib) edaLib.instrumentAmqp(c, edaOptions);
  return c;
}

// ---- messages --------------------------------------------------------------------------------

/** The parent a producer sends under (an active span), per mode. */
const producerParent = setup.producerParent;
const value = Buffer.alloc(256, 'x');
const keyBuf = Buffer.from('customer-42');
const traceparent = setup.traceparent;
const tpBuf = traceparent === undefined ? undefined : Buffer.from(traceparent);

function kafkaMessage(offset: number): Record<string, unknown> {
  const headers: Record<string, Buffer> = { 'eda-produced-at': Buffer.from(String(Date.now() - 5)) };
  if (tpBuf) headers['traceparent'] = tpBuf;
  return { key: keyBuf, value, timestamp: String(Date.now() - 5), attributes: 0, offset: String(offset), size: 0, headers };
}

function amqpMessage(tag: number): Record<string, unknown> {
  const headers: Record<string, unknown> = { 'eda-produced-at': String(Date.now() - 5) };
  if (traceparent !== undefined) headers['traceparent'] = traceparent;
  return {
    content: value,
    fields: { consumerTag: 'ctag', deliveryTag: tag, redelivered: false, exchange: '', routingKey: 'orders' },
    properties: { headers, contentType: 'application/json', messageId: `m${tag}`, deliveryMode: 2 },
  };
}

const noop = async (): Promise<void> => {};
const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

// ---- paths: each returns messages done -------------------------------------------------------------

async function setUpPaths(): Promise<Record<PathName, (n: number) => Promise<number>>> {
  const kafka = kafkaClient();
  const c1 = kafka.consumer({ groupId: 'g1' }) as FakeConsumer;
  await c1.run({ eachMessage: noop });
  const eachMessage = c1.config.eachMessage as Handler;
  let offset = 0;
  const c2 = kafka.consumer({ groupId: 'g2' }) as FakeConsumer;
  await c2.run({ eachBatch: noop });
  const eachBatch = c2.config.eachBatch as Handler;
  let batchOffset = 0;
  const producer = kafka.producer();

  const ch = channel(new FakeChannel());
  const cch = channel(new FakeConfirmChannel());
  const consumeCh = channel(new FakeChannel());
  await consumeCh.consume('orders', (msg) => {
    consumeCh.ack(msg);
  });
  const onMessage = consumeCh.onMessage as OnMessage;
  let tag = 0;

  const inParent = <T>(fn: () => T): T => context.with(producerParent, fn);

  return {
    'kafka.eachMessage': async (n) => {
      for (let i = 0; i < n; i++) {
        await eachMessage({ topic: 'orders', partition: 0, message: kafkaMessage(offset++), heartbeat: noop, pause: () => noop });
        if ((i & 511) === 511) await yieldNow();
      }
      return n;
    },
    'kafka.eachBatch': async (n) => {
      const batches = Math.max(1, Math.floor(n / BATCH));
      for (let b = 0; b < batches; b++) {
        const messages = [];
        for (let i = 0; i < BATCH; i++) messages.push(kafkaMessage(batchOffset++));
        await eachBatch({
          batch: { topic: 'orders', partition: 1, highWatermark: String(batchOffset), messages, isEmpty: () => false, firstOffset: () => '0', lastOffset: () => String(batchOffset - 1), offsetLag: () => '0', offsetLagLow: () => '0' },
          resolveOffset: () => undefined,
          heartbeat: noop,
          pause: () => noop,
          commitOffsetsIfNecessary: noop,
          uncommittedOffsets: () => ({ topics: [] }),
          isRunning: () => true,
          isStale: () => false,
        });
        if ((b & 7) === 7) await yieldNow();
      }
      return batches * BATCH;
    },
    'kafka.produce': (n) =>
      inParent(async () => {
        for (let i = 0; i < n; i++) {
          await producer.send({ topic: 'orders', messages: [{ key: 'customer-42', value }] });
          if ((i & 511) === 511) await yieldNow();
        }
        return n;
      }),
    'amqp.publish': (n) =>
      inParent(async () => {
        for (let i = 0; i < n; i++) {
          ch.sendToQueue('orders', value, { persistent: true, messageId: 'm1' });
          if ((i & 511) === 511) await yieldNow();
        }
        return n;
      }),
    'amqp.publishConfirm': (n) =>
      inParent(async () => {
        for (let i = 0; i < n; i++) {
          cch.publish('orders-x', 'eu.created', value, { persistent: true }, noop as never);
          const confirm = cch.pendingConfirm;
          cch.pendingConfirm = undefined;
          confirm?.call(cch, null);
          if ((i & 511) === 511) await yieldNow();
        }
        return n;
      }),
    'amqp.consumeAck': async (n) => {
      for (let i = 0; i < n; i++) {
        onMessage.call(consumeCh, amqpMessage(++tag));
        if ((i & 511) === 511) await yieldNow();
      }
      return n;
    },
  };
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const paths = await setUpPaths();
  const only = process.env['BENCH_MICRO_PATHS']?.split(',');
  const names = PATHS.filter((p) => !only || only.includes(p));
  // Warm-up: every path twice over a full repetition, so the JIT has settled before anything is
  // measured (5,000 messages were too few for eachBatch, whose wrapper runs once per 100: alone in
  // a process it then measured twice its settled cost).
  for (let w = 0; w < 2; w++) for (const p of names) await paths[p](messagesOf(p));
  const samples: Record<string, number[]> = {};
  for (let r = 0; r < REPS; r++) {
    // Paths interleaved within the process too.
    for (const p of r % 2 ? [...names].reverse() : names) {
      await yieldNow();
      const t0 = cpuMicros();
      const done = await paths[p](messagesOf(p));
      (samples[p] ??= []).push((cpuMicros() - t0) / done);
    }
  }
  await provider?.forceFlush();
  const us: Record<string, number> = {};
  for (const p of names) us[p] = median(samples[p] ?? []);
  console.log(JSON.stringify({ mode, us, spans: setup.spans() }));
  await provider?.shutdown();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
