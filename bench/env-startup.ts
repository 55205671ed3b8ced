/**
 * How long `env up` takes: one Kafka node + RabbitMQ (+ Toxiproxy), and three Kafka nodes, cold
 * (empty eda-harness cache, empty Maven repository and Go module cache, so Kafka's jars are
 * downloaded and Toxiproxy is built) and warm (caches filled). Debian packages are not removed
 * for the cold run: an apt install is measured only when they are missing.
 *
 *   npm run bench:env-startup            # cold once, warm 3× each
 *   BENCH_RUNS=5 BENCH_SKIP_COLD=1 npm run bench:env-startup
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '@eda-harness/environment';
import { silentProgress } from '@eda-harness/core';

interface Row {
  readonly scenario: string;
  readonly mode: 'cold' | 'warm';
  readonly seconds: number[];
}

async function timeUp(build: () => Environment): Promise<number> {
  const started = process.hrtime.bigint();
  const env = await build().withProgress(silentProgress).start();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await env.stop();
  return seconds;
}

const single = (): Environment => new Environment().withProvider('native').withKafka({ nodes: 1 }).withRabbitMq().withToxiproxy();
const cluster = (): Environment => new Environment().withProvider('native').withKafka({ nodes: 3 }).withToxiproxy();

async function main(): Promise<void> {
  const runs = Number(process.env['BENCH_RUNS'] ?? 3);
  const rows: Row[] = [];
  if (process.env['BENCH_SKIP_COLD'] !== '1') {
    const scratch = mkdtempSync(join(tmpdir(), 'eda-bench-cold-'));
    const saved = { ...process.env };
    process.env['EDA_HARNESS_CACHE'] = join(scratch, 'cache');
    process.env['MAVEN_OPTS'] = `${process.env['MAVEN_OPTS'] ?? ''} -Dmaven.repo.local=${join(scratch, 'm2')}`.trim();
    process.env['GOMODCACHE'] = join(scratch, 'gomod');
    process.env['GOCACHE'] = join(scratch, 'gocache');
    try {
      process.stderr.write('cold: 1 Kafka + RabbitMQ + Toxiproxy (downloads Kafka, builds Toxiproxy)…\n');
      rows.push({ scenario: '1 Kafka node + RabbitMQ + Toxiproxy', mode: 'cold', seconds: [await timeUp(single)] });
    } finally {
      for (const k of ['EDA_HARNESS_CACHE', 'MAVEN_OPTS', 'GOMODCACHE', 'GOCACHE']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      // Go's module cache is read-only on disk; make it removable first.
      rmSync(scratch, { recursive: true, force: true, maxRetries: 2 });
    }
  }
  for (const [scenario, build] of [
    ['1 Kafka node + RabbitMQ + Toxiproxy', single],
    ['3 Kafka nodes + Toxiproxy', cluster],
  ] as const) {
    const seconds: number[] = [];
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`warm: ${scenario}, run ${i + 1}/${runs}…\n`);
      seconds.push(await timeUp(build));
    }
    rows.push({ scenario, mode: 'warm', seconds });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  console.log('\n| scenario | mode | runs | median (s) | min (s) | max (s) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.mode} | ${r.seconds.length} | ${median(r.seconds).toFixed(1)} | ${Math.min(...r.seconds).toFixed(1)} | ${Math.max(...r.seconds).toFixed(1)} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
