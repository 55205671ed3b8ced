import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../core/wait-for';
import { isAlive, readPidLedger } from '../../../environment/managed-process';
import { jaegerQuery, type TraceSpan } from '../../../environment/jaeger-query';
import { ensureChromium } from '../../../environment/provision';
import { decodePng, pixelStats } from '../../support/report-png';

/**
 * `npm start` is the demo: real brokers, the reference system under traffic, a live summary and a
 * trace across the three services, the eda-harness exporter and a real Prometheus with the alert
 * pack scraping both, where the poison messages and the paused analytics consumer make the DLQ and
 * consumer-lag alerts fire. The alerts page is looked at the way a user does: in a browser.
 * Ctrl-C (SIGINT) must tear everything down and exit 0.
 */

const WIDTH = 1400;
const HEIGHT = 1400;
const BROWSER_TIMEOUT_MS = 30_000;

interface PromAlert {
  readonly labels: Record<string, string>;
  readonly state: string;
}

async function prometheus<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/**
 * Headless Chromium on one URL, in a process group of its own so its renderers end with it (by the
 * group's id, which is its pid); stdout is what --dump-dom prints.
 */
async function browse(bin: string, profile: string, extra: readonly string[], url: string): Promise<string> {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', `--user-data-dir=${profile}`, `--window-size=${WIDTH},${HEIGHT}`, ...extra, url];
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const endGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // ESRCH: nothing of the group is left, the usual case once Chromium exited.
    }
  };
  const guard = setTimeout(endGroup, BROWSER_TIMEOUT_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`could not run ${bin}: ${e.message}`)));
    child.once('exit', (c, s) => resolve([c, s]));
  }).finally(() => {
    clearTimeout(guard);
    endGroup();
  });
  if (code !== 0) throw new Error(`${bin} ${extra.join(' ')} ${url}: ${signal ?? `exit code ${code}`}\n${Buffer.concat(err).toString().slice(-2000)}`);
  return Buffer.concat(out).toString();
}

/**
 * The state of each alert rule as Prometheus's classic /alerts page shows it: the row of a rule
 * with a firing alert is red (alert-danger), with a pending one yellow (alert-warning), else green.
 * A rule with two severities has two rows: the strongest state wins.
 */
function ruleStates(dom: string): Map<string, 'firing' | 'pending' | 'inactive'> {
  const rank = { inactive: 0, pending: 1, firing: 2 } as const;
  const states = new Map<string, 'firing' | 'pending' | 'inactive'>();
  for (const m of dom.matchAll(/<tr class="alert alert-(danger|warning|success) alert_header">\s*<td>[\s\S]*?<b>([A-Za-z0-9_]+)<\/b>/g)) {
    const state = m[1] === 'danger' ? 'firing' : m[1] === 'warning' ? 'pending' : 'inactive';
    const name = m[2] as string;
    if (rank[state] >= rank[states.get(name) ?? 'inactive']) states.set(name, state);
  }
  return states;
}

