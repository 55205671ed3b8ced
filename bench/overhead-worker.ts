/**
 * One measurement run of bench/overhead.ts against real brokers, in its own process because the
 * SDK's context manager and the contrib instrumentations' patches are process-wide. The mode
 * (argv[2]) and its OpenTelemetry set-up are those of the micro-benchmark: bench/mode-setup.ts.
 *
 * Paths (BENCH_PATHS selects; bench/modes.ts names them):
 *   kafka.produce        send() of one message per call, 32 calls in flight, under the mode's active parent
 *   kafka.eachMessage    consume CONSUME_N messages with an async no-op eachMessage
 *   kafka.eachBatch      consume the same CONSUME_N messages (another group) with an async no-op eachBatch
 *   amqp.publish         sendToQueue (plain channel) under the active parent, until the queue holds N
 *   amqp.publishConfirm  publish on a confirm channel under the active parent, until N are confirmed
 *   amqp.consumeAck      consume CONSUME_N messages (prefetch 200) and ack each in the handler
 * N is BENCH_MESSAGES (10,000); CONSUME_N is BENCH_CONSUME_MESSAGES (5 × N).
 * The consume paths read messages written beforehand, outside the measurement, by an
 * uninstrumented client under suppressed tracing, all carrying the same headers as the
 * micro-benchmark's: the mode's `traceparent` (unsampled in the eda-unsampled modes, absent in
 * eda-ratio) and `eda-produced-at`. Prints one JSON line: { mode, msgPerSec, spans, traceparent }.
 * With BENCH_PROFILE_DIR set, each consume path's consumer run (group join included) is CPU-profiled
 * into `<dir>/<mode>-<path>.cpuprofile` (the profiler slows what it measures: read it for where the
 * time goes, not for the figure).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { setUpMode } from './mode-setup';
import { PATHS } from './modes';
import type { Mode, PathName } from './modes';

const mode = (process.argv[2] ?? 'none') as Mode;
const brokers = (process.argv[3] ?? '').split(',');
const amqpUrl = process.argv[4] ?? '';
const N = Number(process.env['BENCH_MESSAGES'] ?? 10_000);
/**
 * Messages per consume path: more than the send paths by default, because a consumer reads 10,000
 * messages in 60 ms and over so short a time a figure says more about the fetch timing than about
 * the cost per message.
 */
const CONSUME_N = Number(process.env['BENCH_CONSUME_MESSAGES'] ?? N * 5);
const only = process.env['BENCH_PATHS']?.split(',');
const paths = new Set<PathName>(PATHS.filter((p) => !only || only.includes(p)));
const CONCURRENCY = 32;
const FILL_CHUNK = 500;

const setup = setUpMode(mode);
if (setup.contrib) {
  // Must patch before kafkajs / amqplib are first required.
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { KafkaJsInstrumentation } = require('@opentelemetry/instrumentation-kafkajs') as typeof import('@opentelemetry/instrumentation-kafkajs');
  const { AmqplibInstrumentation } = require('@opentelemetry/instrumentation-amqplib') as typeof import('@opentelemetry/instrumentation-amqplib');
  registerInstrumentations({ instrumentations: [new KafkaJsInstrumentation(), new AmqplibInstrumentation()] });
}
const edaLib = setup.eda ? (require('@eda-harness/instrumentation') as typeof import('@eda-harness/instrumentation')) : undefined;

const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
const amqp = require('amqplib') as typeof import('amqplib');

const msgPerSec: Partial<Record<PathName, number>> = {};
/** The traceparent of the first message each consume path saw ('' without one): shows the fill worked. */
const traceparentSeen: Record<string, string> = {};
const body = Buffer.alloc(256, 'x');

const seconds = (from: bigint, to: bigint = process.hrtime.bigint()): number => Number(to - from) / 1e9;
/** Outside the measurement: no instrumentation records or injects anything. */
const untraced = <T>(fn: () => Promise<T>): Promise<T> => context.with(suppressTracing(ROOT_CONTEXT), fn);
const inParent = <T>(fn: () => Promise<T>): Promise<T> => context.with(setup.producerParent, fn);
const headerText = (h: unknown): string => (h === undefined ? '' : String(Array.isArray(h) ? h[0] : h));

function fillHeaders(): Record<string, string> {
  const headers: Record<string, string> = { 'eda-produced-at': String(Date.now()) };
  if (setup.traceparent !== undefined) headers['traceparent'] = setup.traceparent;
  return headers;
}

const PROFILE_DIR = process.env['BENCH_PROFILE_DIR'];

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result as T))));
}

