import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { createExporter, serveMetrics } from '../../../exporter/index';
import type { Exporter, MetricsServer } from '../../../exporter/index';
import { KAFKA_CONSUMER_STATUS, METRIC } from '../../../semconv/index';
import { exporterCommand } from '../../../cli/exporter-command';
import { uniqueName } from '../../support/names';
import { parseExposition, valueOf } from '../../support/exposition';
import type { Sample } from '../../support/exposition';
import { createCheckedScraper, invalidSamples } from './scrape-checks';
import type { CheckedScraper } from './scrape-checks';

const WINDOW_SECONDS = 4;
const M = {
  lag: METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name,
  lagSeconds: METRIC.KAFKA_CONSUMER_LAG_SECONDS.name,
  committed: METRIC.KAFKA_CONSUMER_COMMITTED_OFFSET.name,
  status: METRIC.KAFKA_CONSUMER_STATUS.name,
  members: METRIC.KAFKA_CONSUMER_GROUP_MEMBERS.name,
  lastCommit: METRIC.KAFKA_CONSUMER_LAST_COMMIT.name,
  up: METRIC.EXPORTER_UP.name,
  dlqDepth: METRIC.DLQ_DEPTH.name,
  dlqAge: METRIC.DLQ_OLDEST_AGE.name,
  dlqInflow: METRIC.DLQ_INFLOW.name,
};

let env: StartedEnvironment;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let exporter: Exporter;
let server: MetricsServer;
let scraper: CheckedScraper;
const consumers: Consumer[] = [];
const prefix = uniqueName('exp');
/** Record timestamps by topic/partition/offset: the ground truth for lag in seconds. */
const recordTimes = new Map<string, number>();

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  kafka = new Kafka({ clientId: 'exporter-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
  exporter = createExporter({
    config: {
      intervalSeconds: 0.5,
      collectTimeoutSeconds: 5,
      kafka: { brokers: env.getKafkaBrokers(), groups: { allow: [`${prefix}*`] }, topics: { allow: [`${prefix}*`] }, statusWindowSeconds: WINDOW_SECONDS },
    },
  });
  server = await serveMetrics({ exporter, port: 0, host: '127.0.0.1' });
  scraper = createCheckedScraper(`${server.url}/metrics`);
  exporter.start();
}, 180_000);

afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await server?.close();
  await exporter?.stop();
  await env?.stop();
});

async function createTopic(name: string, partitions = 1): Promise<string> {
  await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  return name;
}

/** Sends `count` messages to partition 0 in one request, remembering each record's timestamp. */
async function send(topic: string, count = 1): Promise<void> {
  const timestamp = Date.now();
  const [meta] = await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ value: `m${i}`, partition: 0, timestamp: String(timestamp) })),
  });
  const base = Number(meta!.baseOffset);
  for (let i = 0; i < count; i++) recordTimes.set(`${topic}/0/${base + i}`, timestamp);
}

/** Produces one message every `everyMs` until stopped. */
function steadyTraffic(topic: string, everyMs: number): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await send(topic);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function startConsumer(groupId: string, topic: string): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000 });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  // No interval or threshold: kafkajs commits after every batch.
  await consumer.run({ eachMessage: async () => undefined });
  return consumer;
}

const partitionLabels = (group: string, topic: string) => ({ group, topic, partition: '0' });

/**
 * Lag in seconds must be within max(2 s, 5 %) of the truth: the age, at scrape time, of the record
 * at the committed offset the same page reports. The exporter's value is from its last collection
 * (≤ 0.5 s old), which the tolerance absorbs.
 */
function expectLagSecondsAccurate(samples: Sample[], group: string, topic: string): { exported: number; truth: number } {
  const labels = partitionLabels(group, topic);
  const committed = valueOf(samples, M.committed, labels);
  const exported = valueOf(samples, M.lagSeconds, labels);
  expect(committed).toBeDefined();
  expect(exported).toBeDefined();
  const ts = recordTimes.get(`${topic}/0/${committed}`);
  expect(ts).toBeDefined();
  const truth = (Date.now() - ts!) / 1000;
  expect(Math.abs(exported! - truth)).toBeLessThanOrEqual(Math.max(2, 0.05 * truth));
  return { exported: exported!, truth };
}

