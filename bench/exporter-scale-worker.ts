/**
 * One exporter, alone in its process, measured by bench/exporter-scale.ts (or run by hand, e.g.
 * under `node --cpu-prof`): a cold collection, warm ones with the CPU they take, the /metrics
 * render, heap and RSS. Its only input is a JSON job in BENCH_JOB; its only output is one JSON
 * line on stdout, so the RSS is the exporter's, not the bench set-up clients'.
 *
 *   BENCH_JOB='{"brokers":["127.0.0.1:9092"],"groups":["p-g00*"],"topics":["p-t00*"],"warmRuns":5}' \
 *     node --expose-gc .cache/bench-build/bench/exporter-scale-worker.js
 */
import { createExporter } from '@eda-harness/exporter';

export interface WorkerJob {
  readonly brokers: string[];
  /** Allow patterns of the groups and topics collected. */
  readonly groups: string[];
  readonly topics: string[];
  readonly warmRuns: number;
}

export interface WorkerResult {
  readonly coldSeconds: number;
  /** Wall time of each warm collection. */
  readonly warmSeconds: number[];
  /** CPU (user + system) of each warm collection, the whole process. */
  readonly warmCpuSeconds: number[];
  readonly renderSeconds: number;
  readonly series: number;
  readonly laggingPartitions: number;
  readonly partitions: number;
  readonly warnings: readonly string[];
  readonly heapMb: number;
  readonly rssMb: number;
  /** Largest RSS seen (process.resourceUsage().maxRSS). */
  readonly peakRssMb: number;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function main(): Promise<void> {
  const raw = process.env['BENCH_JOB'];
  if (!raw) throw new Error('BENCH_JOB is not set: give the job as JSON (see the header of bench/exporter-scale-worker.ts)');
  const job = JSON.parse(raw) as WorkerJob;
  const exporter = createExporter({
    config: { kafka: { brokers: job.brokers, groups: { allow: job.groups }, topics: { allow: job.topics } }, collectTimeoutSeconds: 300 },
  });
  const wall = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  try {
    const coldSeconds = await wall(() => exporter.collectNow());
    if (!exporter.health()[0]?.up || !exporter.latest.kafka) throw new Error(`cold collection failed: ${JSON.stringify(exporter.health()[0])}`);
    const warmSeconds: number[] = [];
    const warmCpuSeconds: number[] = [];
    for (let i = 0; i < job.warmRuns; i++) {
      gc();
      const cpu = process.cpuUsage();
      warmSeconds.push(await wall(() => exporter.collectNow()));
      const used = process.cpuUsage(cpu);
      warmCpuSeconds.push((used.user + used.system) / 1e6);
    }
    let text = '';
    const renderSeconds = await wall(async () => {
      text = await exporter.metrics();
    });
    const snapshot = exporter.latest.kafka!;
    text = text.length > 0 ? text : '';
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    text = '';
    gc();
    const m = process.memoryUsage();
    const result: WorkerResult = {
      coldSeconds,
      warmSeconds,
      warmCpuSeconds,
      renderSeconds,
      series,
      laggingPartitions: snapshot.partitions.filter((p) => p.lagMessages > 0).length,
      partitions: snapshot.partitions.length,
      warnings: snapshot.warnings ?? [],
      heapMb: m.heapUsed / 2 ** 20,
      rssMb: m.rss / 2 ** 20,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await exporter.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