/** fn, CPU-profiled into PROFILE_DIR when it is set. */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return fn();
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await post<{ profile: unknown }>(session, 'Profiler.stop');
    writeFileSync(join(PROFILE_DIR, `${mode}-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

async function pool(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

function newKafka(instrumented: boolean): import('kafkajs').Kafka {
  const clientId = `bench-${mode}`;
  const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
  return instrumented && edaLib ? edaLib.instrumentKafka(kafka, { brokers, clientId, ...setup.edaOptions }) : kafka;
}

async function kafkaRun(): Promise<void> {
  const kafka = newKafka(true);
  const suffix = randomBytes(4).toString('hex');
  const produceTopic = `bench-${mode}-produce-${suffix}`;
  const consumeTopic = `bench-${mode}-consume-${suffix}`;
  const consuming = paths.has('kafka.eachMessage') || paths.has('kafka.eachBatch');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [produceTopic, consumeTopic].map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
  await admin.disconnect();

  if (paths.has('kafka.produce')) {
    const producer = kafka.producer();
    await producer.connect();
    const t0 = process.hrtime.bigint();
    // One message per send call: the per-call cost (span, header injection, metrics) is what differs.
    await inParent(() => pool(N, CONCURRENCY, (i) => producer.send({ topic: produceTopic, messages: [{ key: `k${i % 64}`, value: body }] })));
    msgPerSec['kafka.produce'] = N / seconds(t0);
    await producer.disconnect();
  }
  if (!consuming) return;

  const filler = newKafka(false).producer();
  await filler.connect();
  await untraced(async () => {
    for (let i = 0; i < CONSUME_N; i += FILL_CHUNK) {
      const headers = fillHeaders();
      const messages = Array.from({ length: Math.min(FILL_CHUNK, CONSUME_N - i) }, (_, j) => ({ key: `k${(i + j) % 64}`, value: body, headers }));
      await filler.send({ topic: consumeTopic, messages });
    }
  });
  await filler.disconnect();

  for (const path of ['kafka.eachMessage', 'kafka.eachBatch'] as const) {
    if (!paths.has(path)) continue;
    const consumer = kafka.consumer({ groupId: `g-${path}-${consumeTopic}`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: consumeTopic, fromBeginning: true });
    let seen = 0;
    let first = 0n;
    const last = await profiled(path, () => new Promise<bigint>((resolve) => {
      const start = (headers: Record<string, unknown> | undefined): void => {
        first = process.hrtime.bigint();
        traceparentSeen[path] = headerText(headers?.['traceparent']);
      };
      void consumer.run(
        path === 'kafka.eachMessage'
          ? {
              eachMessage: async ({ message }) => {
                if (seen === 0) start(message.headers);
                if (++seen === CONSUME_N) resolve(process.hrtime.bigint());
              },
            }
          : {
              eachBatch: async ({ batch }) => {
                if (seen === 0) start(batch.messages[0]?.headers);
                const before = seen;
                seen += batch.messages.length;
                if (before < CONSUME_N && seen >= CONSUME_N) resolve(process.hrtime.bigint());
              },
            },
      );
    }));
    msgPerSec[path] = CONSUME_N / seconds(first, last);
    await consumer.disconnect();
  }
}

async function amqpRun(): Promise<void> {
  const conn = await amqp.connect(amqpUrl);
  const instrument = <C extends object>(c: C): C => (edaLib ? edaLib.instrumentAmqp(c, setup.edaOptions) : c);
  const suffix = randomBytes(4).toString('hex');
  const admin = await conn.createChannel();
  const queue = async (name: string): Promise<string> => {
    const q = `bench-${mode}-${name}-${suffix}`;
    await admin.assertQueue(q, { durable: false, autoDelete: false });
    return q;
  };
  const holds = async (q: string, n: number): Promise<void> => {
    while ((await admin.checkQueue(q)).messageCount < n) await new Promise((r) => setTimeout(r, 5));
  };

  if (paths.has('amqp.publish')) {
    const q = await queue('publish');
    const ch = instrument(await conn.createChannel());
    const t0 = process.hrtime.bigint();
    await inParent(async () => {
      for (let i = 0; i < N; i++) {
        if (!ch.sendToQueue(q, body)) await new Promise((r) => ch.once('drain', r));
      }
    });
    // Publishing is asynchronous: the figure counts until the broker holds every message.
    await holds(q, N);
    msgPerSec['amqp.publish'] = N / seconds(t0);
    await admin.deleteQueue(q);
    await ch.close();
  }

  if (paths.has('amqp.publishConfirm')) {
    const q = await queue('confirm');
    const ch = instrument(await conn.createConfirmChannel());
    let confirmed = 0;
    let failed = 0;
    const t0 = process.hrtime.bigint();
    await inParent(
      () =>
        new Promise<void>((resolve, reject) => {
          const onConfirm = (err: unknown): void => {
            if (err) failed++;
            if (++confirmed < N) return;
            if (failed) reject(new Error(`${failed} publishes nacked`));
            else resolve();
          };
          void (async () => {
            for (let i = 0; i < N; i++) {
              if (!ch.publish('', q, body, {}, onConfirm)) await new Promise((r) => ch.once('drain', r));
            }
          })().catch(reject);
        }),
    );
    msgPerSec['amqp.publishConfirm'] = N / seconds(t0);
    await admin.deleteQueue(q);
    await ch.close();
  }

  if (paths.has('amqp.consumeAck')) {
    const q = await queue('consume');
    const filler = await conn.createChannel();
    await untraced(async () => {
      for (let i = 0; i < CONSUME_N; i++) {
        if (!filler.sendToQueue(q, body, { headers: fillHeaders() })) await new Promise((r) => filler.once('drain', r));
      }
    });
    await holds(q, CONSUME_N);
    await filler.close();
    const ch = instrument(await conn.createChannel());
    await ch.prefetch(200);
    let seen = 0;
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      void ch.consume(q, (msg) => {
        if (!msg) return;
        if (seen === 0) traceparentSeen['amqp.consumeAck'] = headerText(msg.properties.headers?.['traceparent']);
        ch.ack(msg);
        if (++seen === CONSUME_N) resolve();
      });
    });
    msgPerSec['amqp.consumeAck'] = CONSUME_N / seconds(t0);
    await admin.deleteQueue(q);
    await ch.close();
  }
  await conn.close();
}

async function main(): Promise<void> {
  if (['kafka.produce', 'kafka.eachMessage', 'kafka.eachBatch'].some((p) => paths.has(p as PathName))) await kafkaRun();
  if (['amqp.publish', 'amqp.publishConfirm', 'amqp.consumeAck'].some((p) => paths.has(p as PathName))) await amqpRun();
  await setup.provider?.forceFlush();
  console.log(JSON.stringify({ mode, msgPerSec, spans: setup.spans(), traceparent: traceparentSeen }));
  await setup.provider?.shutdown();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
