import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import amqplib from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { instrumentAmqp, instrumentKafka, recordDeadLetter, startTelemetry, traceKafkaMessage } from '../../../instrumentation/index';
import type { TelemetryHandle } from '../../../instrumentation/index';
import { ATTR, HEADER } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { until } from '../../support/until';

/**
 * The Spans and Metrics tables of docs/reference/telemetry.md, read as a user reads them, against
 * what the instrumentation emits on real brokers when every instrumented path runs: Kafka send,
 * sendBatch, a failed send, a transaction, per-message create spans, eachMessage (with a handler
 * error and a retry), eachBatch with traceKafkaMessage (with a dead-lettered message); AMQP
 * publish, confirm publish (acked and nacked), consume + ack, nack to a dead-letter exchange,
 * requeue and redelivery, get (and a get that fails). Every mismatch is listed at once.
 */

const root = join(__dirname, '..', '..', '..');

// ---------------------------------------------------------------------------------------------
// The tables, parsed from the Markdown

interface SpanRow {
  readonly name: string;
  readonly kind: string;
  readonly system: string;
  readonly attributes: readonly string[];
}

interface MetricRow {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly from: string;
}

/** Cells of the rows of the table that follows `heading`, header and separator left out. */
function tableRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no "${heading}" in docs/reference/telemetry.md`);
  const lines = markdown.slice(start + heading.length + 2).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

const codes = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

const markdown = readFileSync(join(root, 'docs', 'reference', 'telemetry.md'), 'utf8');
const SPAN_ROWS: SpanRow[] = tableRows(markdown, '## Spans emitted').map(([name, kind, system, , attributes]) => ({
  name: codes(name ?? '')[0] ?? '',
  kind: kind ?? '',
  system: system ?? '',
  attributes: codes(attributes ?? ''),
}));
const METRIC_ROWS: MetricRow[] = tableRows(markdown, '## Metrics emitted').map(([name, type, , labels, , from]) => ({
  name: codes(name ?? '')[0] ?? '',
  type: type ?? '',
  labels: codes(labels ?? ''),
  from: from ?? '',
}));

/**
 * Attributes the table lists that a span carries only when their condition holds. Every other
 * listed attribute must be on every span of its row. Each condition is met by at least one path
 * below, so each of these must still show up somewhere.
 */
const CONDITIONAL: Readonly<Record<string, string>> = {
  [ATTR.ERROR_TYPE]: 'only when the operation failed',
  [ATTR.MESSAGING_KAFKA_MESSAGE_KEY]: 'only for a keyed message',
  [ATTR.MESSAGING_KAFKA_MESSAGE_TOMBSTONE]: 'only for a null value',
  [ATTR.MESSAGING_BATCH_MESSAGE_COUNT]: 'only for batches',
  [ATTR.MESSAGING_KAFKA_OFFSET]: 'only on per-message spans (not on the eachBatch span)',
  [ATTR.MESSAGING_DESTINATION_PARTITION_ID]: 'only on spans of one partition',
  [ATTR.EDA_E2E_LATENCY_MS]: 'only with a produced-at header that is not in the future',
  [ATTR.MESSAGING_MESSAGE_ID]: 'only when the publisher set messageId',
  [ATTR.MESSAGING_MESSAGE_CONVERSATION_ID]: 'only when the publisher set correlationId',
  [ATTR.MESSAGING_RABBITMQ_ROUTING_KEY]: 'only for a non-empty routing key',
  [ATTR.MESSAGING_RABBITMQ_DELIVERY_TAG]: 'only when a message was delivered (not on a failed or empty get)',
  [ATTR.EDA_REQUEUE]: 'only on nack / reject',
  [ATTR.EDA_DEAD_LETTER_EXCHANGE]: 'only when dead-lettered',
  [ATTR.EDA_REDELIVERED]: 'only on a redelivery',
  [ATTR.MESSAGING_DESTINATION_TEMPORARY]: 'only for a temporary destination (reply-to, exclusive queue)',
  [ATTR.MESSAGING_DESTINATION_ANONYMOUS]: 'only for a server-named queue',
  [ATTR.SERVER_ADDRESS]: 'Kafka: only with the brokers option; AMQP: when the connection tells',
  [ATTR.SERVER_PORT]: 'Kafka: only with the brokers option; AMQP: when the connection tells',
  [ATTR.MESSAGING_CLIENT_ID]: 'only with the clientId option',
  [ATTR.EDA_KAFKA_TRANSACTIONAL_ID]: 'only when the producer came from an instrumented Kafka client with a transactionalId',
};

/** Listed attributes that no path of this test can make appear, with why. */
const NOT_DRIVEN: ReadonlyArray<readonly [span: string, attribute: string, why: string]> = [['transaction', ATTR.ERROR_TYPE, 'needs a commit or abort the broker refuses']];

// ---------------------------------------------------------------------------------------------
// Brokers, telemetry and clients

const silent = { warn: () => undefined };
let env: StartedEnvironment;
let telemetry: TelemetryHandle;
const exporter = new InMemorySpanExporter();
const registry = new Registry();
const producers: Producer[] = [];
const consumers: Consumer[] = [];
let connection: ChannelModel | undefined;

beforeAll(async () => {
  telemetry = await startTelemetry({ serviceName: 'tables-it', metricsPort: false, registry, traceExporter: exporter });
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  for (const p of producers) await p.disconnect().catch(() => undefined);
  await connection?.close().catch(() => undefined);
  await telemetry?.shutdown();
  await env?.stop();
});

/** Names used by the paths, to check the `{topic}` / `{queue}` / `{exchange}` part of span names. */
const used = { topic: new Set<string>(), queue: new Set<string>(), exchange: new Set<string>() };
const name = (kind: keyof typeof used, prefix: string): string => {
  const n = uniqueName(prefix);
  used[kind].add(n);
  return n;
};

class PoisonError extends Error {}

async function driveKafka(): Promise<void> {
  const brokers = env.getKafkaBrokers();
  const client = (clientId: string) => new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
  const kafka = instrumentKafka(client('tables-kafka'), { registry, brokers, clientId: 'tables-kafka', logger: silent });
  // Create spans are opt-in; a producer hook that throws is an instrumentation error, counted.
  const withCreate = instrumentKafka(client('tables-create'), {
    registry,
    brokers,
    clientId: 'tables-create',
    perMessageCreateSpans: true,
    logger: silent,
    producerHook: () => {
      throw new Error('hook failure');
    },
  });
  const topics = { send: name('topic', 'tables-send'), each: name('topic', 'tables-each'), batch: name('topic', 'tables-batch'), tx: name('topic', 'tables-tx'), create: name('topic', 'tables-create') };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer();
  producers.push(producer);
  await producer.connect();
  await producer.send({ topic: topics.send, messages: [{ key: 'k-1', value: 'one' }] });
  await producer.send({ topic: topics.each, messages: [{ key: 'k-1', value: 'ok' }, { key: 'poison', value: 'fails once' }, { key: 'gone', value: null }] });
  await producer.sendBatch({ topicMessages: [{ topic: topics.batch, messages: [{ key: 'b-1', value: 'ok' }, { key: 'b-poison', value: 'dead letter' }, { value: 'no key' }] }] });

  // A produced-at in the future (a skewed clock), written by an uninstrumented producer.
  const raw = client('tables-raw').producer();
  producers.push(raw);
  await raw.connect();
  await raw.send({ topic: topics.each, messages: [{ key: 'future', value: 'skewed', headers: { [HEADER.PRODUCED_AT]: String(Date.now() + 3_600_000) } }] });

  const failing = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  producers.push(failing);
  await failing.connect();
  await expect(failing.send({ topic: name('topic', 'tables-missing'), messages: [{ value: 'x' }] })).rejects.toThrow();

  const txProducer = kafka.producer({ transactionalId: uniqueName('tables-tx'), idempotent: true, maxInFlightRequests: 1 });
  producers.push(txProducer);
  await txProducer.connect();
  const tx = await txProducer.transaction();
  await tx.send({ topic: topics.tx, messages: [{ key: 't-1', value: 'in a transaction' }] });
  await tx.commit();

  const creating = withCreate.producer();
  producers.push(creating);
  await creating.connect();
  await creating.send({ topic: topics.create, messages: [{ key: 'c-1', value: 'one' }, { key: 'c-2', value: 'two' }] });

  const handled: string[] = [];
  let poisoned = false;
  const eachMessage = kafka.consumer({ groupId: uniqueName('tables-each'), retry: { initialRetryTime: 100, retries: 5 } });
  consumers.push(eachMessage);
  await eachMessage.connect();
  await eachMessage.subscribe({ topics: [topics.each], fromBeginning: true });
  await eachMessage.run({
    eachMessage: async ({ message }) => {
      const key = String(message.key);
      if (key === 'poison' && !poisoned) {
        poisoned = true;
        throw new PoisonError('handler failure');
      }
      handled.push(key);
    },
  });

  const batched: string[] = [];
  const eachBatch = kafka.consumer({ groupId: uniqueName('tables-batch') });
  consumers.push(eachBatch);
  await eachBatch.connect();
  await eachBatch.subscribe({ topics: [topics.batch], fromBeginning: true });
  await eachBatch.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const message of batch.messages) {
        try {
          await traceKafkaMessage(message, async () => {
            if (String(message.key) === 'b-poison') throw new PoisonError('batch handler failure');
          });
        } catch {
          recordDeadLetter({ system: 'kafka', source: batch.topic, dlq: `${batch.topic}.DLT`, reason: 'handler_error', registry });
        }
        batched.push(String(message.key));
        resolveOffset(message.offset);
        await heartbeat();
      }
    },
  });

  await until('every Kafka message handled', () => handled.length >= 4 && batched.length >= 3, { timeoutMs: 45_000 });
}

async function driveAmqp(): Promise<void> {
  connection = instrumentAmqp(await amqplib.connect(env.getAmqpUrl()), { registry, logger: silent });
  const ch: Channel = await connection.createChannel();
  const confirm: ConfirmChannel = await connection.createConfirmChannel();
  const exchange = name('exchange', 'tables-ex');
  const dlx = name('exchange', 'tables-dlx');
  const queues = { main: name('queue', 'tables-main'), nack: name('queue', 'tables-nack'), dead: name('queue', 'tables-dead'), requeue: name('queue', 'tables-requeue'), get: name('queue', 'tables-get'), full: name('queue', 'tables-full') };
  await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
  await ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: true });
  await ch.assertQueue(queues.main, { durable: false, autoDelete: true });
  await ch.bindQueue(queues.main, exchange, 'order.created');
  await ch.assertQueue(queues.dead, { durable: false, autoDelete: true });
  await ch.bindQueue(queues.dead, dlx, '');
  await ch.assertQueue(queues.nack, { durable: false, autoDelete: true, deadLetterExchange: dlx });
  await ch.assertQueue(queues.requeue, { durable: false, autoDelete: true });
  await ch.assertQueue(queues.get, { durable: false, autoDelete: true });
  await confirm.assertQueue(queues.full, { durable: false, autoDelete: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });

  const settled: string[] = [];
  await ch.consume(queues.main, (msg) => {
    if (!msg) return;
    ch.ack(msg);
    settled.push('ack');
  });
  await ch.consume(queues.nack, (msg) => {
    if (!msg) return;
    ch.nack(msg, false, false);
    settled.push('nack');
  });
  await ch.consume(queues.requeue, (msg: ConsumeMessage | null) => {
    if (!msg) return;
    if (msg.fields.redelivered) {
      ch.ack(msg);
      settled.push('redelivered');
    } else {
      ch.nack(msg, false, true);
    }
  });

  ch.publish(exchange, 'order.created', Buffer.from('plain'), { messageId: 'm-1', correlationId: 'c-1' });
  const publishConfirmed = (ex: string, key: string, body: string): Promise<unknown> => new Promise((resolve) => confirm.publish(ex, key, Buffer.from(body), { messageId: body }, (err) => resolve(err)));
  expect(await publishConfirmed(exchange, 'order.created', 'confirmed')).toBeFalsy();
  expect(await publishConfirmed('', queues.full, 'fits')).toBeFalsy();
  expect(await publishConfirmed('', queues.full, 'refused')).toBeTruthy(); // nacked: the queue is full
  ch.sendToQueue(queues.nack, Buffer.from('to the dlx'));
  ch.sendToQueue(queues.requeue, Buffer.from('twice'));
  ch.sendToQueue(queues.get, Buffer.from('pulled'), { messageId: 'g-1', correlationId: 'gc-1' });

  const got = await until('a message from channel.get', async () => (await ch.get(queues.get)) || undefined, { timeoutMs: 20_000 });
  ch.ack(got);

  // A temporary (exclusive) and an anonymous (server-named) queue: fixed span names, flagged destinations.
  const temporary = uniqueName('tables-exclusive');
  await ch.assertQueue(temporary, { exclusive: true, durable: false });
  const anonymous = (await ch.assertQueue('', { durable: false, autoDelete: true })).queue;
  used.queue.add('(temporary)');
  used.queue.add('(anonymous)');
  await ch.consume(temporary, (msg) => {
    if (!msg) return;
    ch.ack(msg);
    settled.push('temporary');
  });
  ch.sendToQueue(temporary, Buffer.from('reply'));
  ch.sendToQueue(anonymous, Buffer.from('to a server-named queue'));
  const fromAnonymous = await until('a message from the server-named queue', async () => (await ch.get(anonymous)) || undefined, { timeoutMs: 20_000 });
  ch.ack(fromAnonymous);
  // And the other way round: a get from a temporary queue, a consumer on an anonymous one.
  const temporaryGet = uniqueName('tables-exclusive-get');
  await ch.assertQueue(temporaryGet, { exclusive: true, durable: false });
  const anonymousConsumed = (await ch.assertQueue('', { durable: false, autoDelete: true })).queue;
  await ch.consume(anonymousConsumed, (msg) => {
    if (!msg) return;
    ch.ack(msg);
    settled.push('anonymous');
  });
  ch.sendToQueue(temporaryGet, Buffer.from('reply to get'));
  ch.sendToQueue(anonymousConsumed, Buffer.from('to a consumed server-named queue'));
  const fromTemporary = await until('a message from the temporary queue', async () => (await ch.get(temporaryGet)) || undefined, { timeoutMs: 20_000 });
  ch.ack(fromTemporary);
  // A get that fails: the broker closes the channel (404) and the receive span carries error.type.
  const doomed = await connection.createChannel();
  doomed.on('error', () => undefined);
  await expect(doomed.get(name('queue', 'tables-no-such-queue'))).rejects.toThrow(/NOT_FOUND/);
  await until('every AMQP delivery settled', () => ['ack', 'nack', 'redelivered', 'temporary', 'anonymous'].every((s) => settled.includes(s)) && settled.filter((s) => s === 'ack').length >= 2, { timeoutMs: 20_000 });
}

// ---------------------------------------------------------------------------------------------
// Comparison

const KIND_NAMES: Readonly<Record<number, string>> = { [SpanKind.INTERNAL]: 'INTERNAL', [SpanKind.SERVER]: 'SERVER', [SpanKind.CLIENT]: 'CLIENT', [SpanKind.PRODUCER]: 'PRODUCER', [SpanKind.CONSUMER]: 'CONSUMER' };

function rowOf(span: ReadableSpan): SpanRow | undefined {
  const system = String(span.attributes[ATTR.MESSAGING_SYSTEM]);
  const operation = span.name.split(' ')[0];
  return SPAN_ROWS.find((r) => r.system === system && r.name.split(' ')[0] === operation);
}

/** The `{topic}` / `{queue}` / `{exchange}` of a row's name matches a name the paths used. */
function nameMatches(row: SpanRow, span: ReadableSpan): boolean {
  const placeholder = /\{(topic|queue|exchange)\}/.exec(row.name)?.[1] as keyof typeof used | undefined;
  if (placeholder === undefined) return span.name === row.name;
  const rest = span.name.slice(row.name.indexOf('{'));
  // A publish to the default exchange is named after the queue.
  return used[placeholder].has(rest) || (placeholder === 'exchange' && used.queue.has(rest));
}

function spanMismatches(spans: readonly ReadableSpan[]): string[] {
  const problems = new Set<string>();
  const seen = new Map<SpanRow, Set<string>>();
  for (const span of spans) {
    const row = rowOf(span);
    if (!row) {
      problems.add(`span "${span.name}" (${KIND_NAMES[span.kind]}) has no row in the Spans table`);
      continue;
    }
    const where = `"${row.name}" (${row.system})`;
    // The one documented exception: with create spans on, the send span is a CLIENT span.
    const createOn = row.name.startsWith('send ') && span.attributes[ATTR.MESSAGING_CLIENT_ID] === 'tables-create';
    const kind = KIND_NAMES[span.kind];
    if (kind !== row.kind && !(createOn && kind === 'CLIENT')) problems.add(`${where}: emitted as ${kind}, the table says ${row.kind}`);
    if (!nameMatches(row, span)) problems.add(`${where}: emitted with name "${span.name}"`);
    const emitted = Object.keys(span.attributes);
    const attrs = seen.get(row) ?? new Set<string>();
    seen.set(row, attrs);
    for (const a of emitted) {
      attrs.add(a);
      if (!row.attributes.includes(a)) problems.add(`${where}: emits ${a}, not in the table`);
    }
    for (const a of row.attributes) if (!(a in CONDITIONAL) && !emitted.includes(a)) problems.add(`${where}: lists ${a} as always set, missing on "${span.name}"`);
  }
  for (const row of SPAN_ROWS) {
    const attrs = seen.get(row);
    if (!attrs) {
      problems.add(`"${row.name}" (${row.system}): listed, no such span emitted`);
      continue;
    }
    for (const a of row.attributes) {
      const undriven = NOT_DRIVEN.some(([s, attr]) => s === row.name && attr === a);
      if (!attrs.has(a) && !undriven) problems.add(`"${row.name}" (${row.system}): lists ${a}, never emitted by any path`);
    }
  }
  return [...problems];
}

async function metricMismatches(): Promise<string[]> {
  const problems: string[] = [];
  const emitted = await registry.getMetricsAsJSON();
  const rows = METRIC_ROWS.filter((r) => r.from === 'instrumentation');
  for (const m of emitted) if (!rows.some((r) => r.name === m.name)) problems.push(`metric ${m.name} is emitted, not in the Metrics table`);
  for (const row of rows) {
    const m = emitted.find((e) => e.name === row.name);
    if (!m) {
      problems.push(`metric ${row.name}: listed, never created`);
      continue;
    }
    const type = String(m.type);
    if (type !== row.type) problems.push(`metric ${row.name}: emitted as ${type}, the table says ${row.type}`);
    const values = (m.values ?? []) as Array<{ labels: Record<string, unknown> }>;
    if (values.length === 0) problems.push(`metric ${row.name}: listed, no series recorded by any path`);
    const labels = new Set(values.flatMap((v) => Object.keys(v.labels).filter((l) => !(type === 'histogram' && l === 'le'))));
    for (const l of labels) if (!row.labels.includes(l)) problems.push(`metric ${row.name}: label ${l} is emitted, not in the table`);
    if (values.length > 0) for (const l of row.labels) if (!labels.has(l)) problems.push(`metric ${row.name}: lists label ${l}, never set by any path`);
  }
  return problems;
}

describe('docs/reference/telemetry.md against what real brokers make the instrumentation emit', () => {
  it('the tables parse', () => {
    expect(SPAN_ROWS.length).toBeGreaterThanOrEqual(5);
    expect(METRIC_ROWS.filter((r) => r.from === 'instrumentation').length).toBeGreaterThanOrEqual(8);
    for (const r of SPAN_ROWS) expect(r.attributes.length).toBeGreaterThan(0);
  });

  it('every span and metric of every instrumented path is in the tables, as the tables say', async () => {
    await Promise.all([driveKafka(), driveAmqp()]);
    await telemetry.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect([...spanMismatches(spans), ...(await metricMismatches())]).toEqual([]);
  }, 120_000);
});
