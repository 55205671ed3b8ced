/**
 * CPU-time micro-benchmark of the messaging instrumentation: µs of CPU per message, no broker.
 *
 * Each mode and path runs in a process of its own (bench/micro-worker.ts: the SDK, its context
 * manager and the contrib patches are process-wide, and paths sharing a process charge each other
 * for JIT and GC work), under --single-threaded-gc (process.cpuUsage counts every thread, and
 * parallel GC threads on 2 shared cores made single figures swing) and
 * --no-allocation-site-pretenuring (V8 decides per process, from how many objects of an allocation
 * site survive a young-generation collection early on, to allocate that site's objects in the old
 * generation; on the eachBatch path, with eda-harness's wrapper, some processes measured 0.65-0.75
 * µs per message with 7 old-generation collections and others 0.40-0.47 with 1-2; with the flag,
 * 0.39-0.42 every time; `none`, `sdk`, eachMessage, produce and consume + ack gave the same figures
 * with or without it, 2026-12-04; see bench/README.md, round 7); modes interleaved per round
 * in a rotating order. Every worker reports the median of its repetitions and this prints the
 * median over rounds, with ratios of figures measured in this one run. BENCH_MICRO_SHARED=1 runs
 * all paths of a mode in one process, as the earlier rounds did. The clients are in-memory fakes that only drive the wrapped
 * functions: the figures are the instrumentation's CPU cost plus a fixed driver cost, shown as the
 * `none` column and subtracted in the "cost" columns.
 *
 * Env: BENCH_MICRO_ROUNDS (3), BENCH_MICRO_MESSAGES (10000 per repetition), BENCH_MICRO_REPS (3),
 * BENCH_MICRO_MODES (comma list), BENCH_MICRO_PATHS (comma list), BENCH_MICRO_JSON (write results).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { MICRO_MODES, PATHS, median, rotated, selected } from './modes';
import type { Mode, PathName } from './modes';

const modes = selected('BENCH_MICRO_MODES', MICRO_MODES);
const ROUNDS = Number(process.env['BENCH_MICRO_ROUNDS'] ?? 3);
const worker = join(__dirname, 'micro-worker.js');

const shared = process.env['BENCH_MICRO_SHARED'] === '1';
const selectedPaths = selected('BENCH_MICRO_PATHS', PATHS);
/** The path lists of one mode's processes: every path alone, or all in one process. */
const groups: (readonly PathName[])[] = shared ? [selectedPaths] : selectedPaths.map((p) => [p]);

const results = new Map<Mode, Map<string, number[]>>();
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of rotated(modes, round)) {
    for (const group of groups) {
      const env = { ...process.env, BENCH_MICRO_PATHS: group.join(',') };
      const out = execFileSync(process.execPath, ['--single-threaded-gc', '--no-allocation-site-pretenuring', worker, mode], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] });
      const line = out.trim().split('\n').pop() ?? '{}';
      const parsed = JSON.parse(line) as { us: Record<string, number> };
      let byPath = results.get(mode);
      if (!byPath) results.set(mode, (byPath = new Map()));
      for (const [p, v] of Object.entries(parsed.us)) {
        let list = byPath.get(p);
        if (!list) byPath.set(p, (list = []));
        list.push(v);
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${mode}: ${Object.entries(parsed.us).map(([p, v]) => `${p}=${v.toFixed(2)}`).join(' ')}\n`);
    }
  }
}

const us = (mode: Mode, path: string): number | undefined => {
  const list = results.get(mode)?.get(path);
  return list && list.length ? median(list) : undefined;
};
const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const cost = (mode: Mode, path: string): number | undefined => {
  const a = us(mode, path);
  const base = us('none', path);
  return a === undefined || base === undefined ? undefined : a - base;
};
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b <= 0 ? undefined : a / b);

const paths = PATHS.filter((p) => modes.some((m) => results.get(m)?.has(p)));
console.log(`\nmicro-benchmark ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${ROUNDS} rounds, ${shared ? 'all paths of a mode in one process' : 'one process per mode and path'}`);
console.log('\nµs of CPU per message (median over rounds; none = the fake driver alone):\n');
console.log(`| path | ${modes.join(' | ')} |`);
console.log(`|---|${modes.map(() => '---').join('|')}|`);
for (const p of paths) console.log(`| ${p} | ${modes.map((m) => fmt(us(m, p))).join(' | ')} |`);

console.log('\nInstrumentation cost (µs above none) and ratios from this run:\n');
console.log('| path | eda | eda unsampled parent | eda unsampled + followParentSampling | eda ratio 1 % | contrib | contrib + metrics | eda / contrib+metrics | eda / contrib | unsampled / eda | unsampled-skip / eda | ratio 1 % / eda |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const p of paths) {
  const e = cost('eda', p);
  const row = [cost('eda', p), cost('eda-unsampled', p), cost('eda-unsampled-skip', p), cost('eda-ratio', p), cost('contrib', p), cost('contrib-metrics', p)].map((x) => fmt(x));
  const ratios = [ratio(e, cost('contrib-metrics', p)), ratio(e, cost('contrib', p)), ratio(cost('eda-unsampled', p), e), ratio(cost('eda-unsampled-skip', p), e), ratio(cost('eda-ratio', p), e)].map((x) => fmt(x));
  console.log(`| ${p} | ${[...row, ...ratios].join(' | ')} |`);
}

if (modes.includes('floor')) {
  // What one SDK span per message costs with nothing else (bench/floor-instrumentation.ts): an aim
  // of eda / contrib below floor / contrib is out of reach of any span-per-message instrumentation.
  console.log('\nThe floor (one SDK span and W3C propagation per message, nothing else), from this run:\n');
  console.log('| path | floor | eda | contrib + metrics | floor / contrib+metrics | eda / floor | eda above floor |');
  console.log('|---|---|---|---|---|---|---|');
  for (const p of paths) {
    const f = cost('floor', p);
    const e = cost('eda', p);
    const c = cost('contrib-metrics', p);
    const above = e === undefined || f === undefined ? undefined : e - f;
    console.log(`| ${p} | ${[f, e, c, ratio(f, c), ratio(e, f), above].map((x) => fmt(x)).join(' | ')} |`);
  }
}

const json = process.env['BENCH_MICRO_JSON'];
if (json) {
  const out: Record<string, Record<string, number | undefined>> = {};
  for (const m of modes) {
    out[m] = {};
    for (const p of paths) (out[m] as Record<string, number | undefined>)[p as PathName] = us(m, p);
  }
  writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, load: loadavg(), shared, us: out }, null, 2));
}