it('runs the reference system with Jaeger, the exporter, Prometheus and its alert pack: the sample trace is Jaeger\'s, DLQ and lag alerts fire, a browser shows them, Ctrl-C ends every process', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eda-demo-test-'));
  const ledger = join(dir, 'pids.tsv');
  const cli = join(__dirname, '..', '..', '..', 'cli', 'bin', 'eda-harness.js');
  const chromium = await ensureChromium();
  const child = spawn('node', [cli, 'start', '--rate', '10', '--interval', '2', '--metrics-port', '0'], {
    // A pid ledger of the demo's own: every process it spawns, to check they are all gone at the end.
    env: { ...process.env, EDA_HARNESS_QUIET: '1', EDA_HARNESS_PID_LEDGER: ledger },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let dom = '';
  let png: Buffer | undefined;
  let alerts: PromAlert[] = [];
  let targets: { labels: Record<string, string>; health: string; lastError: string }[] = [];
  let fromJaeger: TraceSpan[] = [];
  try {
    // Two summary lines after the trace: traffic flows, and at least one poison message reached the DLQ.
    await waitFor(() => /A sample order, as one trace across the three services/.test(out) && (out.split('A sample order')[1]?.match(/^\s+\d+s\s+\d/gm)?.length ?? 0) >= 2, {
      description: 'the demo to print a trace and two more summary lines',
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await waitFor(() => /^\s+\d+s\s+[\d.]+\s+[\d.]+\s+.*\s+[1-9]\d*\s+\d+$/m.test(out), { description: 'a summary line with a DLQ count above 0', timeoutMs: 60_000 });
    const metricsUrl = /Metrics: (http:\/\/\S+)/.exec(out)?.[1];
    const exporterUrl = /Exporter: (http:\/\/\S+)/.exec(out)?.[1];
    const promUrl = /PROMETHEUS_URL=(http:\/\/[\d.:]+)/.exec(out)?.[1];
    expect({ metricsUrl, exporterUrl, promUrl }).toEqual({ metricsUrl: expect.any(String), exporterUrl: expect.any(String), promUrl: expect.any(String) });
    const metrics = await (await fetch(metricsUrl as string)).text();
    expect(metrics).toContain('eda_message_e2e_latency_seconds_bucket');
    expect(metrics).toMatch(/eda_dlq_messages_total\{[^}]*\} [1-9]/);
    expect(await (await fetch(exporterUrl as string)).text()).toMatch(/eda_kafka_consumer_lag_messages\{[^}]*group="analytics-service"/);

    // The sample trace was printed as fetched from Jaeger: ask Jaeger for it ourselves.
    const jaegerUrl = /JAEGER_QUERY_URL=(http:\/\/[\d.:]+)/.exec(out)?.[1];
    expect(out).toContain(`A sample order, as one trace across the three services (fetched from Jaeger at ${jaegerUrl}):`);
    const traceId = /\(fetched from Jaeger at [^)]*\):\ntrace ([0-9a-f]{32})\n/.exec(out)?.[1];
    expect(traceId).toBeDefined();
    expect(out).toContain(`curl -s ${jaegerUrl}/api/v3/traces/${traceId}`);
    fromJaeger = await jaegerQuery(jaegerUrl as string).trace(traceId as string);

    // Prometheus scrapes both: the demo's /metrics and the exporter, each up.
    await waitFor(
      async () => {
        targets = (await prometheus<{ activeTargets: typeof targets }>(promUrl as string, '/api/v1/targets')).activeTargets;
        return targets.length === 2 && targets.every((t) => t.health === 'up');
      },
      { description: 'Prometheus to scrape the demo and the exporter, both up', timeoutMs: 30_000, intervalMs: 1000 },
    );
    expect(targets.map((t) => t.labels['job']).sort()).toEqual(['eda-exporter', 'eda-harness-demo']);

    // The DLQ alert and the paused consumer's lag alert fire within the demo's first minute or so.
    const active = (name: string, state: string, labels: Record<string, string> = {}): boolean =>
      alerts.some((a) => a.labels['alertname'] === name && a.state === state && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
    await waitFor(
      async () => {
        alerts = (await prometheus<{ alerts: PromAlert[] }>(promUrl as string, '/api/v1/alerts')).alerts;
        return active('DeadLetterMessagesArriving', 'firing') && active('KafkaConsumerLagSecondsHigh', 'firing', { group: 'analytics-service', severity: 'warning' });
      },
      { description: 'DeadLetterMessagesArriving and KafkaConsumerLagSecondsHigh (group analytics-service) to fire', timeoutMs: 120_000, intervalMs: 1000 },
    );

    // What a user sees on the alerts page: rendered by a browser, while the demo runs.
    const page = `${promUrl}/classic/alerts`;
    expect(out).toContain(page);
    const shot = join(dir, 'alerts.png');
    await browse(chromium, join(dir, 'profile-shot'), [`--screenshot=${shot}`], page);
    png = existsSync(shot) ? readFileSync(shot) : undefined;
    dom = await browse(chromium, join(dir, 'profile-dom'), ['--dump-dom'], page);
  } finally {
    child.kill('SIGINT');
  }
  const code = await exited;
  const spawned = readPidLedger(ledger);
  const survivors = spawned.filter((p) => isAlive(p.pid)).map((p) => `${p.name} (pid ${p.pid})`);
  const keep = process.env['DEMO_SCREENSHOT'];
  // To look at it yourself: DEMO_SCREENSHOT=/tmp/alerts.png npx jest test/integration/cli/demo.test.ts …
  if (keep && png) writeFileSync(keep, png);
  rmSync(dir, { recursive: true, force: true });
  expect(code).toBe(0);
  expect(out).toContain('stopping (Ctrl-C)');
  expect(out).toContain('stopped; every process the demo started has exited.');

  const tree = /A sample order, as one trace across the three services \(fetched from Jaeger at [^)]*\):\n((?:.+\n)+)/.exec(out)?.[1] ?? '';
  expect(tree).toMatch(/order-service: place order \(server/);
  expect(tree).toMatch(/inventory-service: process orders\.placed \(consumer/);
  expect(tree).toMatch(/notification-service: process notifications\.email \(consumer/);
  // The printed tree is Jaeger's trace: the same spans (service, name, kind, duration), each under its parent.
  const printed = tree.split('\n').filter((l) => /[└├]─ /.test(l));
  expect(printed.length).toBe(fromJaeger.length);
  expect(fromJaeger.map((s) => s.service).sort()).toEqual(expect.arrayContaining(['inventory-service', 'notification-service', 'order-service']));
  expect(printed.map((l) => l.replace(/^[\s│]*[└├]─ /, '')).sort()).toEqual(fromJaeger.map((s) => `${s.service}: ${s.name} (${s.kind}, ${s.durationMs.toFixed(1)} ms)${s.statusCode === 'error' ? ' ERROR' : ''}`).sort());
  const byId = new Map(fromJaeger.map((s) => [s.spanId, s]));
  const depth = (s: TraceSpan): number => (s.parentSpanId && byId.has(s.parentSpanId) ? 1 + depth(byId.get(s.parentSpanId) as TraceSpan) : 0);
  expect(printed.map((l) => (/^([\s│]*)/.exec(l)?.[1]?.length ?? 0) / 3).sort()).toEqual(fromJaeger.map(depth).sort());
  // Summary lines carry sent/s, consumed/s and three latency quantiles; alert changes are printed.
  expect(out).toMatch(/^\s+\d+s\s+\d+\.\d\s+\d+\.\d\s+[\d.]+ \/\s+[\d.]+ \/\s+[\d.]+/m);
  expect(out).toMatch(/^\s+\d+s {2}consumer group analytics-service paused/m);
  expect(out).toMatch(/^\s+\d+s {2}alert DeadLetterMessagesArriving \(warning\) firing$/m);
  expect(out).toMatch(/^\s+\d+s {2}alert KafkaConsumerLagSecondsHigh \(warning\) (pending|firing)$/m);

  // The page the browser built: the two alerts red (firing), a rule nothing triggers green.
  const states = ruleStates(dom);
  expect(states.size).toBeGreaterThan(15);
  expect({ dlq: states.get('DeadLetterMessagesArriving'), lag: states.get('KafkaConsumerLagSecondsHigh'), quiet: states.get('RabbitMqQueueWithoutConsumers') }).toEqual({ dlq: 'firing', lag: 'firing', quiet: 'inactive' });
  // … and painted: not blank, with red (firing) and green (inactive) rows on it.
  expect(png).toBeDefined();
  const image = decodePng(png as Buffer);
  expect([image.width, image.height]).toEqual([WIDTH, HEIGHT]);
  const stats = pixelStats(image, [], ['#f8d7da', '#d4edda', '#343a40']);
  expect(stats.inkFraction).toBeGreaterThan(0.2);
  expect(stats.distinctColours).toBeGreaterThan(50);
  expect(stats.counts['#f8d7da']).toBeGreaterThan(20_000);
  expect(stats.counts['#d4edda']).toBeGreaterThan(20_000);

  // Every process the demo spawned (brokers, Toxiproxy, Prometheus) is gone, and so is every pid it printed.
  expect(spawned.map((p) => p.name)).toEqual(expect.arrayContaining(['prometheus', 'jaeger']));
  expect(survivors).toEqual([]);
  for (const m of out.matchAll(/\(pid (\d+)\)/g)) expect(isAlive(Number(m[1]))).toBe(false);
}, 240_000);

it('Ctrl-C while the environment starts ends every process started so far and exits 130', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eda-demo-early-'));
  const ledger = join(dir, 'pids.tsv');
  const cli = join(__dirname, '..', '..', '..', 'cli', 'bin', 'eda-harness.js');
  const child = spawn('node', [cli, 'start', '--metrics-port', '0'], { env: { ...process.env, EDA_HARNESS_QUIET: '', EDA_HARNESS_PID_LEDGER: ledger }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // Kafka is the last to start: by then RabbitMQ, Toxiproxy and Jaeger processes are running.
    await waitFor(() => /starting \d+ Kafka/.test(out) && readPidLedger(ledger).length >= 3, { description: 'the environment to be half started', timeoutMs: 60_000, intervalMs: 100 });
  } finally {
    child.kill('SIGINT');
  }
  const code = await exited;
  const spawned = readPidLedger(ledger);
  rmSync(dir, { recursive: true, force: true });
  expect(out).toContain('Ctrl-C during start-up: ending every process started so far.');
  expect(code).toBe(130);
  expect(spawned.length).toBeGreaterThanOrEqual(3);
  expect(spawned.filter((p) => isAlive(p.pid)).map((p) => `${p.name} (pid ${p.pid})`)).toEqual([]);
}, 90_000);
