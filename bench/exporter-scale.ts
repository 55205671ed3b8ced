/**
 * How the exporter's Kafka collection scales: creates topics, partitions and consumer groups on
 * a three-node Kafka cluster in steps, and at each step runs one exporter alone in a child
 * process (bench/exporter-scale-worker.ts) that times a cold collection (first metadata, every
 * lagging partition's record fetched) and warm ones (what every later interval costs) with the
 * CPU each warm one takes, the /metrics render, its heap and its RSS. The set-up clients live in
 * this process, so they count in neither.
 *
 * Each group commits offsets on one topic of PARTITIONS_PER_TOPIC partitions (replication factor
 * 1, so the partitions spread over the nodes without tripling the load), a few messages behind
 * the end, so every partition is lagging and needs a record timestamp. Names are numbered so the
 * first N groups (N a multiple of 100) are selectable by glob in a cluster holding more.
 *
 *   npm run bench:exporter-scale                     # steps 200, 1000, 2000 groups × 10 partitions
 *   BENCH_STEPS=100,200 BENCH_PARTITIONS_PER_TOPIC=5 npm run bench:exporter-scale
 *   BENCH_KAFKA_BROKERS=host:9092 BENCH_PREFIX=bench-x …   # an existing cluster (and set-up) instead
 *   BENCH_HOLD=/tmp/brokers.json …                   # keep the cluster up after the steps (until SIGTERM)
 *   BENCH_WORKER_ARGS=--cpu-prof …                   # extra node flags of the measured process
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { Environment } from '@eda-harness/environment';
import type { StartedEnvironment } from '@eda-harness/environment';
import { silentProgress } from '@eda-harness/core';
import type { WorkerJob, WorkerResult } from './exporter-scale-worker';

const STEPS = (process.env['BENCH_STEPS'] ?? '200,1000,2000').split(',').map(Number);
const PARTITIONS_PER_TOPIC = Number(process.env['BENCH_PARTITIONS_PER_TOPIC'] ?? 10);
const WARM_RUNS = Number(process.env['BENCH_WARM_RUNS'] ?? 5);
const NODES = Number(process.env['BENCH_KAFKA_NODES'] ?? 3);
const HEAP = process.env['BENCH_KAFKA_HEAP'] ?? '1g';
const MESSAGES_PER_PARTITION = 3;
const PREFIX = process.env['BENCH_PREFIX'] ?? `bench-${Date.now().toString(36)}`;
/** The exporter's interval the CPU per 3 minutes is given for. */
const INTERVAL_SECONDS = 15;

for (const s of STEPS) {
  if (!Number.isInteger(s) || s <= 0 || s % 100 !== 0 || s > 9900) throw new Error(`BENCH_STEPS: each step must be a multiple of 100 up to 9900 (got ${s})`);
}

interface Row extends WorkerResult {
  readonly groups: number;
  readonly setupSeconds: number;
}

