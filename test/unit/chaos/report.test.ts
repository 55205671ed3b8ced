import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtml, renderJson, renderJUnit, summarize, writeReports } from '../../../chaos/report';
import type { AlertObservation, ChaosReport, ClientEvent, ScenarioResult, TimelinePoint } from '../../../chaos/types';

// Strings a broker or client could plausibly hand us, with every character that breaks markup.
const NASTY_SUMMARY = '3 of 120 acknowledged messages were never consumed <&"> \u0001';
const NASTY_ERROR = 'workload crashed: <Channel closed> & "gone" \u0000';
const NASTY_EXAMPLE = 'msg-<7> (key k&1, seq 3, sent at +4200 ms)';
const NASTY_LABEL = 'orders<dlq> & "co"';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const T1 = Date.parse('2025-03-01T10:00:20.000Z');

const passing: ScenarioResult = {
  name: 'kafka-leader-kill',
  description: 'Kills the partition leader mid-traffic; acks=-1 must survive it.',
  system: 'kafka',
  passed: true,
  startedAt: new Date(T0).toISOString(),
  durationMs: 18_250,
  counts: { sent: 1200, acked: 1195, failed: 5, deliveries: 1203, uniqueConsumed: 1195, duplicates: 8, poison: 0 },
  faults: [{ name: 'kafka-kill-leader', description: 'SIGKILL the leader of partition 0', startMs: T0 + 3000, endMs: T0 + 8000, error: undefined }],
  invariants: [
    { name: 'no acknowledged message lost', passed: true, summary: 'all 1195 acknowledged messages were consumed', figures: { acked: 1195, lost: 0 }, examples: [] },
    { name: 'duplicates counted', passed: true, summary: '8 duplicate deliveries', figures: { duplicates: 8, redelivered: 0 }, examples: [] },
  ],
  timeline: [
    { second: 0, sent: 100, acked: 100, failed: 0, consumed: 99, latencyP50Ms: 12, latencyMaxMs: 40 },
    { second: 1, sent: 100, acked: 100, failed: 0, consumed: 101, latencyP50Ms: 15, latencyMaxMs: 55 },
    { second: 3, sent: 60, acked: 55, failed: 5, consumed: 40, latencyP50Ms: 220, latencyMaxMs: 2100 },
    { second: 4, sent: 100, acked: 100, failed: 0, consumed: 120, latencyP50Ms: 30, latencyMaxMs: 900 },
  ],
  events: [{ atMs: T0 + 3100, where: 'produce', message: 'KafkaJSNumberOfRetriesExceeded: NOT_LEADER_FOR_PARTITION' }],
  alerts: [],
  error: undefined,
};

const manyEvents: ClientEvent[] = Array.from({ length: 60 }, (_, i) => ({ atMs: T1 + 2000 + i * 10, where: 'connection', message: `reconnect ${i}: <socket closed> & retrying` }));

const failing: ScenarioResult = {
  name: 'rabbitmq-partition',
  description: 'Cuts the client off the broker through Toxiproxy for 5 s.',
  system: 'rabbitmq',
  passed: false,
  startedAt: new Date(T1).toISOString(),
  durationMs: 21_004,
  counts: { sent: 120, acked: 120, failed: 0, deliveries: 117, uniqueConsumed: 117, duplicates: 0, poison: 0 },
  faults: [
    { name: 'rabbitmq-network-cut', description: 'timeout toxic on <amqp> proxy', startMs: T1 + 2000, endMs: T1 + 7000, error: undefined },
    { name: 'rabbitmq-latency', description: 'latency toxic', startMs: T1 + 9000, endMs: undefined, error: 'heal failed: proxy "amqp" gone' },
  ],
  invariants: [
    { name: 'no acknowledged message lost', passed: false, summary: NASTY_SUMMARY, figures: { acked: 120, lost: 3, 'p99 ms': 12.5 }, examples: [NASTY_EXAMPLE] },
    { name: 'per-key order kept', passed: true, summary: 'every key consumed in sequence', figures: { keys: 10 }, examples: [] },
  ],
  timeline: [
    { second: 0, sent: 40, acked: 40, failed: 0, consumed: 40, latencyP50Ms: 8, latencyMaxMs: 20 },
    { second: 1, sent: 40, acked: 40, failed: 0, consumed: 37, latencyP50Ms: 9, latencyMaxMs: 25 },
    { second: 2, sent: 40, acked: 40, failed: 0, consumed: 40, latencyP50Ms: 10, latencyMaxMs: 30 },
  ],
  events: manyEvents,
  alerts: [
    { atMs: T1 + 3000, alertname: 'EdaExporterStale', labels: { target: 'rabbitmq', severity: 'warning' }, state: 'pending' },
    { atMs: T1 + 5000, alertname: 'EdaExporterStale', labels: { severity: 'warning', target: 'rabbitmq' }, state: 'firing' },
    { atMs: T1 + 12_000, alertname: 'EdaExporterStale', labels: { target: 'rabbitmq', severity: 'warning' }, state: 'inactive' },
    { atMs: T1 + 15_000, alertname: 'DeadLetterMessagesArriving', labels: { queue: NASTY_LABEL }, state: 'firing' },
  ],
  error: NASTY_ERROR,
};

