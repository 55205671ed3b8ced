#!/usr/bin/env node
// Runs the integration project in lanes, so a CI run's wall time is not the sum of every file's
// waits on brokers, timers and alert windows:
//   1. test/integration/package/pack.test.ts alone first: it deletes and rebuilds every package's
//      dist, which the other files' CLI runs read (and Jest's global setup provisions the brokers
//      here, once, before any lane starts);
//   2. then two Jest processes at once, each running its files one by one: the chaos files in one
//      lane, everything else in the other. Each lane starts its own brokers on its own ports, has
//      its own pid ledger (its global teardown proves none of its processes outlived it).
// `EDA_TEST_LANES=1` runs everything in one Jest process, one file at a time, as before; so do
// extra arguments (`node scripts/test-integration.mjs test/integration/chaos/history.test.ts`).
// Lines are streamed with the lane's name in front; each lane's summary is printed again at the end
// without it, so `.ci/run` finds every "Tests:" line. Exits non-zero when any lane failed.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const common = ['--selectProjects', 'integration', '--runInBand', '--forceExit'];
const PACK = 'test/integration/package/pack.test.ts';
// The chaos lane also takes the two cluster-fault environment files and the Jaeger ones, which
// balances the lanes (measured in one CI run: chaos 884 s, the rest 1,154 s before the cluster
// files moved; the Jaeger files add about 55 s, the demo's whole picture about 30 s to the rest).
const CHAOS = ['test/integration/chaos/', 'test/integration/environment/(rabbitmq-cluster|kafka-replication-proxy|jaeger|jaeger-failures)\\.test'];

const laneCount = Number(process.env.EDA_TEST_LANES ?? '2');
if (!Number.isInteger(laneCount) || laneCount < 1 || laneCount > 2) {
  console.error(`EDA_TEST_LANES must be 1 or 2 (got "${process.env.EDA_TEST_LANES}")`);
  process.exit(2);
}
const extra = process.argv.slice(2);

/** Runs Jest with `args`; streams its lines prefixed with `[name]`; resolves with its exit code and summary lines. */
function lane(name, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [jest, ...common, ...args, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const summary = [];
    // Each failed test's first lines (Jest's "  ● suite › test" block), printed again at the end:
    // a CI log that keeps only its tail still says which test failed and why.
    const failures = [];
    let failureLines = 0;
    let inSummary = false;
    const pending = { stdout: '', stderr: '' };
    const onLine = (line, stream) => {
      if (/^(Test Suites|Slowest test files):/.test(line)) inSummary = true;
      if (inSummary) summary.push(line);
      if (/^Ran all test suites/.test(line)) inSummary = false;
      if (/^\s+● /.test(line)) failureLines = /^\s+● Console$/.test(line) ? 0 : 30;
      if (/^(PASS|FAIL) |^(Slowest test files|Test Suites|Summary of all failing tests)/.test(line)) {
        failureLines = 0;
        if (line.startsWith('FAIL ')) failures.push(line);
      }
      if (failureLines > 0 && failures.length < 400) {
        failures.push(line);
        failureLines -= 1;
      }
      stream.write(`[${name}] ${line}\n`);
    };
    for (const key of ['stdout', 'stderr']) {
      child[key].setEncoding('utf8');
      child[key].on('data', (chunk) => {
        const lines = (pending[key] + chunk).split('\n');
        pending[key] = lines.pop();
        for (const l of lines) onLine(l, process[key]);
      });
    }
    child.on('close', (code, signal) => {
      for (const key of ['stdout', 'stderr']) if (pending[key]) onLine(pending[key], process[key]);
      const seconds = Math.round((Date.now() - started) / 1000);
      resolve({ name, code: code ?? (signal ? 1 : 0), signal, seconds, summary, failures });
    });
  });
}

const overall = Date.now();
let results;
if (laneCount === 1 || extra.length > 0) {
  // Arguments (a file, a pattern) select files: run them in one lane.
  results = [await lane('integration', [])];
} else {
  console.log(`== integration: ${PACK} first (it rebuilds every dist), then two lanes at once: chaos and the rest`);
  const first = await lane('pack', [PACK]);
  const [chaos, rest] = await Promise.all([
    lane('chaos', CHAOS),
    lane('rest', ['--testPathIgnorePatterns', '/node_modules/', ...CHAOS, PACK]),
  ]);
  results = [first, chaos, rest];
}

console.log('\n== integration lanes');
for (const r of results) {
  console.log(`-- lane ${r.name}: ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`} in ${r.seconds} s`);
  for (const line of r.summary) console.log(line);
  if (r.failures.length > 0) {
    console.log(`-- what failed in lane ${r.name} (each failure's first lines)`);
    for (const line of r.failures) console.log(line);
  }
}
console.log(`== integration finished in ${Math.round((Date.now() - overall) / 1000)} s`);
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
