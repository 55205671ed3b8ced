import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReports, type HtmlReport } from '../../../chaos/report';
import type { ScenarioResult, TimelinePoint } from '../../../chaos/types';
import { ensureChromium } from '../../../environment/provision';
import { decodePng, pixelStats } from '../../support/report-png';

/**
 * The HTML report as a reader sees it: written by the real writer, rendered by a headless Chromium,
 * then judged on the screenshot (not blank, the verdict colours on screen) and on the DOM the
 * browser built (each scenario's name, verdict and charts, with a consumer-lag line). Reading the
 * markup we wrote would only prove we wrote it; the browser proves it parses and paints.
 */

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const T1 = T0 + 30_000;
const WIDTH = 1400;
const HEIGHT = 2000;
const RUN_TIMEOUT_MS = 20_000;

/**
 * 20 seconds of 50 sends/s. During `stallAcks` nothing is acknowledged (all of it is at the
 * window's end); during `stallConsumer` nothing is consumed; the consumer then works off what is
 * acknowledged at up to `rate` a second, dropping `lost` messages at the end of the backlog.
 */
function timeline(opts: { stallAcks?: [number, number]; stallConsumer?: [number, number]; rate: number; lost?: number }): TimelinePoint[] {
  const inside = (s: number, w: [number, number] | undefined): boolean => w !== undefined && s >= w[0] && s < w[1];
  let backlog = 0;
  let lost = opts.lost ?? 0;
  return Array.from({ length: 20 }, (_, second) => {
    const acked = inside(second, opts.stallAcks) ? 0 : second === opts.stallAcks?.[1] ? 50 * (1 + opts.stallAcks[1] - opts.stallAcks[0]) : 50;
    backlog += acked;
    const stalled = inside(second, opts.stallConsumer);
    let consumed = stalled ? 0 : Math.min(backlog, opts.rate);
    backlog -= consumed;
    if (!stalled && lost > 0 && second > (opts.stallConsumer?.[1] ?? 0) && backlog < opts.rate) {
      consumed -= lost; // never delivered: the backlog never reaches 0 again
      lost = 0;
    }
    const latency = consumed > 0 ? 20 + Math.round((backlog / opts.rate) * 1000) : undefined;
    return { second, sent: 50, acked, failed: 0, consumed, latencyP50Ms: latency, latencyMaxMs: latency === undefined ? undefined : latency * 2 + 40 };
  });
}

/**
 * The exporter's (broker-side) lag as a run with the alert pack samples it: the backlog plus the
 * messages processed but not yet committed (about a tenth of a second's worth), and no figure
 * while the broker is down (seconds 5 to 8: the exporter's figures are stale, so left out).
 */
function withBrokerLag(points: TimelinePoint[]): TimelinePoint[] {
  let acked = 0;
  let consumed = 0;
  return points.map((p) => {
    acked += p.acked;
    consumed += p.consumed;
    return p.second >= 5 && p.second <= 8 ? p : { ...p, consumerLag: Math.max(0, acked - consumed) + (p.consumed > 0 ? 5 : 0) };
  });
}

const passing: ScenarioResult = {
  name: 'inventory-service-broker-restart',
  description: 'inventory-service 1.4.2: 50 inputs/s over 4 keys to orders; the broker restarted (SIGTERM, start again)',
  system: 'kafka',
  passed: true,
  startedAt: new Date(T0).toISOString(),
  durationMs: 21_000,
  counts: { sent: 1000, acked: 1000, failed: 0, deliveries: 1000, uniqueConsumed: 1000, duplicates: 0, poison: 0 },
  faults: [{ name: 'kafka-broker-restart', description: 'restarts the broker', startMs: T0 + 5000, endMs: T0 + 9000, error: undefined }],
  invariants: [{ name: 'no input lost', passed: true, summary: 'all 1000 acknowledged inputs were processed', figures: { acked: 1000, lost: 0 }, examples: [] }],
  timeline: withBrokerLag(timeline({ stallAcks: [5, 9], rate: 120 })),
  events: [],
  alerts: [],
  error: undefined,
};

const failing: ScenarioResult = {
  name: 'inventory-service-service-pause',
  description: 'inventory-service 1.4.2: 50 inputs/s over 4 keys to orders; the service frozen (SIGSTOP) for 6 s',
  system: 'kafka',
  passed: false,
  startedAt: new Date(T1).toISOString(),
  durationMs: 22_500,
  counts: { sent: 1000, acked: 1000, failed: 0, deliveries: 997, uniqueConsumed: 997, duplicates: 0, poison: 0 },
  faults: [{ name: 'service-pause', description: 'SIGSTOP the service, SIGCONT after the window', startMs: T1 + 4000, endMs: T1 + 10_000, error: undefined }],
  invariants: [{ name: 'no input lost', passed: false, summary: '3 of 1000 acknowledged inputs were never processed', figures: { acked: 1000, lost: 3 }, examples: ['order-17 (key k1, seq 4)'] }],
  timeline: timeline({ stallConsumer: [4, 10], rate: 90, lost: 3 }),
  events: [{ atMs: T1 + 4100, where: 'service', message: 'service paused' }],
  alerts: [],
  error: undefined,
};

const report: HtmlReport = {
  tool: 'eda-harness test',
  startedAt: new Date(T0 - 1000).toISOString(),
  durationMs: 55_000,
  passed: false,
  scenarios: [passing, failing],
  service: { name: 'inventory-service', version: '1.4.2' },
};

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs Chromium headless on one page. Its own process group (detached), so a hang is ended by
 * that group's id, with every renderer it started; the pid is awaited either way.
 */