const pad = (i: number): string => String(i).padStart(4, '0');
const topicName = (i: number): string => `${PREFIX}-t${pad(i)}`;
const groupName = (i: number): string => `${PREFIX}-g${pad(i)}`;
/** Globs selecting the first `n` (a multiple of 100) names of a kind. */
const firstHundreds = (kind: 'g' | 't', n: number): string[] => Array.from({ length: n / 100 }, (_, k) => `${PREFIX}-${kind}${String(k).padStart(2, '0')}*`);

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Metadata of new topics reaches every node a moment after createTopics returns: retry a while. */
async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 20) throw err;
      process.stderr.write(`  ${what}: ${err instanceof Error ? err.message : String(err)}; retrying\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function grow(kafka: Kafka, adminClient: Admin, from: number, to: number): Promise<void> {
  const existing = new Set(await adminClient.listTopics());
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 10 } });
  await producer.connect();
  try {
    for (let start = from; start < to; start += 50) {
      const batch = Array.from({ length: Math.min(50, to - start) }, (_, k) => start + k).filter((i) => !existing.has(topicName(i)));
      if (batch.length === 0) continue;
      await adminClient.createTopics({
        topics: batch.map((i) => ({ topic: topicName(i), numPartitions: PARTITIONS_PER_TOPIC, replicationFactor: 1 })),
        waitForLeaders: true,
      });
      await retrying('produce', () => producer.sendBatch({
        topicMessages: batch.map((i) => ({
          topic: topicName(i),
          messages: Array.from({ length: PARTITIONS_PER_TOPIC * MESSAGES_PER_PARTITION }, (_, m) => ({ value: 'x', partition: m % PARTITIONS_PER_TOPIC })),
        })),
      }));
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
      if ((start / 50) % 10 === 9) process.stderr.write(`  ${start + batch.length} topics\n`);
    }
  } finally {
    await producer.disconnect();
  }
}

/** Runs the worker on the first `groups` groups and returns what it measured. */
function measure(brokers: string[], groups: number): Promise<WorkerResult> {
  const job: WorkerJob = { brokers, groups: firstHundreds('g', groups), topics: firstHundreds('t', groups), warmRuns: WARM_RUNS };
  const extra = (process.env['BENCH_WORKER_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...extra, join(__dirname, 'exporter-scale-worker.js')], {
      env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') reject(new Error(`the exporter worker exited with ${String(code)}: ${out}`));
      else resolve(JSON.parse(line) as WorkerResult);
    });
  });
}

async function main(): Promise<void> {
  let env: StartedEnvironment | undefined;
  const external = process.env['BENCH_KAFKA_BROKERS'];
  if (!external) {
    process.stderr.write(`starting ${NODES} local Kafka nodes (heap ${HEAP} each)…\n`);
    env = await new Environment().withProvider('native').withKafka({ nodes: NODES, heap: HEAP }).withToxiproxy(false).withProgress(silentProgress).start();
  }
  const brokers = external ? external.split(',') : env!.getKafkaBrokers();
  process.stderr.write(`brokers ${brokers.join(',')}, prefix ${PREFIX}\n`);
  const kafka = new Kafka({ clientId: 'bench-exporter-scale', brokers, logLevel: logLevel.NOTHING, requestTimeout: 60_000, retry: { retries: 10 } });
  const admin = kafka.admin();
  await admin.connect();
  const rows: Row[] = [];
  let stoppedBy: string | undefined;
  try {
    let have = 0;
    for (const groups of STEPS) {
      process.stderr.write(`creating up to ${groups - have} more topics × ${PARTITIONS_PER_TOPIC} partitions and groups…\n`);
      const t = Date.now();
      try {
        await grow(kafka, admin, have, groups);
      } catch (err) {
        stoppedBy = `setup of ${groups} groups failed: ${err instanceof Error ? err.message : String(err)}`;
        process.stderr.write(`${stoppedBy}\n`);
        break;
      }
      have = groups;
      const setupSeconds = (Date.now() - t) / 1000;
      process.stderr.write(`measuring ${groups} groups / ${groups * PARTITIONS_PER_TOPIC} partitions…\n`);
      const r: Row = { groups, setupSeconds, ...(await measure(brokers, groups)) };
      rows.push(r);
      if (r.laggingPartitions !== groups * PARTITIONS_PER_TOPIC) process.stderr.write(`warning: ${r.laggingPartitions} lagging partitions, expected ${groups * PARTITIONS_PER_TOPIC}\n`);
      for (const w of r.warnings) process.stderr.write(`  exporter warning: ${w}\n`);
      process.stderr.write(`  cold ${r.coldSeconds.toFixed(2)} s, warm ${median(r.warmSeconds).toFixed(2)} s, CPU ${median(r.warmCpuSeconds).toFixed(3)} s per warm collection, RSS ${r.rssMb.toFixed(0)} MB\n`);
    }
    const hold = process.env['BENCH_HOLD'];
    if (hold) {
      writeFileSync(hold, JSON.stringify({ brokers, prefix: PREFIX, groups: have }));
      process.stderr.write(`holding the cluster (brokers in ${hold}); SIGTERM to stop it\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
    }
  } finally {
    await admin.disconnect();
    await env?.stop();
  }
  const where = external ? 'external cluster' : `${NODES} local Kafka nodes, replication factor 1`;
  console.log(`\nKafka exporter collection, ${PARTITIONS_PER_TOPIC} partitions per topic, one group per topic, every partition lagging (${where}; exporter alone in a child process; Node ${process.version}; ${new Date().toISOString().slice(0, 10)})`);
  console.log(
    `\n| groups | partitions | cold collect (s) | warm collect (s, median) | CPU per warm collect (s, median) | CPU per 3 min at ${INTERVAL_SECONDS} s (s) | render /metrics (s) | series | exporter heap (MB) | exporter RSS (MB) | peak RSS (MB) |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const cpu = median(r.warmCpuSeconds);
    console.log(
      `| ${r.groups} | ${r.partitions} | ${r.coldSeconds.toFixed(2)} | ${median(r.warmSeconds).toFixed(2)} | ${cpu.toFixed(3)} | ${(cpu * (180 / INTERVAL_SECONDS)).toFixed(2)} | ${r.renderSeconds.toFixed(3)} | ${r.series} | ${r.heapMb.toFixed(1)} | ${r.rssMb.toFixed(0)} | ${r.peakRssMb.toFixed(0)} |`,
    );
  }
  if (rows.length >= 2) {
    const a = rows[0]!;
    const b = rows[rows.length - 1]!;
    const k = b.partitions / a.partitions;
    console.log(
      `\n${b.partitions} vs ${a.partitions} partitions (×${k.toFixed(1)}): warm collect ×${(median(b.warmSeconds) / median(a.warmSeconds)).toFixed(1)}, CPU ×${(median(b.warmCpuSeconds) / median(a.warmCpuSeconds)).toFixed(1)}, heap ×${(b.heapMb / a.heapMb).toFixed(1)}, RSS ×${(b.rssMb / a.rssMb).toFixed(1)}`,
    );
  }
  if (stoppedBy) console.log(`\nStopped early: ${stoppedBy}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
