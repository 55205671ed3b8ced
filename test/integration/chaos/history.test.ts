import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosReport, InvariantResult } from '../../../chaos/index';

/**
 * The history is complete enough to re-check: `eda-harness chaos run` runs a short real scenario
 * (kafka-latency: one Kafka, Toxiproxy, 300 ms latency for 2 s) and writes its history beside the
 * reports; `eda-harness chaos check` on that file, through the built CLI as a user runs it, gives
 * the verdicts the run reported; the same history with one delivery of an acknowledged message
 * removed fails no-loss, naming that message.
 */

const CLI = join(__dirname, '..', '..', '..', 'cli', 'bin', 'eda-harness.js');

interface Cli {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[], timeoutMs: number): Promise<Cli> {
  return new Promise((resolve) => {
    // execFile ends the child it started (by its own handle) when the timeout passes.
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface CheckJson {
  readonly passed: boolean;
  readonly histories: readonly { readonly scenario: string; readonly passed: boolean; readonly invariants: readonly InvariantResult[]; readonly counts: Record<string, number> }[];
}

let dir: string;
beforeAll(() => {
  if (!existsSync(join(__dirname, '..', '..', '..', 'cli', 'dist', 'main.js'))) throw new Error('cli/dist is missing: run `npm run -s build` first');
  dir = mkdtempSync(join(tmpdir(), 'chaos-history-it-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('chaos check re-computes the run verdicts from the saved history, and a history with a delivery removed fails no-loss naming the message', async () => {
  const reportDir = join(dir, 'out');
  const run = await cli(['chaos', 'run', 'kafka-latency', '--warmup', '1', '--fault', '2', '--recovery', '2', '--report-dir', reportDir, '--json'], 150_000);
  if (run.code !== 0 && run.code !== 1) throw new Error(`chaos run exited ${run.code}:\n${run.stderr}`);
  const report = JSON.parse(run.stdout) as ChaosReport;
  const scenario = report.scenarios[0]!;
  const historyPath = join(reportDir, 'kafka-latency.history.jsonl');
  expect(scenario.history).toBe(historyPath);
  expect(scenario.counts.acked).toBeGreaterThan(20);

  // Every send and delivery the report counts is a line of the history.
  const lines = readFileSync(historyPath, 'utf8').trimEnd().split('\n');
  const records = lines.map((l) => JSON.parse(l) as { type: string; id?: string; t: number; partition?: number; offset?: string });
  const count = (type: string) => records.filter((r) => r.type === type).length;
  expect([count('send'), count('send-ack'), count('delivery')]).toEqual([scenario.counts.sent, scenario.counts.acked, scenario.counts.deliveries]);
  expect([count('fault-start'), count('fault-end'), count('scenario-end')]).toEqual([1, 1, 1]);
  expect(records.find((r) => r.type === 'send-ack')).toMatchObject({ partition: expect.any(Number), offset: expect.any(String) });

  const started = Date.now();
  const check = await cli(['chaos', 'check', '--json', historyPath], 30_000);
  const checkMs = Date.now() - started;
  expect(check.code).toBe(run.code);
  const checked = JSON.parse(check.stdout) as CheckJson;
  expect(checked.histories[0]!.invariants).toEqual(scenario.invariants);
  expect(checked.histories[0]!.counts).toEqual(scenario.counts);
  expect(checked.passed).toBe(report.passed);
  // Shown by --verbose runs: what a re-check costs.
  console.log(`history: ${lines.length} lines, ${readFileSync(historyPath).length} bytes; chaos check took ${checkMs} ms (process start included)`);

  // Remove the only delivery of one acknowledged message, in a copy.
  const acked = new Set(records.filter((r) => r.type === 'send-ack').map((r) => r.id));
  const deliveries = new Map<string, number>();
  for (const r of records) if (r.type === 'delivery' && r.id) deliveries.set(r.id, (deliveries.get(r.id) ?? 0) + 1);
  const victim = [...acked].find((id) => id !== undefined && deliveries.get(id) === 1)!;
  expect(victim).toBeDefined();
  const edited = join(dir, 'edited.history.jsonl');
  writeFileSync(edited, `${lines.filter((_, i) => !(records[i]!.type === 'delivery' && records[i]!.id === victim)).join('\n')}\n`);
  expect(readFileSync(edited, 'utf8').split('\n').length).toBe(lines.length);

  const after = await cli(['chaos', 'check', edited], 30_000);
  expect(after.code).toBe(1);
  expect(after.stdout).toContain(`✗ no acknowledged message lost: 1 of ${scenario.counts.acked} acknowledged messages were never consumed`);
  expect(after.stdout).toMatch(new RegExp(`^ {10}- ${victim} \\(key k\\d, seq \\d+, sent at \\+\\d+ ms\\)$`, 'm'));
  // The run's own no-loss verdict (a pass, unless the broker really lost something) is named as changed.
  if (scenario.invariants[0]!.passed) expect(after.stdout).toContain('≠ no acknowledged message lost: the run said PASS, this history now says FAIL');
}, 180_000);

it('chaos run --service runs a team service (the reference inventory, a process) through the CLI: it passes, the reports name the service and version, and chaos check agrees', async () => {
  const config = join(__dirname, '..', '..', '..', 'examples', 'dist', 'chaos', 'reference.chaos.config.js');
  const reportDir = join(dir, 'service');
  const run = await cli(['chaos', 'run', '--service', config, 'reference-inventory-service-kill', '--warmup', '2', '--fault', '6', '--recovery', '3', '--report-dir', reportDir, '--json'], 150_000);
  if (run.code !== 0) throw new Error(`chaos run --service exited ${run.code}:\n${run.stderr}\n${run.stdout.slice(0, 4000)}`);
  const report = JSON.parse(run.stdout) as ChaosReport & { service?: { name: string; version: string } };
  const service = report.service!;
  expect(service.name).toMatch(/inventory/);
  expect(service.version).not.toBe('');
  expect(report.scenarios.map((s) => [s.name, s.passed])).toEqual([[`${service.name}-service-kill`, true]]);
  // The whole service down paged: the alert pack ran for it, and its page is re-checked from the history too.
  expect(report.scenarios[0]!.invariants.find((i) => i.name.startsWith('alert KafkaConsumerLagSecondsHigh'))?.passed).toBe(true);
  const html = readFileSync(join(reportDir, 'chaos-report.html'), 'utf8');
  expect(html).toContain(`Service under test: <strong class="service">${service.name} ${service.version}</strong>`);
  const check = await cli(['chaos', 'check', join(reportDir, `${service.name}-service-kill.history.jsonl`), '--json'], 30_000);
  expect(check.code).toBe(0);
  expect((JSON.parse(check.stdout) as CheckJson).histories[0]!.invariants).toEqual(report.scenarios[0]!.invariants);
}, 180_000);