describe('Kafka consumer lag', () => {
  it('a paused consumer: lag in messages and seconds grows (accurate under steady traffic), status STALL, then back to 0 and OK after resume', async () => {
    const topic = await createTopic(`${prefix}-paused`);
    const group = `${prefix}-paused-g`;
    const labels = partitionLabels(group, topic);
    const traffic = steadyTraffic(topic, 100);
    try {
      const consumer = await startConsumer(group, topic);
      await scraper.until('the running consumer to be caught up', (s) => valueOf(s, M.committed, labels) !== undefined && valueOf(s, M.lag, labels) !== undefined && valueOf(s, M.lag, labels)! <= 20);

      consumer.pause([{ topic }]);
      const grown = await scraper.until('lag to grow while paused', (s) => {
        const lag = valueOf(s, M.lag, labels);
        const seconds = valueOf(s, M.lagSeconds, labels);
        return lag !== undefined && lag >= 30 && seconds !== undefined && seconds >= 3 ? s : undefined;
      });
      expectLagSecondsAccurate(grown, group, topic);
      const later = await scraper.until('lag seconds to keep growing', (s) => ((valueOf(s, M.lagSeconds, labels) ?? 0) >= 6 ? s : undefined));
      const { truth } = expectLagSecondsAccurate(later, group, topic);
      expect(truth).toBeGreaterThanOrEqual(5);
      // Alive (a member, heartbeating) but its committed offset does not move: STALL, not STOP.
      await scraper.until('status STALL', (s) => valueOf(s, M.status, { group }) === KAFKA_CONSUMER_STATUS.STALL);
      expect(valueOf(await scraper.scrape(), M.members, { group })).toBe(1);

      // Stop producing first so "back to 0" is exact, then let the consumer drain the backlog.
      await traffic.stop();
      consumer.resume([{ topic }]);
      await scraper.until('lag back to 0 after resume', (s) => valueOf(s, M.lag, labels) === 0 && valueOf(s, M.lagSeconds, labels) === 0);
      await scraper.until('status OK again', (s) => valueOf(s, M.status, { group }) === KAFKA_CONSUMER_STATUS.OK);
    } finally {
      await traffic.stop();
    }
  });

  it('lag in seconds is accurate after a burst and on an idle topic (the record timestamps, not the arrival rate)', async () => {
    const topic = await createTopic(`${prefix}-burst`);
    const group = `${prefix}-burst-g`;
    const labels = partitionLabels(group, topic);
    await send(topic, 5);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '5' }] });
    await scraper.until('the group caught up', (s) => valueOf(s, M.lag, labels) === 0 && valueOf(s, M.lagSeconds, labels) === 0);

    // A burst of 2,000 records in one request: they share one timestamp.
    await send(topic, 2_000);
    const afterBurst = await scraper.until('the burst to show', (s) => (valueOf(s, M.lag, labels) === 2_000 ? s : undefined));
    expectLagSecondsAccurate(afterBurst, group, topic);

    // Idle: nothing produced; lag in seconds must keep growing with the age of the oldest record
    // (interpolation over watermark samples would stop at the last sample).
    const idle = await scraper.until('the idle topic to age by 5 s', (s) => ((valueOf(s, M.lagSeconds, labels) ?? 0) >= 5 ? s : undefined));
    const { truth } = expectLagSecondsAccurate(idle, group, topic);
    expect(truth).toBeGreaterThanOrEqual(5);

    // Partially consumed: the group moves to the middle of the burst; same timestamp, same age.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1005' }] });
    const middle = await scraper.until('the new committed offset', (s) => (valueOf(s, M.committed, labels) === 1005 ? s : undefined));
    expect(valueOf(middle, M.lag, labels)).toBe(1_000);
    expectLagSecondsAccurate(middle, group, topic);
  });
});

