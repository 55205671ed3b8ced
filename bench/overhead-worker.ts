/**
 * One measurement run of bench/overhead.ts, in its own process because the contrib
 * instrumentations patch modules globally at require time. Mode:
 *   none    – no OpenTelemetry at all
 *   eda     – eda-harness wrappers (spans + prom-client metrics)
 *   contrib – @opentelemetry/instrumentation-kafkajs and -amqplib
 * Both instrumented modes use the same SDK set-up: NodeTracerProvider, AlwaysOn sampling, a
 * BatchSpanProcessor into an exporter that counts and discards (the cost measured is the
 * instrumentation's, not the network's). Prints one JSON line.
 */
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { AlwaysOnSampler, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { randomBytes } from 'node:crypto';

type Mode = 'none' | 'eda' | 'contrib';
const mode = (process.argv[2] ?? 'none') as Mode;
const brokers = (process.argv[3] ?? '').split(',');
const amqpUrl = process.argv[4] ?? '';
const N = Number(process.env['BENCH_MESSAGES'] ?? 10_000);
const CONCURRENCY = 32;

let exported = 0;
class CountingExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

let provider: NodeTracerProvider | undefined;
if (mode !== 'none') {
  provider = new NodeTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(new CountingExporter(), { maxQueueSize: 100_000, maxExportBatchSize: 2048, scheduledDelayMillis: 200 })],
  });
  provider.register();
}
if (mode === 'contrib') {
  // Must patch before kafkajs / amqplib are first required.
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { KafkaJsInstrumentation } = require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');
  const { AmqplibInstrumentation } = require('@opentelemetry/instrumentation-amqplib') as typeof import('@opentelemetry/instrumentation-amqplib');
  registerInstrumentations({ instrumentations: [new KafkaJsInstrumentation(), new AmqplibInstrumentation()] });
}

const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
const amqp = require('amqplib') as typeof import('amqplib');

async function pool(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

async function kafkaRun(): Promise<{ produce: number; consume: number }> {
  let kafka = new Kafka({ clientId: `bench-${mode}`, brokers, logLevel: logLevel.NOTHING });
  if (mode === 'eda') {
    const { instrumentKafka } = require('@eda-harness/instrumentation') as typeof import('@eda-harness/instrumentation');
    kafka = instrumentKafka(kafka, { brokers, clientId: `bench-${mode}` });
  }
  const topic = `bench-${mode}-${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(256, 'x');
  const t0 = process.hrtime.bigint();
  // One message per send call: the per-call cost (span, header injection, metrics) is what differs.
  await pool(N, CONCURRENCY, (i) => producer.send({ topic, messages: [{ key: `k${i % 64}`, value }] }));
  const produceSec = Number(process.hrtime.bigint() - t0) / 1e9;
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0n;
  const finished = new Promise<bigint>((resolve) => {
    void consumer.run({
      eachMessage: async () => {
        if (seen === 0) first = process.hrtime.bigint();
        if (++seen === N) resolve(process.hrtime.bigint());
      },
    });
  });
  const last = await finished;
  await consumer.disconnect();
  return { produce: N / produceSec, consume: N / (Number(last - first) / 1e9) };
}

async function amqpRun(): Promise<{ publish: number; consume: number }> {
  const conn = await amqp.connect(amqpUrl);
  let ch = await conn.createChannel();
  if (mode === 'eda') {
    const { instrumentAmqp } = require('@eda-harness/instrumentation') as typeof import('@eda-harness/instrumentation');
    ch = instrumentAmqp(ch);
  }
  const queue = `bench-${mode}-${randomBytes(4).toString('hex')}`;
  await ch.assertQueue(queue, { durable: false, autoDelete: false });
  const body = Buffer.alloc(256, 'x');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    if (!ch.sendToQueue(queue, body)) await new Promise((r) => ch.once('drain', r));
  }
  // Publishing is asynchronous: the figure counts until the broker holds every message.
  for (;;) {
    const q = await ch.checkQueue(queue);
    if (q.messageCount >= N) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const publishSec = Number(process.hrtime.bigint() - t0) / 1e9;
  await ch.prefetch(200);
  let seen = 0;
  const t1 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    void ch.consume(queue, (msg) => {
      if (!msg) return;
      ch.ack(msg);
      if (++seen === N) resolve();
    });
  });
  const consumeSec = Number(process.hrtime.bigint() - t1) / 1e9;
  await ch.deleteQueue(queue);
  await conn.close();
  return { publish: N / publishSec, consume: N / consumeSec };
}

async function main(): Promise<void> {
  const k = await kafkaRun();
  const a = await amqpRun();
  await provider?.forceFlush();
  console.log(JSON.stringify({ mode, kafkaProduce: k.produce, kafkaConsume: k.consume, amqpPublish: a.publish, amqpConsume: a.consume, spans: exported }));
  await provider?.shutdown();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
