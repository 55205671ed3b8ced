import type { AlertObservation, FaultWindow, ScenarioResult, TimelinePoint } from '../types';
import { finiteOr0, originMs } from './format';
import { consumerLagLines, lagLabel, type LagSource } from './lag';
import { escapeMarkup } from './markup';

/**
 * The timeline charts of the HTML report, inline SVG (no script, no external assets). A scenario
 * gets up to four charts over one time axis (seconds since its start), stacked so the eye can run
 * down from a dip in throughput to the backlog it built, the latency it caused and the alert it
 * raised: messages per second, consumer lag (messages behind, see lag.ts), end-to-end latency
 * (when the timeline has it), and a strip of alert states (when Prometheus watched the scenario).
 * Same width, same padding, same x mapping.
 */

// Line colours are chosen to stay apart from the verdict colours: red is reserved for failures
// (failed sends, failed verdicts, a firing alert), amber for the time a fault held and a pending alert.
const SERIES = {
  sent: '#2563eb',
  acked: '#0d9488',
  consumed: '#7c3aed',
  failed: '#dc2626',
  fault: '#d97706',
  latencyP50: '#0e7490',
  latencyMax: '#a21caf',
  lag: '#1e293b',
  lagExporter: '#0891b2',
  pending: '#f59e0b',
  firing: '#dc2626',
} as const;

const SVG_W = 960;
const PAD = { left: 52, right: 16, top: 16, bottom: 40 } as const;
const TIMELINE_H = 260;
const LATENCY_H = 170;
const LAG_H = 170;
const ALERT_ROW_H = 22;
const ALERT_PAD_Y = 4;
// A timeline point far out (a runner bug putting epoch seconds in `second`) must not make the
// renderer allocate billions of buckets; a day is far beyond any scenario.
const MAX_TIMELINE_SECONDS = 86_400;

/**
 * A timeline point without its second (its index in the bucket array), summed into as points are
 * read; with the exporter's consumer lag when the run sampled it into the point (see lag.ts).
 */
type Bucket = { -readonly [K in Exclude<keyof TimelinePoint, 'second'>]: TimelinePoint[K] } & { consumerLag: number | undefined };

/** A latency figure from a report: a report written before the field existed has none (or a tool wrote null). */
function latencyFigure(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function higher(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/**
 * One bucket per whole second from 0 to the last second with traffic. The runner may leave
 * quiet seconds out; filling them with zeros keeps a line from bridging an outage, which is
 * exactly what the chart exists to show. Latency stays undefined there: nothing was measured,
 * which is not the same as zero. A second listed twice (the runner does not do that) keeps the
 * higher latency figures, since percentiles cannot be merged.
 */
function perSecond(timeline: readonly TimelinePoint[]): Bucket[] {
  const last = Math.min(MAX_TIMELINE_SECONDS, timeline.reduce((m, p) => Math.max(m, Math.floor(finiteOr0(p.second))), -1));
  const buckets = Array.from({ length: last + 1 }, (): Bucket => ({ sent: 0, acked: 0, failed: 0, consumed: 0, latencyP50Ms: undefined, latencyMaxMs: undefined, consumerLag: undefined }));
  for (const p of timeline) {
    const b = buckets[Math.floor(finiteOr0(p.second))];
    if (b === undefined) continue; // before second 0 or past the cap: nothing meaningful to draw
    b.sent += p.sent;
    b.acked += p.acked;
    b.failed += p.failed;
    b.consumed += p.consumed;
    b.latencyP50Ms = higher(b.latencyP50Ms, latencyFigure(p.latencyP50Ms));
    b.latencyMaxMs = higher(b.latencyMaxMs, latencyFigure(p.latencyMaxMs));
    b.consumerLag = higher(b.consumerLag, latencyFigure((p as { readonly consumerLag?: unknown }).consumerLag));
  }
  return buckets;
}

/** A round tick step (1, 2 or 5 × 10^n) giving about `target` ticks over `range`. */
function niceStep(range: number, target: number): number {
  const raw = Math.max(range, 1e-9) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * magnitude >= raw) return m * magnitude;
  return 10 * magnitude;
}

/** Multiples of `step` from 0 to `max`, computed by multiplication so 0.1 steps do not drift. */
function ticks(max: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; i * step <= max + 1e-9; i++) out.push(Math.round(i * step * 1000) / 1000);
  return out;
}

