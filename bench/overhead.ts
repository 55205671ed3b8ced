/**
 * Throughput cost of instrumentation on real brokers, every mode side by side in one run: the
 * modes of the micro-benchmark (none, SDK only, eda-harness at 100 %, with unsampled parents with
 * and without followParentSampling, at a 1 % root ratio, contrib without and with an SDK
 * MeterProvider; bench/mode-setup.ts) on six paths (Kafka produce, eachMessage, eachBatch; AMQP
 * publish, confirm publish, consume + ack; bench/overhead-worker.ts). Each mode runs in its own
 * process, modes alternating per round in a rotating order so drift on a busy machine hits all of
 * them alike; the tables show medians over rounds and ratios of figures from this one run.
 *
 *   npm run bench:overhead
 *
 * Env: BENCH_ROUNDS (3), BENCH_MESSAGES (10000 per path and run), BENCH_MODES (comma list),
 * BENCH_PATHS (comma list), BENCH_JSON (write the raw figures to this file).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Environment } from '@eda-harness/environment';
import { ALL_MODES, PATHS, median, rotated, selected } from './modes';
import type { Mode, PathName } from './modes';

const run = promisify(execFile);
type Figures = { mode: Mode; msgPerSec: Partial<Record<PathName, number>>; spans: number; traceparent: Record<string, string> };

const LABELS: Record<PathName, string> = {
  'kafka.produce': 'Kafka produce (1 message per send, 32 in flight)',
  'kafka.eachMessage': 'Kafka consume (eachMessage)',
  'kafka.eachBatch': 'Kafka consume (eachBatch)',
  'amqp.publish': 'AMQP publish (sendToQueue)',
  'amqp.publishConfirm': 'AMQP confirm publish (publish + confirm)',
  'amqp.consumeAck': 'AMQP consume (consume + ack, prefetch 200)',
};
const CONSUME_PATHS: readonly PathName[] = ['kafka.eachMessage', 'kafka.eachBatch', 'amqp.consumeAck'];

async function main(): Promise<void> {
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const messages = Number(process.env['BENCH_MESSAGES'] ?? 10_000);
  const consumeMessages = Number(process.env['BENCH_CONSUME_MESSAGES'] ?? messages * 5);
  const modes = selected('BENCH_MODES', ALL_MODES);
  const paths = selected('BENCH_PATHS', PATHS);
  // Node options for the workers only (NODE_OPTIONS refuses some, --cpu-prof among them).
  const workerNodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const usesKafka = paths.some((p) => p.startsWith('kafka.'));
  const usesAmqp = paths.some((p) => p.startsWith('amqp.'));
  let env = new Environment().withProvider('native').withToxiproxy(false);
  if (usesKafka) env = env.withKafka();
  if (usesAmqp) env = env.withRabbitMq();
  const started = await env.start();
  const runs: Figures[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of rotated(modes, r)) {
        const args = [...workerNodeArgs, join(__dirname, 'overhead-worker.js'), mode, usesKafka ? started.getKafkaBrokers().join(',') : '', usesAmqp ? started.getAmqpUrl() : ''];
        const { stdout } = await run(process.execPath, args, {
          env: { ...process.env, BENCH_PATHS: paths.join(','), KAFKAJS_NO_PARTITIONER_WARNING: '1' },
          timeout: 600_000,
          maxBuffer: 10_000_000,
        });
        const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Figures;
        runs.push(figures);
        const rates = Object.entries(figures.msgPerSec).map(([p, v]) => `${p}=${v.toFixed(0)}`);
        const parents = Object.entries(figures.traceparent).map(([p, tp]) => `${p}:${tp ? tp.slice(-2) : 'none'}`);
        process.stderr.write(`round ${r + 1}/${rounds} ${mode}: ${rates.join(' ')} spans=${figures.spans} consumed-parent-flags ${parents.join(' ')}\n`);
      }
    }
  } finally {
    await started.stop();
  }

  const rate = (mode: Mode, path: PathName): number | undefined => {
    const xs = runs.filter((f) => f.mode === mode).flatMap((f) => (f.msgPerSec[path] === undefined ? [] : [f.msgPerSec[path] as number]));
    return xs.length ? median(xs) : undefined;
  };
  const ratio = (a: Mode, b: Mode, path: PathName): number | undefined => {
    const x = rate(a, path);
    const y = rate(b, path);
    return x === undefined || y === undefined || y <= 0 ? undefined : x / y;
  };
  const fmt = (x: number | undefined, digits: number): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));

  console.log(`\nbroker benchmark ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${messages} messages per send path and ${consumeMessages} per consume path and run, ${rounds} rounds, modes ${modes.join(', ')}`);
  console.log('\nmsg/s (median over rounds):\n');
  console.log(`| path | ${modes.join(' | ')} |`);
  console.log(`|---|${modes.map(() => '---').join('|')}|`);
  for (const p of paths) console.log(`| ${LABELS[p]} | ${modes.map((m) => fmt(rate(m, p), 0)).join(' | ')} |`);

  const vsNone = modes.filter((m) => m !== 'none');
  console.log('\nRatios from this run (throughput; higher is better for the first mode):\n');
  console.log(`| path | ${vsNone.map((m) => `${m} / none`).join(' | ')} | eda / contrib-metrics | eda / contrib |`);
  console.log(`|---|${[...vsNone, 'a', 'b'].map(() => '---').join('|')}|`);
  for (const p of paths) {
    const cells = [...vsNone.map((m) => ratio(m, 'none', p)), ratio('eda', 'contrib-metrics', p), ratio('eda', 'contrib', p)];
    console.log(`| ${LABELS[p]} | ${cells.map((x) => fmt(x, 2)).join(' | ')} |`);
  }

  console.log("\nAgainst issue 11's aims (this run):\n");
  console.log('| path | aim | figure | met |');
  console.log('|---|---|---|---|');
  const aim = (p: PathName, text: string, x: number | undefined, target: number | undefined): void => {
    const met = x === undefined || target === undefined ? '–' : x >= target ? 'yes' : `no (${((1 - x / target) * 100).toFixed(1)} % short)`;
    console.log(`| ${LABELS[p]} | ${text} | ${fmt(x, 3)} | ${met} |`);
  };
  for (const p of paths.filter((q) => CONSUME_PATHS.includes(q))) {
    aim(p, 'eda-unsampled-skip / none ≥ 0.90', ratio('eda-unsampled-skip', 'none', p), 0.9);
    aim(p, 'eda-unsampled / none (stated, no aim)', ratio('eda-unsampled', 'none', p), undefined);
    // Against the SDK alone: on Node 20 an AsyncLocalStorage that has run once (any context.with)
    // hooks every promise of the process, which `sdk / none` shows; this is the instrumentation's share.
    aim(p, 'eda-unsampled-skip / sdk (stated, no aim)', ratio('eda-unsampled-skip', 'sdk', p), undefined);
  }
  for (const p of paths) aim(p, 'eda / contrib-metrics ≥ 1.5', ratio('eda', 'contrib-metrics', p), 1.5);

  const spans = modes.map((m) => `${m} ${fmt(median(runs.filter((f) => f.mode === m).map((f) => f.spans)), 0)}`);
  console.log(`\nspans exported per run (median): ${spans.join(', ')}`);

  const json = process.env['BENCH_JSON'];
  if (json) {
    const medians: Record<string, Record<string, number | undefined>> = {};
    for (const m of modes) medians[m] = Object.fromEntries(paths.map((p) => [p, rate(m, p)]));
    writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, load: loadavg(), rounds, messages, consumeMessages, modes, paths, medians, runs }, null, 2));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
