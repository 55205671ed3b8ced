/**
 * How the exporter's Kafka collection scales: creates topics, partitions and consumer groups on
 * a local Kafka node in steps, and at each step times one cold collection (new collector: first
 * metadata, every lagging partition's record fetched) and warm ones (what every later interval
 * costs), the /metrics rendering, and the heap held by the exporter.
 *
 * Each group commits offsets on one topic of PARTITIONS_PER_TOPIC partitions, a few messages
 * behind the end, so every partition is lagging and needs a record timestamp.
 *
 *   npm run bench:exporter-scale                     # steps 50, 200, 500 groups × 10 partitions
 *   BENCH_STEPS=20,100 BENCH_PARTITIONS_PER_TOPIC=5 npm run bench:exporter-scale
 *   BENCH_KAFKA_BROKERS=host:9092 …                  # an existing cluster instead of a local node
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { Environment } from '@eda-harness/environment';
import type { StartedEnvironment } from '@eda-harness/environment';
import { silentProgress } from '@eda-harness/core';
import { createExporter } from '@eda-harness/exporter';
import type { KafkaSnapshot } from '@eda-harness/exporter';

const STEPS = (process.env['BENCH_STEPS'] ?? '50,200,500').split(',').map(Number);
const PARTITIONS_PER_TOPIC = Number(process.env['BENCH_PARTITIONS_PER_TOPIC'] ?? 10);
const WARM_RUNS = Number(process.env['BENCH_WARM_RUNS'] ?? 3);
const MESSAGES_PER_PARTITION = 3;
const PREFIX = `bench-${Date.now().toString(36)}`;

interface Row {
  groups: number;
  partitions: number;
  setupSeconds: number;
  coldSeconds: number;
  warmSeconds: number;
  renderSeconds: number;
  series: number;
  heapMb: number;
  rssMb: number;
}

const topicName = (i: number): string => `${PREFIX}-t${i}`;
const groupName = (i: number): string => `${PREFIX}-g${i}`;

async function grow(kafka: Kafka, adminClient: Admin, from: number, to: number): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 10 } });
  await producer.connect();
  try {
    for (let start = from; start < to; start += 50) {
      const batch = Array.from({ length: Math.min(50, to - start) }, (_, k) => start + k);
      await adminClient.createTopics({ topics: batch.map((i) => ({ topic: topicName(i), numPartitions: PARTITIONS_PER_TOPIC })), waitForLeaders: true });
      await producer.sendBatch({
        topicMessages: batch.map((i) => ({
          topic: topicName(i),
          messages: Array.from({ length: PARTITIONS_PER_TOPIC * MESSAGES_PER_PARTITION }, (_, m) => ({ value: 'x', partition: m % PARTITIONS_PER_TOPIC })),
        })),
      });
      // One commit per group, one message behind on every partition: all partitions lag.
      await Promise.all(
        batch.map((i) =>
          adminClient.setOffsets({
            groupId: groupName(i),
            topic: topicName(i),
            partitions: Array.from({ length: PARTITIONS_PER_TOPIC }, (_, p) => ({ partition: p, offset: String(MESSAGES_PER_PARTITION - 1) })),
          }),
        ),
      );
    }
  } finally {
    await producer.disconnect();
  }
}

function heap(): { heapMb: number; rssMb: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 };
}

async function measure(brokers: string[], groups: number, setupSeconds: number): Promise<Row> {
  const before = heap();
  const exporter = createExporter({
    config: { kafka: { brokers, groups: { allow: [`${PREFIX}-*`] }, topics: { allow: [`${PREFIX}-*`] } }, collectTimeoutSeconds: 300 },
  });
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  try {
    const coldSeconds = await time(() => exporter.collectNow());
    const snapshot: KafkaSnapshot | undefined = exporter.latest.kafka;
    if (!exporter.health()[0]?.up || !snapshot) throw new Error('cold collection failed');
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push(await time(() => exporter.collectNow()));
    let text = '';
    const renderSeconds = await time(async () => {
      text = await exporter.registry.metrics();
    });
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const lagging = exporter.latest.kafka!.partitions.filter((p) => p.lagMessages > 0).length;
    if (lagging !== groups * PARTITIONS_PER_TOPIC) process.stderr.write(`warning: ${lagging} lagging partitions, expected ${groups * PARTITIONS_PER_TOPIC}\n`);
    const after = heap();
    warm.sort((a, b) => a - b);
    return {
      groups,
      partitions: groups * PARTITIONS_PER_TOPIC,
      setupSeconds,
      coldSeconds,
      warmSeconds: warm[Math.floor(warm.length / 2)] ?? Number.NaN,
      renderSeconds,
      series,
      heapMb: after.heapMb - before.heapMb,
      rssMb: after.rssMb,
    };
  } finally {
    await exporter.stop();
  }
}

async function main(): Promise<void> {
  let env: StartedEnvironment | undefined;
  const external = process.env['BENCH_KAFKA_BROKERS'];
  if (!external) {
    process.stderr.write('starting a local Kafka node…\n');
    env = await new Environment().withProvider('native').withKafka({ nodes: 1, heap: '1g' }).withToxiproxy(false).withProgress(silentProgress).start();
  }
  const brokers = external ? external.split(',') : env!.getKafkaBrokers();
  const kafka = new Kafka({ clientId: 'bench-exporter-scale', brokers, logLevel: logLevel.NOTHING, requestTimeout: 60_000 });
  const admin = kafka.admin();
  await admin.connect();
  const rows: Row[] = [];
  let stoppedBy: string | undefined;
  try {
    let have = 0;
    for (const groups of STEPS) {
      process.stderr.write(`creating ${groups - have} more topics × ${PARTITIONS_PER_TOPIC} partitions and groups…\n`);
      const t = Date.now();
      try {
        await grow(kafka, admin, have, groups);
      } catch (err) {
        // A single local node eventually struggles to create partitions; keep what was measured.
        stoppedBy = `setup of ${groups} groups failed: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
      have = groups;
      const setupSeconds = (Date.now() - t) / 1000;
      process.stderr.write(`measuring ${groups} groups / ${groups * PARTITIONS_PER_TOPIC} partitions…\n`);
      rows.push(await measure(brokers, groups, setupSeconds));
      const r = rows[rows.length - 1]!;
      process.stderr.write(`  cold ${r.coldSeconds.toFixed(2)} s, warm ${r.warmSeconds.toFixed(2)} s\n`);
    }
  } finally {
    await admin.disconnect();
    await env?.stop();
  }
  console.log(`\nKafka exporter collection, ${PARTITIONS_PER_TOPIC} partitions per topic, one group per topic, every partition lagging (${process.env['BENCH_KAFKA_BROKERS'] ? 'external cluster' : '1 local Kafka node'}; Node ${process.version})`);
  console.log('\n| groups | partitions | cold collect (s) | warm collect (s, median) | render /metrics (s) | series | exporter heap (MB) | process RSS (MB) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.groups} | ${r.partitions} | ${r.coldSeconds.toFixed(2)} | ${r.warmSeconds.toFixed(2)} | ${r.renderSeconds.toFixed(3)} | ${r.series} | ${r.heapMb.toFixed(1)} | ${r.rssMb.toFixed(0)} |`,
    );
  }
  if (stoppedBy) console.log(`\nStopped early: ${stoppedBy}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
