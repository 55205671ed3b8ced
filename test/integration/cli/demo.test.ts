import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '../../../core/wait-for';
import { isAlive } from '../../../environment/managed-process';

/**
 * `npm start` is the demo: real brokers, the reference system under traffic, a live summary and a
 * trace across the three services. Ctrl-C (SIGINT) must tear everything down and exit 0.
 */
it('runs the reference system, prints the live summary and a cross-service trace, and stops cleanly on Ctrl-C', async () => {
  const cli = join(__dirname, '..', '..', '..', 'cli', 'bin', 'eda-harness.js');
  const child = spawn('node', [cli, 'start', '--rate', '10', '--interval', '2', '--metrics-port', '0'], {
    env: { ...process.env, EDA_HARNESS_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // Two summary lines after the trace: traffic flows, and at least one poison message reached the DLQ.
    await waitFor(() => /A sample order, as one trace across the three services/.test(out) && (out.split('A sample order')[1]?.match(/^\s+\d+s\s+/gm)?.length ?? 0) >= 2, {
      description: 'the demo to print a trace and two more summary lines',
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await waitFor(() => /^\s+\d+s\s+[\d.]+\s+[\d.]+\s+.*\s+[1-9]\d*\s+\d+$/m.test(out), { description: 'a summary line with a DLQ count above 0', timeoutMs: 60_000 });
    const metricsUrl = /Metrics: (http:\/\/\S+)/.exec(out)?.[1];
    expect(metricsUrl).toBeDefined();
    const metrics = await (await fetch(metricsUrl as string)).text();
    expect(metrics).toContain('eda_message_e2e_latency_seconds_bucket');
    expect(metrics).toMatch(/eda_dlq_messages_total\{[^}]*\} [1-9]/);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(out).toContain('stopping (Ctrl-C)');
  expect(out).toContain('stopped; every process the demo started has exited.');

  const tree = out.split('A sample order, as one trace across the three services:')[1] ?? '';
  expect(tree).toMatch(/order-service: place order \(server/);
  expect(tree).toMatch(/inventory-service: process orders\.placed \(consumer/);
  expect(tree).toMatch(/notification-service: process notifications\.email \(consumer/);
  // Summary lines carry sent/s, consumed/s and three latency quantiles.
  expect(out).toMatch(/^\s+\d+s\s+\d+\.\d\s+\d+\.\d\s+[\d.]+ \/\s+[\d.]+ \/\s+[\d.]+/m);
  // Every broker pid the demo printed is gone.
  for (const m of out.matchAll(/\(pid (\d+)\)/g)) expect(isAlive(Number(m[1]))).toBe(false);
}, 240_000);