function coord(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

/** The x axis every chart of a scenario shares: seconds since the start, 0 .. endS. */
interface TimeAxis {
  readonly x: (s: number) => number;
  readonly endS: number;
}

/** One chart's vertical geometry and value axis, over the shared time axis. */
interface Scale extends TimeAxis {
  readonly y: (v: number) => number;
  readonly maxY: number;
  readonly yStep: number;
  /** The SVG's height, and the plot area's top and bottom (where the x axis runs), in SVG units. */
  readonly height: number;
  readonly top: number;
  readonly bottom: number;
}

/** A fault's window in seconds since the scenario started; an unhealed fault has no end. */
interface FaultSpan {
  readonly start: number;
  readonly end: number | undefined;
}

/** What the charts of one scenario share. */
interface ChartFrame {
  readonly name: string;
  readonly origin: number | undefined;
  readonly buckets: readonly Bucket[];
  /** The faults that can be placed (none without a start instant; they still appear in the faults table). */
  readonly faults: readonly FaultWindow[];
  readonly faultsS: readonly FaultSpan[];
  readonly axis: TimeAxis;
}

function faultSeconds(f: FaultWindow, origin: number): FaultSpan {
  return { start: (f.startMs - origin) / 1000, end: f.endMs === undefined ? undefined : (f.endMs - origin) / 1000 };
}

function timeAxis(scenario: ScenarioResult, buckets: readonly Bucket[], faultsS: readonly FaultSpan[]): TimeAxis {
  const endS = Math.max(1, finiteOr0(scenario.durationMs) / 1000, buckets.length, ...faultsS.map((f) => f.end ?? f.start));
  const plotW = SVG_W - PAD.left - PAD.right;
  return { x: (s) => PAD.left + (Math.min(Math.max(s, 0), endS) / endS) * plotW, endS };
}

function chartFrame(scenario: ScenarioResult): ChartFrame {
  const origin = originMs(scenario);
  const buckets = perSecond(scenario.timeline);
  const faults = origin === undefined ? [] : scenario.faults;
  const faultsS = origin === undefined ? [] : faults.map((f) => faultSeconds(f, origin));
  return { name: scenario.name, origin, buckets, faults, faultsS, axis: timeAxis(scenario, buckets, faultsS) };
}

/**
 * A value axis from 0 to a round number at or above `peak` (at least 1), about `target` ticks, in a
 * chart `height` high; ticks at least `minStep` apart (1 for a count of messages: no "0.5 messages").
 */
function valueScale(axis: TimeAxis, height: number, peak: number, target: number, minStep = 0): Scale {
  const top = PAD.top;
  const bottom = height - PAD.bottom;
  const range = Math.max(1, peak);
  const yStep = Math.max(minStep, niceStep(range, target));
  const maxY = Math.ceil(range / yStep) * yStep;
  return { ...axis, y: (v) => bottom - (v / maxY) * (bottom - top), maxY, yStep, height, top, bottom };
}

/** The x ticks of the shared time axis, in seconds. */
function timeTicks(axis: TimeAxis): number[] {
  return ticks(axis.endS, niceStep(axis.endS, 10));
}

function svgAxes(scale: Scale, yTitle: string): string[] {
  const out: string[] = [];
  for (const v of ticks(scale.maxY, scale.yStep)) {
    const y = coord(scale.y(v));
    out.push(`<line x1="${PAD.left}" x2="${SVG_W - PAD.right}" y1="${y}" y2="${y}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${String(v)}</text>`);
  }
  for (const s of timeTicks(scale)) {
    const x = coord(scale.x(s));
    out.push(`<line x1="${x}" x2="${x}" y1="${coord(scale.bottom)}" y2="${coord(scale.bottom + 4)}" stroke="#94a3b8"/>`);
    out.push(`<text x="${x}" y="${coord(scale.bottom + 16)}" text-anchor="middle">${String(s)}</text>`);
  }
  out.push(`<line x1="${PAD.left}" x2="${SVG_W - PAD.right}" y1="${coord(scale.bottom)}" y2="${coord(scale.bottom)}" stroke="#94a3b8"/>`);
  out.push(`<text x="${coord((PAD.left + SVG_W - PAD.right) / 2)}" y="${scale.height - 4}" text-anchor="middle">seconds since the scenario started</text>`);
  out.push(`<text transform="translate(12 ${coord((scale.top + scale.bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeMarkup(yTitle)}</text>`);
  return out;
}

function svgFaults(scale: Scale, frame: ChartFrame): string[] {
  return frame.faults.flatMap((f, i) => {
    const window = frame.faultsS[i];
    if (window === undefined) return [];
    const x1 = scale.x(window.start);
    const x2 = scale.x(window.end ?? scale.endS);
    const label = window.end === undefined ? `${f.name} (not healed)` : f.name;
    // Overlapping faults would print their labels on top of each other; stagger them.
    const labelY = scale.top + 12 + 13 * (i % 3);
    return [
      `<rect class="fault" x="${coord(x1)}" y="${scale.top}" width="${coord(Math.max(1, x2 - x1))}" height="${coord(scale.bottom - scale.top)}" fill="${SERIES.fault}" fill-opacity="0.15" stroke="${SERIES.fault}" stroke-dasharray="4 3"><title>${escapeMarkup(`${f.name}: ${f.description}`)}</title></rect>`,
      `<text x="${coord(x1 + 4)}" y="${labelY}" fill="#92400e" font-weight="600">${escapeMarkup(label)}</text>`,
    ];
  });
}

/**
 * One series, a point in the middle of each second. An undefined value breaks the line (nothing
 * was measured there, which is not zero), so a series can be several polylines; a value with no
 * defined neighbour becomes a dot, since a one-point polyline draws nothing.
 */
function svgLine(scale: Scale, cls: string, colour: string, values: readonly (number | undefined)[], dash = ''): string[] {
  const runs: (readonly [number, number])[][] = [];
  let run: (readonly [number, number])[] | undefined;
  for (const [s, v] of values.entries()) {
    if (v === undefined) {
      run = undefined;
      continue;
    }
    if (run === undefined) runs.push((run = []));
    run.push([scale.x(s + 0.5), scale.y(v)]);
  }
  return runs.map((points) => {
    const [only] = points;
    if (points.length === 1 && only !== undefined) return `<circle class="${cls}" cx="${coord(only[0])}" cy="${coord(only[1])}" r="2.5" fill="${colour}"/>`;
    return `<polyline class="${cls}" points="${points.map(([x, y]) => `${coord(x)},${coord(y)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${dash} stroke-linejoin="round"/>`;
  });
}

function svgSeries(scale: Scale, buckets: readonly Bucket[]): string[] {
  const bucketW = scale.x(1) - scale.x(0);
  const bars = buckets.flatMap((b, s) => {
    if (b.failed <= 0) return [];
    const top = scale.y(b.failed);
    return [`<rect class="failed" x="${coord(scale.x(s) + bucketW * 0.15)}" y="${coord(top)}" width="${coord(Math.max(1, bucketW * 0.7))}" height="${coord(scale.bottom - top)}" fill="${SERIES.failed}"><title>${s} s: ${b.failed} failed sends</title></rect>`];
  });
  const line = (key: 'sent' | 'acked' | 'consumed', dash = ''): string[] => svgLine(scale, key, SERIES[key], buckets.map((b) => b[key]), dash);
  // Acknowledged often coincides exactly with sent, or with consumed: drawn last and dashed, it
  // lets the line under it show through its gaps, so all three stay visible.
  return [...bars, ...line('sent'), ...line('consumed'), ...line('acked', ' stroke-dasharray="6 3"')];
}

function svgChart(cls: string, height: number, title: string, body: readonly string[]): string {
  return [
    `<svg class="${cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SVG_W} ${height}" role="img" aria-label="${escapeMarkup(title)}" font-family="system-ui, sans-serif" font-size="11" fill="#475569">`,
    `<title>${escapeMarkup(title)}</title>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function timelineSvg(frame: ChartFrame): string {
  const peak = Math.max(0, ...frame.buckets.map((b) => Math.max(b.sent, b.acked, b.failed, b.consumed)));
  const scale = valueScale(frame.axis, TIMELINE_H, peak, 4, 1);
  return svgChart('timeline', TIMELINE_H, `Messages per second for ${frame.name}`, [...svgAxes(scale, 'messages / s'), ...svgFaults(scale, frame), ...svgSeries(scale, frame.buckets)]);
}

const LAG_COLOUR: Record<LagSource, string> = { workload: SERIES.lag, exporter: SERIES.lagExporter };

/**
 * Messages behind per second: the workload's own count and, when the run sampled it, the
 * exporter's (broker-side) lag, two lines on one scale (lag.ts); empty without traffic. The
 * workload's line is left out, with a note saying why, when it consumed nothing while messages
 * were acknowledged: a service under test without outputs shows its processing in effects, not
 * deliveries, and "everything behind" would be a false alarm. The exporter's line, if any, stays.
 */
function lagSvg(frame: ChartFrame): { readonly svg: string; readonly legend: readonly LegendItem[]; readonly note: string } {
  if (frame.buckets.length === 0) return { svg: '', legend: [], note: '' };
  const uncounted = frame.buckets.every((b) => b.consumed === 0) && frame.buckets.some((b) => b.acked > 0);
  const why = 'nothing was consumed where the workload could count it (a service whose processing shows in its effects, not in outputs, has no deliveries to subtract)';
  const lines = consumerLagLines(frame.buckets, !uncounted);
  // With the exporter's line drawn, "no consumer lag" would contradict the chart: only the workload's own count is missing.
  const note = !uncounted ? '' : lines.length === 0 ? `<p class="none">No consumer lag: ${why}.</p>` : `<p class="none">Only the exporter's lag is drawn: ${why}.</p>`;
  if (lines.length === 0) return { svg: '', legend: [], note };
  const peak = Math.max(0, ...lines.flatMap((l) => l.values.map((v) => v ?? 0)));
  const scale = valueScale(frame.axis, LAG_H, peak, 3, 1);
  const svg = svgChart('timeline lag', LAG_H, `Consumer lag for ${frame.name}`, [
    ...svgAxes(scale, 'messages behind'),
    ...svgFaults(scale, frame),
    ...lines.flatMap((l) => svgLine(scale, `lag lag-${l.source}`, LAG_COLOUR[l.source], l.values)),
  ]);
  return { svg, legend: lines.map((l): LegendItem => ['line', LAG_COLOUR[l.source], lagLabel(l.source)]), note };
}

/** p50 and max end-to-end latency per second; empty when no second has a latency (an older report). */
function latencySvg(frame: ChartFrame): string {
  if (!frame.buckets.some((b) => b.latencyP50Ms !== undefined || b.latencyMaxMs !== undefined)) return '';
  const peak = Math.max(0, ...frame.buckets.map((b) => Math.max(b.latencyP50Ms ?? 0, b.latencyMaxMs ?? 0)));
  const scale = valueScale(frame.axis, LATENCY_H, peak, 3);
  return svgChart('timeline latency', LATENCY_H, `End-to-end latency for ${frame.name}`, [
    ...svgAxes(scale, 'latency (ms)'),
    ...svgFaults(scale, frame),
    // Max first, so the median stays on top where the two meet.
    ...svgLine(scale, 'latency-max', SERIES.latencyMax, frame.buckets.map((b) => b.latencyMaxMs), ' stroke-dasharray="6 3"'),
    ...svgLine(scale, 'latency-p50', SERIES.latencyP50, frame.buckets.map((b) => b.latencyP50Ms)),
  ]);
}

interface AlertSeries {
  readonly alertname: string;
  /** The alert's labels as `k="v", ...`, sorted by name. */
  readonly labels: string;
  readonly observations: readonly AlertObservation[];
}

/** One series per distinct alertname and label set, in order of first appearance, each in time order. */
function alertSeries(alerts: readonly AlertObservation[]): AlertSeries[] {
  const byKey = new Map<string, { alertname: string; labels: string; observations: AlertObservation[] }>();
  for (const a of alerts) {
    const labels = Object.entries(a.labels)
      .sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0))
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ');
    const key = JSON.stringify([a.alertname, labels]);
    const series = byKey.get(key) ?? { alertname: a.alertname, labels, observations: [] };
    series.observations.push(a);
    byKey.set(key, series);
  }
  const sorted = [...byKey.values()].map((s) => ({ ...s, observations: [...s.observations].sort((a, b) => a.atMs - b.atMs) }));
  return sorted.sort((a, b) => (a.observations[0]?.atMs ?? 0) - (b.observations[0]?.atMs ?? 0));
}

function signedSeconds(s: number): string {
  return `${s < 0 ? '' : '+'}${s.toFixed(1)} s`;
}

/**
 * A row per alert: a bar from each pending or firing observation until the alert's next
 * observation (or the end of the chart), amber while pending, red while firing. Empty without
 * alerts or without a start instant to place them by.
 */
function alertsSvg(frame: ChartFrame, alerts: readonly AlertObservation[]): string {
  const origin = frame.origin;
  if (alerts.length === 0 || origin === undefined) return '';
  const rows = alertSeries(alerts);
  const height = 2 * ALERT_PAD_Y + rows.length * ALERT_ROW_H;
  const { x, endS } = frame.axis;
  const grid = timeTicks(frame.axis).map((s) => `<line x1="${coord(x(s))}" x2="${coord(x(s))}" y1="0" y2="${height}" stroke="#f1f5f9"/>`);
  const body = rows.flatMap((series, row) => {
    const rowTop = ALERT_PAD_Y + row * ALERT_ROW_H;
    const barY = rowTop + 12;
    const barH = ALERT_ROW_H - 15;
    const who = series.labels === '' ? series.alertname : `${series.alertname} {${series.labels}}`;
    const bars = series.observations.flatMap((a, i) => {
      if (a.state === 'inactive') return [];
      const next = series.observations[i + 1];
      const from = (a.atMs - origin) / 1000;
      const to = next === undefined ? endS : (next.atMs - origin) / 1000;
      const x1 = x(from);
      const colour = a.state === 'firing' ? SERIES.firing : SERIES.pending;
      const title = `${who}: ${a.state} from ${signedSeconds(from)} until ${next === undefined ? 'the end' : signedSeconds(to)}`;
      return [`<rect class="alert ${a.state}" x="${coord(x1)}" y="${barY}" width="${coord(Math.max(1, x(to) - x1))}" height="${barH}" fill="${colour}"><title>${escapeMarkup(title)}</title></rect>`];
    });
    return [
      `<line x1="${PAD.left}" x2="${SVG_W - PAD.right}" y1="${coord(barY + barH / 2)}" y2="${coord(barY + barH / 2)}" stroke="#e2e8f0"/>`,
      `<text x="${PAD.left + 2}" y="${rowTop + 9}" fill="#334155" font-weight="600">${escapeMarkup(series.alertname)}<title>${escapeMarkup(who)}</title></text>`,
      ...bars,
    ];
  });
  return svgChart('timeline alerts', height, `Alert states for ${frame.name}`, [...grid, ...body]);
}

type LegendItem = readonly [kind: 'line' | 'bar', colour: string, label: string];

function legend(items: readonly LegendItem[]): string {
  const item = ([kind, colour, label]: LegendItem): string => `<span class="swatch${kind === 'bar' ? ' bar' : ''}" style="background:${colour}"></span>${label}`;
  return `<p class="legend">${items.map(item).join('')}</p>`;
}

const FAULT_LEGEND: LegendItem = ['bar', SERIES.fault, 'fault window'];
const TIMELINE_LEGEND: readonly LegendItem[] = [
  ['line', SERIES.sent, 'sent'],
  ['line', SERIES.acked, 'acknowledged (dashed)'],
  ['line', SERIES.consumed, 'consumed'],
  ['bar', SERIES.failed, 'failed sends'],
  FAULT_LEGEND,
];
const LATENCY_LEGEND: readonly LegendItem[] = [['line', SERIES.latencyP50, 'p50 latency'], ['line', SERIES.latencyMax, 'max latency (dashed)'], FAULT_LEGEND];
const ALERT_LEGEND: readonly LegendItem[] = [['bar', SERIES.pending, 'alert pending'], ['bar', SERIES.firing, 'alert firing']];

/** The charts, top to bottom: throughput, consumer lag, latency, alert states (under whichever chart is last). */
export function htmlTimeline(scenario: ScenarioResult): string[] {
  const frame = chartFrame(scenario);
  const lag = lagSvg(frame);
  const latency = latencySvg(frame);
  const alerts = alertsSvg(frame, scenario.alerts);
  const charts: { readonly heading: string; readonly svg: string; readonly legend: readonly LegendItem[]; readonly notes: readonly string[] }[] = [
    { heading: 'Timeline', svg: timelineSvg(frame), legend: TIMELINE_LEGEND, notes: scenario.timeline.length === 0 ? ['<p class="none">No traffic was recorded.</p>'] : [] },
  ];
  if (lag.svg !== '') charts.push({ heading: 'Consumer lag', svg: lag.svg, legend: [...lag.legend, FAULT_LEGEND], notes: [] });
  const noLag = lag.note === '' ? [] : [lag.note];
  if (latency !== '') charts.push({ heading: 'End-to-end latency', svg: latency, legend: LATENCY_LEGEND, notes: [] });
  const noLatency = latency === '' && scenario.timeline.length > 0 ? ['<p class="none">No end-to-end latency was recorded.</p>'] : [];
  return charts.flatMap((c, i) => {
    const last = i === charts.length - 1;
    const strip = last && alerts !== '' ? [alerts] : [];
    const items = last && alerts !== '' ? [...c.legend, ...ALERT_LEGEND] : c.legend;
    return [`<h3>${c.heading}</h3>`, c.svg, ...strip, legend(items), ...c.notes];
  }).concat(noLag, noLatency);
}