describe('Kafka consumer status', () => {
  it('a group that stops committing goes to STOP; a caught-up idle group stays OK', async () => {
    const topic = await createTopic(`${prefix}-stop`);
    const idleTopic = await createTopic(`${prefix}-idle`);
    const stopping = `${prefix}-stop-g`;
    const idle = `${prefix}-idle-g`;
    await send(topic, 10);
    await send(idleTopic, 10);
    // Both groups consume everything with a real consumer, commit, and go away.
    for (const [group, t] of [[stopping, topic], [idle, idleTopic]] as const) {
      const consumer = await startConsumer(group, t);
      await scraper.until(`${group} caught up`, (s) => valueOf(s, M.lag, partitionLabels(group, t)) === 0);
      await consumer.disconnect();
    }
    await scraper.until('both groups empty', (s) => valueOf(s, M.members, { group: stopping }) === 0 && valueOf(s, M.members, { group: idle }) === 0);

    await send(topic, 5);
    const stopSeen = await scraper.until('status STOP', (s) => (valueOf(s, M.status, { group: stopping }) === KAFKA_CONSUMER_STATUS.STOP ? s : undefined), 60_000);
    expect(valueOf(stopSeen, M.lag, partitionLabels(stopping, topic))).toBe(5);
    const lastCommit = valueOf(stopSeen, M.lastCommit, partitionLabels(stopping, topic))!;
    expect(Date.now() / 1000 - lastCommit).toBeGreaterThanOrEqual(WINDOW_SECONDS);

    // The idle group: watched for more than two windows, never anything but OK.
    const start = Date.now();
    let pages = 0;
    while (Date.now() - start < 2.5 * WINDOW_SECONDS * 1000) {
      const s = await scraper.scrape();
      const status = valueOf(s, M.status, { group: idle });
      if (status !== undefined) {
        expect(status).toBe(KAFKA_CONSUMER_STATUS.OK);
        expect(valueOf(s, M.lag, partitionLabels(idle, idleTopic))).toBe(0);
        pages++;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(pages).toBeGreaterThan(10);
  });
});

describe('Kafka dead-letter topics', () => {
  it('reports depth, age of the oldest message and inflow attributed to the source topic', async () => {
    const source = await createTopic(`${prefix}-orders`);
    const dlq = await createTopic(`${source}.dlq`);
    await scraper.until('the empty DLQ', (s) => valueOf(s, M.dlqDepth, { system: 'kafka', dlq }) === 0);
    await send(dlq, 3);
    const seen = await scraper.until('DLQ depth 3 and inflow 3 from the source', (s) =>
      valueOf(s, M.dlqDepth, { system: 'kafka', dlq }) === 3 && valueOf(s, M.dlqInflow, { system: 'kafka', dlq, source }) === 3 ? s : undefined,
    );
    expect(valueOf(seen, M.dlqAge, { system: 'kafka', dlq })).toBeGreaterThanOrEqual(0);
    await scraper.until('the oldest DLQ message to age', (s) => (valueOf(s, M.dlqAge, { system: 'kafka', dlq }) ?? 0) >= 2);
    // A group consuming the DLQ takes messages out of its depth.
    await admin.setOffsets({ groupId: `${prefix}-dlq-reader`, topic: dlq, partitions: [{ partition: 0, offset: '2' }] });
    await scraper.until('DLQ depth 1 after a reader consumed 2', (s) => valueOf(s, M.dlqDepth, { system: 'kafka', dlq }) === 1);
  });
});

describe('eda-harness exporter (the command)', () => {
  it('--once: settings from flags, environment and a config file; prints a valid page and exits 0', async () => {
    const topic = await createTopic(`${prefix}-cli`);
    const group = `${prefix}-cli-g`;
    await send(topic, 6);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }] });
    const dir = mkdtempSync(join(tmpdir(), 'exporter-cli-'));
    const file = join(dir, 'exporter.json');
    // The file narrows the groups to this one; the environment names the brokers; a flag picks granularity.
    writeFileSync(file, JSON.stringify({ kafka: { groups: { allow: [group] }, topics: { allow: [`${prefix}*`] } } }));
    const saved = process.env['KAFKA_BROKERS'];
    process.env['KAFKA_BROKERS'] = env.getKafkaBrokers().join(',');
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await exporterCommand(['--config', file, '--granularity', 'topic', '--once']);
    } finally {
      write.mockRestore();
      if (saved === undefined) delete process.env['KAFKA_BROKERS'];
      else process.env['KAFKA_BROKERS'] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(code).toBe(0);
    const samples = parseExposition(out.join(''));
    expect(invalidSamples(samples)).toEqual([]);
    // Topic granularity: no partition label; the config file's group filter applied.
    expect(valueOf(samples, M.lag, { group, topic })).toBe(4);
    expect(samples.filter((s) => s.name === M.lag).every((s) => s.labels['partition'] === undefined && s.labels['group'] === group)).toBe(true);
  });
});

describe('Kafka broker restart', () => {
  it('keeps serving /metrics through a restart, reports the target down meanwhile, and recovers by itself', async () => {
    const topic = await createTopic(`${prefix}-restart`);
    const group = `${prefix}-restart-g`;
    await send(topic, 4);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1' }] });
    await scraper.until('lag before the restart', (s) => valueOf(s, M.lag, partitionLabels(group, topic)) === 3);

    let sawDown = false;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = await scraper.scrape(); // throws (failing the test) if /metrics stops answering
        if (valueOf(s, M.up, { target: 'kafka' }) === 0) sawDown = true;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await env.kafka!.node(1).restart();
      await waitFor(() => sawDown, { description: 'eda_exporter_up{target="kafka"} 0 during the restart', timeoutMs: 30_000 });
    } finally {
      polling = false;
      await poller;
    }
    await scraper.until('up again after the restart', (s) => valueOf(s, M.up, { target: 'kafka' }) === 1, 90_000);
    await send(topic, 1);
    await scraper.until('fresh lag after the restart', (s) => valueOf(s, M.lag, partitionLabels(group, topic)) === 4, 60_000);
  });
});

afterAll(() => {
  // Every sample of every page the tests scraped was finite and non-negative (checked per scrape).
  expect(scraper.checked.pages).toBeGreaterThan(20);
});