const report: ChaosReport = {
  tool: 'eda-harness 0.1.0',
  startedAt: new Date(T0 - 500).toISOString(),
  durationMs: 40_100,
  passed: false,
  scenarios: [passing, failing],
};

/** The report with only these scenarios. */
const reportOf = (...scenarios: ScenarioResult[]): ChaosReport => ({ ...report, scenarios });

/** The scenario as a report written before timeline points had latency figures. */
const withoutLatency = (scenario: ScenarioResult): ScenarioResult => ({ ...scenario, timeline: scenario.timeline.map((p) => ({ ...p, latencyP50Ms: undefined, latencyMaxMs: undefined })) });

const VOID_HTML = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/**
 * Not a parser, but enough to catch what string-built markup gets wrong: unbalanced or crossed
 * tags, a raw `<` or `"` inside an attribute, and a bare `&` that is not a character reference.
 */
function checkWellFormed(markup: string, voidElements: ReadonlySet<string> = new Set()): void {
  const body = markup.replace(/^<\?xml[^>]*\?>/, '').replace(/^<!DOCTYPE html>/i, '');
  expect(body).not.toMatch(/&(?!(?:amp|lt|gt|quot|#39|#\d+);)/);
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/g;
  const stack: string[] = [];
  let last = 0;
  for (const m of body.matchAll(tag)) {
    const between = body.slice(last, m.index);
    expect(between).not.toMatch(/[<>]/); // anything tag-like that the tag pattern did not accept
    last = m.index + m[0].length;
    const [, closing, name = '', , selfClosing] = m;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing && !voidElements.has(name.toLowerCase())) stack.push(name);
  }
  expect(body.slice(last)).not.toMatch(/[<>]/);
  expect(stack).toEqual([]);
}

function attr(element: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(element)?.[1];
}

describe('renderJson', () => {
  it('round-trips the report and ends with a newline', () => {
    const json = renderJson(report);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json).toContain('\n  "tool": "eda-harness 0.1.0"');
    expect(JSON.parse(json)).toEqual(report);
  });
});

describe('renderJUnit', () => {
  const xml = renderJUnit(report);

  it('is well-formed XML with no characters XML 1.0 forbids', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    checkWellFormed(xml);
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/); // eslint-disable-line no-control-regex
  });

  it('counts tests, failures and errors per suite and overall', () => {
    const root = /<testsuites [^>]*>/.exec(xml)?.[0] ?? '';
    expect(attr(root, 'name')).toBe('eda-harness chaos');
    expect(attr(root, 'tests')).toBe('5'); // 2 + 2 invariants + 1 for the scenario error
    expect(attr(root, 'failures')).toBe('1');
    expect(attr(root, 'errors')).toBe('1');
    expect(attr(root, 'time')).toBe('40.100');

    const suites = [...xml.matchAll(/<testsuite [^>]*>/g)].map((m) => m[0]);
    expect(suites.map((s) => attr(s, 'name'))).toEqual(['kafka-leader-kill', 'rabbitmq-partition']);
    expect(suites.map((s) => [attr(s, 'tests'), attr(s, 'failures'), attr(s, 'errors'), attr(s, 'time')])).toEqual([
      ['2', '0', '0', '18.250'],
      ['3', '1', '1', '21.004'],
    ]);
    expect(attr(suites[0] ?? '', 'timestamp')).toBe('2025-03-01T10:00:00');
  });

  it('has one testcase per invariant and one for the scenario error', () => {
    const cases = [...xml.matchAll(/<testcase [^>]*>/g)].map((m) => `${attr(m[0], 'classname')} / ${attr(m[0], 'name')}`);
    expect(cases).toEqual([
      'chaos.kafka-leader-kill / no acknowledged message lost',
      'chaos.kafka-leader-kill / duplicates counted',
      'chaos.rabbitmq-partition / no acknowledged message lost',
      'chaos.rabbitmq-partition / per-key order kept',
      'chaos.rabbitmq-partition / scenario ran to the end',
    ]);
  });

  it('fails only the failed invariant, with an escaped summary, its figures and examples', () => {
    const failures = [...xml.matchAll(/<failure [^>]*>([^<]*)<\/failure>/g)];
    expect(failures).toHaveLength(1);
    const [element = '', text = ''] = failures[0] ?? [];
    expect(attr(element, 'message')).toBe('3 of 120 acknowledged messages were never consumed &lt;&amp;&quot;&gt; ');
    expect(text).toBe('acked: 120\nlost: 3\np99 ms: 12.500\nexamples:\n  msg-&lt;7&gt; (key k&amp;1, seq 3, sent at +4200 ms)');
    // The failure sits inside the failing invariant's testcase, not a passing one.
    expect(xml).toMatch(/name="no acknowledged message lost" time="0.000">\n\s*<failure /);
  });

  it('reports the scenario error as an <error>', () => {
    const errors = [...xml.matchAll(/<error [^>]*>[^<]*<\/error>/g)].map((m) => m[0]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('message="workload crashed: &lt;Channel closed&gt; &amp; &quot;gone&quot; "');
  });

  it('puts fault windows (relative to the scenario start) and counts into properties', () => {
    expect(xml).toContain('<property name="fault.kafka-kill-leader" value="3000..8000 ms"/>');
    expect(xml).toContain('<property name="fault.rabbitmq-network-cut" value="2000..7000 ms"/>');
    expect(xml).toContain('<property name="fault.rabbitmq-latency" value="9000..? ms"/>');
    expect(xml).toContain('<property name="fault.rabbitmq-latency.error" value="heal failed: proxy &quot;amqp&quot; gone"/>');
    expect(xml).toContain('<property name="counts.sent" value="1200"/>');
    expect(xml).toContain('<property name="counts.uniqueConsumed" value="117"/>');
  });

  it('keeps line breaks in attribute values as character references', () => {
    const multiLine = reportOf({ ...failing, error: 'first line\nsecond line' });
    const out = renderJUnit(multiLine);
    expect(out).toContain('<error message="first line" type="ScenarioError">first line\nsecond line</error>');
    const withSummary = reportOf({ ...failing, invariants: [{ ...failing.invariants[0]!, summary: 'a\nb' }] });
    expect(renderJUnit(withSummary)).toContain('<failure message="a&#10;b"');
  });
});

