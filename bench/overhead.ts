/**
 * Throughput cost of instrumentation, side by side in one run on the same real brokers:
 * (a) none, (b) eda-harness, (c) the OpenTelemetry contrib instrumentations, each with spans
 * sampled at 100 %. Modes alternate over rounds so drift on a busy machine hits all of them alike;
 * the table shows medians and ratios against no instrumentation.
 *
 *   npm run bench:overhead                 # BENCH_ROUNDS=3 BENCH_MESSAGES=10000 by default
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Environment } from '@eda-harness/environment';

const run = promisify(execFile);
type Mode = 'none' | 'eda' | 'contrib';
type Figures = { kafkaProduce: number; kafkaConsume: number; amqpPublish: number; amqpConsume: number; spans: number };

async function main(): Promise<void> {
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const env = await new Environment().withProvider('native').withKafka().withRabbitMq().withToxiproxy(false).start();
  const results: Record<Mode, Figures[]> = { none: [], eda: [], contrib: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['none', 'eda', 'contrib'] as const) {
        process.stderr.write(`round ${r + 1}/${rounds}: ${mode}…\n`);
        const { stdout } = await run('node', [join(__dirname, 'overhead-worker.js'), mode, env.getKafkaBrokers().join(','), env.getAmqpUrl()], {
          env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
          timeout: 600_000,
          maxBuffer: 10_000_000,
        });
        const line = stdout.trim().split('\n').pop() ?? '{}';
        results[mode].push(JSON.parse(line) as Figures);
      }
    }
  } finally {
    await env.stop();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const metric = (m: Mode, k: keyof Figures): number => median(results[m].map((f) => f[k]));
  console.log(`\nmessages per run: ${process.env['BENCH_MESSAGES'] ?? 10_000}, rounds: ${rounds}, spans sampled: 100 %\n`);
  console.log('| path | none (msg/s) | eda-harness (msg/s) | contrib (msg/s) | eda / none | contrib / none | eda / contrib |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [label, key] of [
    ['Kafka produce (1 message per send, 32 in flight)', 'kafkaProduce'],
    ['Kafka consume (eachMessage)', 'kafkaConsume'],
    ['AMQP publish (sendToQueue)', 'amqpPublish'],
    ['AMQP consume (consume + ack, prefetch 200)', 'amqpConsume'],
  ] as const) {
    const n = metric('none', key);
    const e = metric('eda', key);
    const c = metric('contrib', key);
    console.log(`| ${label} | ${n.toFixed(0)} | ${e.toFixed(0)} | ${c.toFixed(0)} | ${(e / n).toFixed(2)} | ${(c / n).toFixed(2)} | ${(e / c).toFixed(2)} |`);
  }
  console.log(`\nspans exported per run: eda ${metric('eda', 'spans')}, contrib ${metric('contrib', 'spans')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