function chromium(bin: string, profile: string, args: readonly string[], url: string): Promise<Run> {
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', `--user-data-dir=${profile}`, `--window-size=${WIDTH},${HEIGHT}`];
  const child = spawn(bin, [...flags, ...args, url], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Its helpers (zygote, renderers) share the group; end any still there.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // ESRCH: the group is gone already, which is the normal case.
        }
      }
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${bin} ${args.join(' ')} ended with ${signal ?? `exit code ${code}`} (killed after ${RUN_TIMEOUT_MS} ms if SIGKILL); stderr:\n${stderr.slice(-2000)}`));
    });
  });
}

/** What a reader would miss in the page the browser built, per scenario; empty when all is there. */
function readerProblems(dom: string, expected: readonly { readonly name: string; readonly verdict: 'PASS' | 'FAIL' }[]): string[] {
  const sections = dom.split(/<section class="scenario /).slice(1);
  return expected.flatMap(({ name, verdict }) => {
    const section = sections.find((s) => s.includes(`<h2>${name}</h2>`));
    if (section === undefined) return [`${name}: no section with its name`];
    const head = /<div class="scenario-head">([\s\S]*?)<\/div>/.exec(section)?.[1] ?? '';
    const lag = /<svg class="timeline lag"[\s\S]*?<\/svg>/.exec(section)?.[0] ?? '';
    const lagPoints = (/<polyline class="lag lag-workload" points="([^"]*)"/.exec(lag)?.[1] ?? '').split(' ').filter(Boolean);
    return [
      ...(head.includes(`>${verdict}</span>`) ? [] : [`${name}: verdict ${verdict} not shown in its heading`]),
      ...(/<svg class="timeline"[\s\S]*?<polyline class="sent"/.test(section) ? [] : [`${name}: no throughput chart`]),
      ...(lag === '' ? [`${name}: no consumer lag chart`] : lagPoints.length < 2 ? [`${name}: the consumer lag chart has no line`] : []),
    ];
  });
}

const EXPECTED = [
  { name: passing.name, verdict: 'PASS' as const },
  { name: failing.name, verdict: 'FAIL' as const },
];

describe('the chaos report in a browser', () => {
  let bin: string;
  let dir: string;

  beforeAll(async () => {
    bin = await ensureChromium();
    dir = mkdtempSync(join(tmpdir(), 'chaos-report-browser-'));
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('paints a page that is not blank, with both verdicts, every scenario and its lag chart', async () => {
    const paths = writeReports(report, join(dir, 'report'));
    const url = pathToFileURL(paths.html).href;
    const png = join(dir, 'report.png');
    await chromium(bin, join(dir, 'profile-shot'), [`--screenshot=${png}`], url);
    expect(existsSync(png)).toBe(true);
    // To look at it yourself: REPORT_SCREENSHOT=/tmp/report.png npx jest <this file> ...
    const keep = process.env['REPORT_SCREENSHOT'];
    if (keep !== undefined && keep !== '') {
      copyFileSync(png, keep);
      copyFileSync(paths.html, `${keep}.html`);
    }

    const image = decodePng(readFileSync(png));
    expect([image.width, image.height]).toEqual([WIDTH, HEIGHT]);
    // Page background, the pass and fail badge backgrounds, the lag line.
    const stats = pixelStats(image, ['#f8fafc'], ['#dcfce7', '#fee2e2', '#1e293b', '#0891b2']);
    expect(stats.inkFraction).toBeGreaterThan(0.05);
    expect(stats.distinctColours).toBeGreaterThan(100);
    expect(stats.counts['#dcfce7']).toBeGreaterThan(200);
    expect(stats.counts['#fee2e2']).toBeGreaterThan(200);
    expect(stats.counts['#1e293b']).toBeGreaterThan(100);
    // The exporter's lag line, drawn only in the passing scenario's lag chart.
    expect(stats.counts['#0891b2']).toBeGreaterThan(100);

    const dom = (await chromium(bin, join(dir, 'profile-dom'), ['--dump-dom'], url)).stdout;
    expect(readerProblems(dom, EXPECTED)).toEqual([]);
    expect(dom).toContain('Service under test: <strong class="service">inventory-service 1.4.2</strong>');
    expect(dom).toContain('consumer lag (acknowledged − consumed so far)');
    const sections = dom.split(/<section class="scenario /).slice(1);
    const exporterLines = sections.map((section) => (/<svg class="timeline lag"[\s\S]*?<\/svg>/.exec(section)?.[0] ?? '').match(/<polyline class="lag lag-exporter"/g)?.length ?? 0);
    expect(exporterLines).toEqual([2, 0]); // broken where the broker was down
    expect(sections[0]).toContain('consumer lag (exporter, from the broker)');
    expect(sections[1]).not.toContain('consumer lag (exporter, from the broker)');
  });

  it('notices a scenario whose charts are missing (the check can fail)', async () => {
    const broken: HtmlReport = { ...report, scenarios: [passing, { ...failing, timeline: [] }] };
    const url = pathToFileURL(writeReports(broken, join(dir, 'broken')).html).href;
    const dom = (await chromium(bin, join(dir, 'profile-broken'), ['--dump-dom'], url)).stdout;
    expect(readerProblems(dom, EXPECTED)).toEqual([`${failing.name}: no throughput chart`, `${failing.name}: no consumer lag chart`]);
  });
});