describe('renderHtml', () => {
  const html = renderHtml(report);

  it('is one self-contained page with balanced tags', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|\ssrc=|url\(/i);
    checkWellFormed(html, VOID_HTML);
  });

  it('escapes every string that came from the data', () => {
    for (const raw of ['<&">', '<Channel closed>', '"gone"', '<socket closed>', 'msg-<7>', '<amqp>', 'k&1', '\u0000', '\u0001', NASTY_LABEL, '<dlq>']) expect(html).not.toContain(raw);
    expect(html).toContain('never consumed &lt;&amp;&quot;&gt;');
    expect(html).toContain('workload crashed: &lt;Channel closed&gt; &amp; &quot;gone&quot;');
    expect(html).toContain('msg-&lt;7&gt; (key k&amp;1');
    expect(html).toContain('queue=&quot;orders&lt;dlq&gt; &amp; &quot;co&quot;&quot;');
  });

  it('shows the overall and per-scenario verdicts', () => {
    expect(html).toContain('<h1>Chaos report <span class="badge fail">FAIL</span></h1>');
    expect(html).toContain('1 of 2 scenarios passed');
    expect(html).toContain('<section class="scenario pass" id="scenario-0">');
    expect(html).toContain('<section class="scenario fail" id="scenario-1">');
    expect(html).toMatch(/<td class="verdict">FAIL<\/td>/);
    expect(html).toMatch(/<td class="verdict">PASS<\/td>/);
  });

  it('draws a timeline per scenario with one shaded rect per fault window', () => {
    expect(html.match(/<svg class="timeline"/g)).toHaveLength(2);
    expect(html.match(/<rect class="fault"/g)).toHaveLength(9); // 3 windows, in the throughput, lag and latency charts
    expect(html).toContain('rabbitmq-latency (not healed)');
    for (const series of ['sent', 'acked', 'consumed']) expect(html.match(new RegExp(`<polyline class="${series}"`, 'g'))).toHaveLength(2);
    expect(html.match(/<rect class="failed"/g)).toHaveLength(1); // only second 3 of the first scenario
  });

  it('places fault windows using startedAt as second 0', () => {
    const svg = /<svg [\s\S]*?<\/svg>/.exec(renderHtml(reportOf({ ...passing, durationMs: 10_000 })))?.[0] ?? '';
    const rect = /<rect class="fault"[^>]*>/.exec(svg)?.[0] ?? '';
    // Plot area runs from x=52 to x=944 over 10 s: the fault spans 3 s .. 8 s.
    expect(Number(attr(rect, 'x'))).toBeCloseTo(52 + 0.3 * 892, 0);
    expect(Number(attr(rect, 'width'))).toBeCloseTo(0.5 * 892, 0);
  });

  it('draws a quiet second as zero instead of bridging the gap', () => {
    // The passing scenario's timeline skips second 2.
    const points = /<polyline class="sent" points="([^"]*)"/.exec(html)?.[1]?.split(' ') ?? [];
    expect(points).toHaveLength(5);
    const baseline = 260 - 40; // the x axis: SVG height minus the bottom padding
    expect(points[2]?.split(',')[1]).toBe(String(baseline));
  });

  it('still renders when startedAt is not a date, leaving faults to the faults table', () => {
    const out = renderHtml(reportOf({ ...passing, startedAt: 'not a date' }));
    expect(out).toContain('<svg ');
    expect(out).not.toContain('<rect class="fault"');
    expect(out).toContain('<td>kafka-kill-leader</td>');
  });

  describe('service under test', () => {
    it('names the service with its version in the header and in each scenario of a service run', () => {
      const out = renderHtml({ ...report, service: { name: 'inventory<svc>', version: '1.4.2' } });
      expect(out).toContain('<p class="sut">Service under test: <strong class="service">inventory&lt;svc&gt; 1.4.2</strong></p>');
      expect(out.match(/<span class="meta">inventory&lt;svc&gt; 1\.4\.2 on (kafka|rabbitmq) · started/g)).toHaveLength(2);
    });

    it('says so when a report names a service without a version, and shows nothing for a catalog run or junk', () => {
      expect(renderHtml({ ...report, service: { name: 'payments', version: ' ' } })).toContain('payments (version not given)');
      expect(html).not.toContain('Service under test');
      const junk = { ...report, service: null } as unknown as ChaosReport;
      expect(renderHtml(junk)).not.toContain('Service under test');
    });

    it('goes into the JSON report as it is, through writeReports', () => {
      const dir = mkdtempSync(join(tmpdir(), 'chaos-report-sut-'));
      try {
        const paths = writeReports({ ...report, service: { name: 'payments', version: '2.0.0' } }, dir);
        expect(JSON.parse(readFileSync(paths.json, 'utf8')).service).toEqual({ name: 'payments', version: '2.0.0' });
        expect(readFileSync(paths.html, 'utf8')).toContain('payments 2.0.0');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('consumer lag chart', () => {
    const lagSvgOf = (markup: string): string[] => [...markup.matchAll(/<svg class="timeline lag"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    const lagYs = (svg: string): number[] => (/<polyline class="lag lag-\w+" points="([^"]*)"/.exec(svg)?.[1] ?? '').split(' ').map((p) => Number(p.split(',')[1]));

    it('follows each throughput chart, before the latency chart, with its source in the legend', () => {
      expect(lagSvgOf(html)).toHaveLength(2);
      expect(html.indexOf('<svg class="timeline lag"')).toBeGreaterThan(html.indexOf('<svg class="timeline"'));
      expect(html.indexOf('<svg class="timeline lag"')).toBeLessThan(html.indexOf('<svg class="timeline latency"'));
      expect(html).toContain('<h3>Consumer lag</h3>');
      expect(html).toContain('consumer lag (acknowledged − consumed so far)');
      expect(html).toContain('Consumer lag for kafka-leader-kill');
    });

    it('draws the backlog the workload counted: acknowledged minus consumed so far, a point per second', () => {
      // The failing scenario: acked 40, 40, 40 and consumed 40, 37, 40: behind by 0, 3, 3.
      const svg = lagSvgOf(renderHtml(reportOf(failing)))[0] ?? '';
      expect(svg).toContain('<polyline class="lag lag-workload"');
      const ys = lagYs(svg);
      expect(ys).toHaveLength(3);
      const bottom = 170 - 40;
      expect(ys[0]).toBe(bottom);
      expect(ys[1]).toBeLessThan(bottom);
      expect(ys[2]).toBe(ys[1]);
    });

    it('draws the exporter lag as a second line when the timeline points carry it, leaving unsampled seconds as gaps', () => {
      const sampled = { ...failing, timeline: failing.timeline.map((p, i) => ({ ...p, ...(i === 1 ? {} : { consumerLag: i * 10 }) })) };
      const out = renderHtml(reportOf(sampled));
      expect(out).toContain('consumer lag (exporter, from the broker)');
      expect(out).toContain('consumer lag (acknowledged − consumed so far)');
      expect(out.match(/<polyline class="lag lag-workload"/g)).toHaveLength(1);
      expect(out.match(/<circle class="lag lag-exporter"/g)).toHaveLength(2); // seconds 0 and 2, each alone
    });

    it('is left out, saying why, when the workload consumed nothing it could count (a service measured by its effects)', () => {
      const noOutputs = { ...failing, timeline: failing.timeline.map((p) => ({ ...p, consumed: 0 })) };
      const out = renderHtml(reportOf(noOutputs));
      expect(out).not.toContain('timeline lag');
      expect(out).toContain('No consumer lag: nothing was consumed where the workload could count it');
    });

    it('keeps the exporter\'s line when the workload counted nothing, and says only that line is drawn', () => {
      const effectsOnly = { ...failing, timeline: failing.timeline.map((p, i) => ({ ...p, consumed: 0, consumerLag: i * 10 })) };
      const out = renderHtml(reportOf(effectsOnly));
      expect(out.match(/<polyline class="lag lag-exporter"/g)).toHaveLength(1);
      expect(out).not.toContain('lag lag-workload');
      expect(out).toContain("Only the exporter's lag is drawn: nothing was consumed where the workload could count it");
      expect(out).not.toContain('No consumer lag');
    });

    it('is left out when no traffic was recorded', () => {
      expect(renderHtml(reportOf({ ...passing, timeline: [] }))).not.toContain('timeline lag');
    });
  });

  describe('latency chart', () => {
    const svgs = (markup: string, cls: string): string[] => [...markup.matchAll(new RegExp(`<svg class="${cls}"[\\s\\S]*?</svg>`, 'g'))].map((m) => m[0]);
    const pointsOf = (svg: string, cls: string): string[][] => [...svg.matchAll(new RegExp(`<polyline class="${cls}" points="([^"]*)"`, 'g'))].map((m) => (m[1] ?? '').split(' '));

    it('follows each throughput chart when any point has latency, titled and over the same time axis', () => {
      const latency = svgs(html, 'timeline latency');
      expect(latency).toHaveLength(2);
      expect(html.indexOf('<svg class="timeline latency"')).toBeGreaterThan(html.indexOf('<svg class="timeline"'));
      expect(html).toContain('<h3>End-to-end latency</h3>');
      expect(latency[0]).toContain('<title>End-to-end latency for kafka-leader-kill</title>');
      expect(latency[0]).toContain('latency (ms)</text>');
      // The fault is shaded at the same x in both charts of a scenario.
      const [throughput] = svgs(html, 'timeline');
      const faultX = (svg: string | undefined) => /<rect class="fault" x="([^"]*)" y="[^"]*" width="([^"]*)"/.exec(svg ?? '')?.slice(1);
      expect(faultX(latency[0])).toEqual(faultX(throughput));
      expect(faultX(latency[0])).toBeDefined();
    });

    it('draws p50 and max, breaking the lines at a second without latency', () => {
      const [svg = ''] = svgs(html, 'timeline latency');
      // Seconds 0–1, then nothing for second 2, then 3–4: two runs per line, and nothing drawn at second 2.
      for (const cls of ['latency-p50', 'latency-max']) expect(pointsOf(svg, cls).map((run) => run.length)).toEqual([2, 2]);
      const x = (second: number) => String(Math.round((52 + ((second + 0.5) / 18.25) * 892) * 10) / 10);
      expect(pointsOf(svg, 'latency-p50').flat().map((p) => p.split(',')[0])).toEqual([0, 1, 3, 4].map(x));
      // p50 sits at or below max everywhere (a larger y is lower); the axis is rounded up from the 2100 ms peak.
      const ys = (cls: string) => pointsOf(svg, cls).flat().map((p) => Number(p.split(',')[1]));
      ys('latency-p50').forEach((y, i) => expect(y).toBeGreaterThanOrEqual(ys('latency-max')[i] ?? Infinity));
      const yTicks = [...svg.matchAll(/<text x="46" [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
      expect(yTicks).toEqual(['0', '1000', '2000', '3000']);
    });

    it('marks a second with latency between two without as a dot', () => {
      const timeline: TimelinePoint[] = [0, 1, 2].map((second) => ({ second, sent: 1, acked: 1, failed: 0, consumed: 1, latencyP50Ms: second === 1 ? 7 : undefined, latencyMaxMs: second === 1 ? 9 : undefined }));
      const [svg = ''] = svgs(renderHtml(reportOf({ ...passing, timeline })), 'timeline latency');
      expect(svg).toMatch(/<circle class="latency-p50" cx="[\d.]+" cy="[\d.]+" r="2.5"/);
      expect(svg).toMatch(/<circle class="latency-max" /);
      expect(svg).not.toContain('<polyline');
    });

    it('is left out, with a note, when no point has latency (a report written before the field existed)', () => {
      const older = reportOf(withoutLatency(passing));
      const reread = JSON.parse(renderJson(older)) as ChaosReport;
      expect(reread.scenarios[0]?.timeline[0]).not.toHaveProperty('latencyP50Ms'); // JSON drops undefined fields
      for (const out of [renderHtml(reread), renderHtml(older)]) {
        expect(out).not.toContain('<svg class="timeline latency"');
        expect(out).toContain('No end-to-end latency was recorded.');
        expect(out.match(/<svg class="timeline"/g)).toHaveLength(1);
        checkWellFormed(out, VOID_HTML);
      }
    });
  });

  describe('alert strip', () => {
    const strip = (markup: string): string => /<svg class="timeline alerts"[\s\S]*?<\/svg>/.exec(markup)?.[0] ?? '';
    const bars = (svg: string, state: string): string[] => [...svg.matchAll(new RegExp(`<rect class="alert ${state}"[^>]*>`, 'g'))].map((m) => m[0]);

    it('sits under the latency chart of the scenario with alerts, and only there', () => {
      expect(html.match(/<svg class="timeline alerts"/g)).toHaveLength(1);
      const section = html.slice(html.indexOf('id="scenario-1"'));
      expect(section.indexOf('<svg class="timeline alerts"')).toBeGreaterThan(section.indexOf('<svg class="timeline latency"'));
      expect(section).toContain('alert firing</p>');
    });

    it('draws a row per alert and label set, with a bar per pending or firing spell', () => {
      const svg = strip(html);
      expect(svg).toContain('>EdaExporterStale<title>EdaExporterStale {severity=&quot;warning&quot;, target=&quot;rabbitmq&quot;}</title></text>');
      expect(svg).toContain('>DeadLetterMessagesArriving<title>');
      expect(bars(svg, 'pending')).toHaveLength(1);
      const firing = bars(svg, 'firing');
      expect(firing).toHaveLength(2);
      expect(firing.every((b) => b.includes('fill="#dc2626"'))).toBe(true);
      expect(bars(svg, 'pending')[0]).toContain('fill="#f59e0b"');
      // The failing scenario's axis runs to 21.004 s over 892 units from x=52. Firing from 5 s until inactive at 12 s:
      const x = (s: number) => 52 + (s / 21.004) * 892;
      expect(Number(attr(firing[0] ?? '', 'x'))).toBeCloseTo(x(5), 0);
      expect(Number(attr(firing[0] ?? '', 'width'))).toBeCloseTo(x(12) - x(5), 0);
      // Never resolved: the bar runs to the end of the axis.
      expect(Number(attr(firing[1] ?? '', 'x')) + Number(attr(firing[1] ?? '', 'width'))).toBeCloseTo(944, 0);
      expect(svg).toContain('<title>EdaExporterStale {severity=&quot;warning&quot;, target=&quot;rabbitmq&quot;}: firing from +5.0 s until +12.0 s</title>');
      expect(svg).toContain('firing from +15.0 s until the end</title>');
    });

    it('keeps alerts with the same name and other labels on separate rows', () => {
      const alerts: AlertObservation[] = [
        { atMs: T0 + 1000, alertname: 'EdaExporterStale', labels: { target: 'kafka' }, state: 'firing' },
        { atMs: T0 + 2000, alertname: 'EdaExporterStale', labels: { target: 'rabbitmq' }, state: 'firing' },
      ];
      const svg = strip(renderHtml(reportOf({ ...passing, alerts })));
      expect(svg.match(/>EdaExporterStale<title>/g)).toHaveLength(2);
      expect(new Set(bars(svg, 'firing').map((b) => attr(b, 'y'))).size).toBe(2);
    });

    it('goes under the throughput chart when there is no latency chart, and is left out without a start instant', () => {
      const out = renderHtml(reportOf(withoutLatency(failing)));
      expect(out.indexOf('<svg class="timeline alerts"')).toBeGreaterThan(out.indexOf('<svg class="timeline"'));
      expect(bars(strip(out), 'firing')).toHaveLength(2);
      checkWellFormed(out, VOID_HTML);
      expect(renderHtml(reportOf({ ...failing, startedAt: 'not a date' }))).not.toContain('<svg class="timeline alerts"');
    });
  });

  it('lists the first 50 client events and counts the rest', () => {
    expect(html).toContain('reconnect 49: &lt;socket closed&gt;');
    expect(html).not.toContain('reconnect 50:');
    expect(html).toContain('… and 10 more');
    expect(html).toContain('+2.000 s');
  });
});

describe('writeReports', () => {
  it('creates the directory and writes the three files', () => {
    const base = mkdtempSync(join(tmpdir(), 'chaos-report-'));
    try {
      const dir = join(base, 'nested', 'out');
      const paths = writeReports(report, dir);
      expect(paths).toEqual({ json: join(dir, 'chaos-report.json'), junit: join(dir, 'chaos-junit.xml'), html: join(dir, 'chaos-report.html') });
      for (const p of Object.values(paths)) expect(existsSync(p)).toBe(true);
      expect(readFileSync(paths.json, 'utf8')).toBe(renderJson(report));
      expect(readFileSync(paths.junit, 'utf8')).toBe(renderJUnit(report));
      expect(readFileSync(paths.html, 'utf8')).toBe(renderHtml(report));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('summarize', () => {
  it('gives a line per scenario, a line per invariant and a total', () => {
    expect(summarize(report).split('\n')).toEqual([
      'PASS  kafka-leader-kill   (18.3 s)  sent 1200, acked 1195, consumed 1195 unique, 8 duplicates',
      '      ✓ no acknowledged message lost: all 1195 acknowledged messages were consumed',
      '      ✓ duplicates counted: 8 duplicate deliveries',
      'FAIL  rabbitmq-partition  (21.0 s)  sent 120, acked 120, consumed 117 unique, 0 duplicates',
      '      ! did not run to the end: workload crashed: <Channel closed> & "gone"',
      '      ✗ no acknowledged message lost: 3 of 120 acknowledged messages were never consumed <&">',
      '      ✓ per-key order kept: every key consumed in sequence',
      '1 of 2 scenarios passed',
    ]);
  });

  it('handles a report with no scenarios', () => {
    expect(summarize(reportOf())).toBe('0 of 0 scenarios passed');
  });
});
