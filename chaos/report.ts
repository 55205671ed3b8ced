import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertObservation, ChaosReport, ClientEvent, FaultWindow, InvariantResult, ScenarioCounts, ScenarioResult, TimelinePoint } from './types';

/**
 * One chaos run, rendered for three readers. CI reads JUnit XML, so a broken invariant fails the
 * pipeline and shows up by name in the test tab. A release manager reads one HTML page that must
 * open from a CI artefact or a ticket attachment with no network and no script policy to fight,
 * hence inline CSS and SVG only. Tools read the JSON, which is the report as-is.
 *
 * Almost every string in a report can come from a broker or client error message, so nothing is
 * trusted: everything is escaped, and characters XML 1.0 forbids are dropped rather than letting
 * one stray control byte make the whole JUnit file unparseable (the CI would then show no tests
 * at all, which reads as green on some dashboards).
 */

const EVENTS_SHOWN = 50;

// ---------------------------------------------------------------------------------------------
// Shared helpers

// The XML 1.0 Char production; anything outside it (NUL, most C0 controls, lone surrogates,
// U+FFFE/U+FFFF) makes a conforming parser reject the document, and HTML treats them as errors.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe as element text and as a quoted attribute value, in XML and in HTML. */
function escapeMarkup(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

// Parsers normalise raw whitespace in attribute values to spaces; character references survive,
// so a multi-line failure message stays multi-line in the CI's test view.
function xmlAttr(text: string): string {
  return escapeMarkup(text).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Terminal output: one line, no control characters (an error message could carry escape sequences). */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\t]+\s*/g, ' ').replace(/\p{Cc}/gu, '').trim();
}

function finiteOr0(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

function seconds(ms: number, digits: number): string {
  return (Math.max(0, finiteOr0(ms)) / 1000).toFixed(digits);
}

/** Figures are counts or milliseconds: integers print as-is, anything else to three decimals. */
function formatNumber(n: number): string {
  return Number.isInteger(n) || !Number.isFinite(n) ? String(n) : n.toFixed(3);
}

/** Epoch ms of the scenario's second 0, or undefined when `startedAt` is not a date. */
function originMs(scenario: ScenarioResult): number | undefined {
  const ms = Date.parse(scenario.startedAt);
  return Number.isNaN(ms) ? undefined : ms;
}

/** An epoch-ms instant as milliseconds since the scenario started (epoch ms if that is unknown). */
function relativeMs(atMs: number, origin: number | undefined): number {
  return origin === undefined ? atMs : atMs - origin;
}

const COUNT_LABELS: readonly (readonly [keyof ScenarioCounts, string])[] = [
  ['sent', 'sent'],
  ['acked', 'acknowledged'],
  ['failed', 'failed sends'],
  ['deliveries', 'deliveries'],
  ['uniqueConsumed', 'unique consumed'],
  ['duplicates', 'duplicates'],
  ['poison', 'poison'],
];

function scenariosPassed(report: ChaosReport): number {
  return report.scenarios.filter((s) => s.passed).length;
}

function verdict(passed: boolean): 'PASS' | 'FAIL' {
  return passed ? 'PASS' : 'FAIL';
}

// ---------------------------------------------------------------------------------------------
// JSON

export function renderJson(report: ChaosReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

interface Tally {
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
}

// A scenario that did not run to the end is an error, not a failure: the invariants may all
// hold on the little that was observed, and the CI must still go red.
function tally(scenario: ScenarioResult): Tally {
  const hasError = scenario.error !== undefined;
  return {
    tests: scenario.invariants.length + (hasError ? 1 : 0),
    failures: scenario.invariants.filter((i) => !i.passed).length,
    errors: hasError ? 1 : 0,
  };
}

/** JUnit's schema wants a timestamp without zone or fraction; the value is UTC. */
function junitTimestamp(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19);
}

function faultRange(fault: FaultWindow, origin: number | undefined): string {
  const start = Math.round(relativeMs(fault.startMs, origin));
  const end = fault.endMs === undefined ? '?' : String(Math.round(relativeMs(fault.endMs, origin)));
  return `${start}..${end} ms`;
}

function junitProperties(scenario: ScenarioResult): string[] {
  const origin = originMs(scenario);
  const props: (readonly [string, string])[] = [['system', scenario.system]];
  for (const f of scenario.faults) {
    props.push([`fault.${f.name}`, faultRange(f, origin)]);
    if (f.error !== undefined) props.push([`fault.${f.name}.error`, f.error]);
  }
  for (const [key] of COUNT_LABELS) props.push([`counts.${key}`, String(scenario.counts[key])]);
  return ['    <properties>', ...props.map(([n, v]) => `      <property name="${xmlAttr(n)}" value="${xmlAttr(v)}"/>`), '    </properties>'];
}

/** What a CI shows under a failed test: the figures behind the verdict, then the offending messages. */
function failureText(inv: InvariantResult): string {
  const figures = Object.entries(inv.figures).map(([k, v]) => `${k}: ${formatNumber(v)}`);
  const examples = inv.examples.length === 0 ? [] : ['examples:', ...inv.examples.map((e) => `  ${e}`)];
  return [...figures, ...examples].join('\n');
}

function junitInvariant(scenario: ScenarioResult, inv: InvariantResult): string[] {
  const open = `    <testcase classname="${xmlAttr(`chaos.${scenario.name}`)}" name="${xmlAttr(inv.name)}" time="0.000"`;
  if (inv.passed) return [`${open}/>`];
  return [`${open}>`, `      <failure message="${xmlAttr(inv.summary)}" type="InvariantViolated">${escapeMarkup(failureText(inv))}</failure>`, '    </testcase>'];
}

function junitScenarioError(scenario: ScenarioResult, error: string): string[] {
  const firstLine = error.split(/\r?\n/, 1)[0] ?? error;
  return [
    `    <testcase classname="${xmlAttr(`chaos.${scenario.name}`)}" name="scenario ran to the end" time="${seconds(scenario.durationMs, 3)}">`,
    `      <error message="${xmlAttr(firstLine)}" type="ScenarioError">${escapeMarkup(error)}</error>`,
    '    </testcase>',
  ];
}

function junitSuite(scenario: ScenarioResult): string[] {
  const t = tally(scenario);
  const attrs = [
    `name="${xmlAttr(scenario.name)}"`,
    `tests="${t.tests}"`,
    `failures="${t.failures}"`,
    `errors="${t.errors}"`,
    'skipped="0"',
    `time="${seconds(scenario.durationMs, 3)}"`,
    `timestamp="${xmlAttr(junitTimestamp(scenario.startedAt))}"`,
  ];
  return [
    `  <testsuite ${attrs.join(' ')}>`,
    ...junitProperties(scenario),
    ...scenario.invariants.flatMap((inv) => junitInvariant(scenario, inv)),
    ...(scenario.error === undefined ? [] : junitScenarioError(scenario, scenario.error)),
    '  </testsuite>',
  ];
}

export function renderJUnit(report: ChaosReport): string {
  const totals = report.scenarios.map(tally).reduce((a, b) => ({ tests: a.tests + b.tests, failures: a.failures + b.failures, errors: a.errors + b.errors }), { tests: 0, failures: 0, errors: 0 });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="eda-harness chaos" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${seconds(report.durationMs, 3)}">`,
    ...report.scenarios.flatMap(junitSuite),
    '</testsuites>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML

const CSS = `
:root { --pass: #15803d; --pass-bg: #dcfce7; --fail: #b91c1c; --fail-bg: #fee2e2; --muted: #64748b; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; margin: 0; background: #f8fafc; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 20px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 0; }
h3 { font-size: 14px; margin: 18px 0 6px; color: #334155; }
.meta { color: var(--muted); margin: 0; }
.badge { display: inline-block; font-weight: 700; font-size: 12px; padding: 2px 8px; border-radius: 4px; vertical-align: middle; letter-spacing: .04em; }
.badge.pass { background: var(--pass-bg); color: var(--pass); }
.badge.fail { background: var(--fail-bg); color: var(--fail); }
section.scenario { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--pass); border-radius: 6px; padding: 16px 20px; margin: 0 0 20px; }
section.scenario.fail { border-left-color: var(--fail); }
.scenario-head { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.description { color: #334155; margin: 6px 0 0; white-space: pre-wrap; }
.error { background: var(--fail-bg); color: var(--fail); border-radius: 4px; padding: 8px 12px; white-space: pre-wrap; margin: 12px 0 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: #475569; background: #f1f5f9; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.verdict { font-weight: 700; white-space: nowrap; }
tr.pass td.verdict { color: var(--pass); }
tr.fail td.verdict { color: var(--fail); }
tr.fail { background: #fff7f7; }
.figures, .examples { margin: 0; padding: 0; list-style: none; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.examples { margin-top: 4px; color: #7f1d1d; }
.summary-cell { white-space: pre-wrap; }
.timeline { width: 100%; height: auto; display: block; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.swatch { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin: 0 4px 0 12px; }
.swatch.bar { height: 10px; }
.events td { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.events td.message { white-space: pre-wrap; word-break: break-word; }
.more, .none { color: var(--muted); margin: 6px 0 0; }
nav ul { margin: 8px 0 0; padding-left: 18px; }
`;

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
  pending: '#f59e0b',
  firing: '#dc2626',
} as const;

function badge(passed: boolean): string {
  return `<span class="badge ${passed ? 'pass' : 'fail'}">${verdict(passed)}</span>`;
}

function htmlHeader(report: ChaosReport): string {
  const n = scenariosPassed(report);
  return [
    '<header>',
    `<h1>Chaos report ${badge(report.passed)}</h1>`,
    `<p class="meta">${escapeMarkup(report.tool)} · started ${escapeMarkup(report.startedAt)} · took ${seconds(report.durationMs, 1)} s · ${n} of ${report.scenarios.length} scenarios passed</p>`,
    htmlIndex(report),
    '</header>',
  ].join('\n');
}

// Anchors use the scenario's position, not its name, so no name can break out of the id.
function htmlIndex(report: ChaosReport): string {
  if (report.scenarios.length === 0) return '<p class="none">No scenarios ran.</p>';
  const items = report.scenarios.map((s, i) => `<li>${badge(s.passed)} <a href="#scenario-${i}">${escapeMarkup(s.name)}</a></li>`);
  return `<nav><ul>\n${items.join('\n')}\n</ul></nav>`;
}

function htmlCounts(counts: ScenarioCounts): string {
  const head = COUNT_LABELS.map(([, label]) => `<th class="num">${label}</th>`).join('');
  const row = COUNT_LABELS.map(([key]) => `<td class="num">${formatNumber(counts[key])}</td>`).join('');
  return `<table class="counts"><thead><tr>${head}</tr></thead><tbody><tr>${row}</tr></tbody></table>`;
}

function htmlInvariant(inv: InvariantResult): string {
  const figures = Object.entries(inv.figures).map(([k, v]) => `<li>${escapeMarkup(k)}: ${escapeMarkup(formatNumber(v))}</li>`);
  const examples = inv.examples.length === 0 ? '' : `<ul class="examples">${inv.examples.map((e) => `<li>${escapeMarkup(e)}</li>`).join('')}</ul>`;
  return [
    `<tr class="${inv.passed ? 'pass' : 'fail'}">`,
    `<td>${escapeMarkup(inv.name)}</td>`,
    `<td class="verdict">${verdict(inv.passed)}</td>`,
    `<td class="summary-cell">${escapeMarkup(inv.summary)}${examples}</td>`,
    `<td><ul class="figures">${figures.join('')}</ul></td>`,
    '</tr>',
  ].join('');
}

function htmlInvariants(invariants: readonly InvariantResult[]): string {
  if (invariants.length === 0) return '<p class="none">No invariants were checked.</p>';
  return ['<table class="invariants"><thead><tr><th>Invariant</th><th>Verdict</th><th>Summary</th><th>Figures</th></tr></thead><tbody>', ...invariants.map(htmlInvariant), '</tbody></table>'].join('\n');
}

function htmlFaults(scenario: ScenarioResult): string {
  if (scenario.faults.length === 0) return '<p class="none">No faults injected.</p>';
  const origin = originMs(scenario);
  const rows = scenario.faults.map((f) => {
    const healed = f.endMs === undefined ? ' <span class="badge fail">not healed</span>' : '';
    const error = f.error === undefined ? '' : `<div class="error">${escapeMarkup(f.error)}</div>`;
    const at = (ms: number): string => `${(relativeMs(ms, origin) / 1000).toFixed(1)} s`;
    const window = `${at(f.startMs)} → ${f.endMs === undefined ? '?' : at(f.endMs)}`;
    return `<tr><td>${escapeMarkup(f.name)}${healed}</td><td>${escapeMarkup(f.description)}${error}</td><td class="num">${escapeMarkup(window)}</td></tr>`;
  });
  return ['<table class="faults"><thead><tr><th>Fault</th><th>What it does</th><th class="num">Window</th></tr></thead><tbody>', ...rows, '</tbody></table>'].join('\n');
}

function htmlEvents(scenario: ScenarioResult): string {
  const events = scenario.events;
  if (events.length === 0) return '<p class="none">No client errors.</p>';
  const origin = originMs(scenario);
  const when = (e: ClientEvent): string => (origin === undefined ? new Date(e.atMs).toISOString() : `+${((e.atMs - origin) / 1000).toFixed(3)} s`);
  const rows = events.slice(0, EVENTS_SHOWN).map((e) => `<tr><td class="num">${escapeMarkup(when(e))}</td><td>${escapeMarkup(e.where)}</td><td class="message">${escapeMarkup(e.message)}</td></tr>`);
  const more = events.length > EVENTS_SHOWN ? [`<p class="more">… and ${events.length - EVENTS_SHOWN} more</p>`] : [];
  return ['<table class="events"><thead><tr><th class="num">At</th><th>Where</th><th>Message</th></tr></thead><tbody>', ...rows, '</tbody></table>', ...more].join('\n');
}

// --- timeline SVGs ---
//
// A scenario gets up to three charts over one time axis (seconds since its start), stacked so the
// eye can run down from a dip in throughput to the latency it caused and the alert it raised:
// messages per second, end-to-end latency (when the timeline has it), and a strip of alert states
// (when Prometheus watched the scenario). Same width, same padding, same x mapping.

const SVG_W = 960;
const PAD = { left: 52, right: 16, top: 16, bottom: 40 } as const;
const TIMELINE_H = 260;
const LATENCY_H = 170;
const ALERT_ROW_H = 22;
const ALERT_PAD_Y = 4;
// A timeline point far out (a runner bug putting epoch seconds in `second`) must not make the
// renderer allocate billions of buckets; a day is far beyond any scenario.
const MAX_TIMELINE_SECONDS = 86_400;

interface Bucket {
  sent: number;
  acked: number;
  failed: number;
  consumed: number;
  latencyP50Ms: number | undefined;
  latencyMaxMs: number | undefined;
}

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
  const buckets = Array.from({ length: last + 1 }, (): Bucket => ({ sent: 0, acked: 0, failed: 0, consumed: 0, latencyP50Ms: undefined, latencyMaxMs: undefined }));
  for (const p of timeline) {
    const b = buckets[Math.floor(finiteOr0(p.second))];
    if (b === undefined) continue; // before second 0 or past the cap: nothing meaningful to draw
    b.sent += p.sent;
    b.acked += p.acked;
    b.failed += p.failed;
    b.consumed += p.consumed;
    b.latencyP50Ms = higher(b.latencyP50Ms, latencyFigure(p.latencyP50Ms));
    b.latencyMaxMs = higher(b.latencyMaxMs, latencyFigure(p.latencyMaxMs));
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

/** A value axis from 0 to a round number at or above `peak` (at least 1), about `target` ticks, in a chart `height` high. */
function valueScale(axis: TimeAxis, height: number, peak: number, target: number): Scale {
  const top = PAD.top;
  const bottom = height - PAD.bottom;
  const range = Math.max(1, peak);
  const yStep = niceStep(range, target);
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
  // Sent and acknowledged often coincide exactly; dashing one keeps both visible.
  return [...bars, ...line('sent'), ...line('acked', ' stroke-dasharray="6 3"'), ...line('consumed')];
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
  const scale = valueScale(frame.axis, TIMELINE_H, peak, 4);
  return svgChart('timeline', TIMELINE_H, `Messages per second for ${frame.name}`, [...svgAxes(scale, 'messages / s'), ...svgFaults(scale, frame), ...svgSeries(scale, frame.buckets)]);
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

/** The charts, top to bottom: throughput, latency, alert states (under whichever chart is last). */
function htmlTimeline(scenario: ScenarioResult): string[] {
  const frame = chartFrame(scenario);
  const latency = latencySvg(frame);
  const alerts = alertsSvg(frame, scenario.alerts);
  const alertLegend = alerts === '' ? [] : ALERT_LEGEND;
  const noTraffic = scenario.timeline.length === 0 ? '<p class="none">No traffic was recorded.</p>' : '';
  if (latency === '') {
    const noLatency = scenario.timeline.length === 0 ? '' : '<p class="none">No end-to-end latency was recorded.</p>';
    return ['<h3>Timeline</h3>', timelineSvg(frame), alerts, legend([...TIMELINE_LEGEND, ...alertLegend]), noTraffic, noLatency];
  }
  return ['<h3>Timeline</h3>', timelineSvg(frame), legend(TIMELINE_LEGEND), noTraffic, '<h3>End-to-end latency</h3>', latency, alerts, legend([...LATENCY_LEGEND, ...alertLegend])];
}

/** Alert state changes as Prometheus reported them, relative to the scenario's start. */
function htmlAlerts(scenario: ScenarioResult): string {
  if (scenario.alerts.length === 0) return '';
  const origin = originMs(scenario);
  const rows = scenario.alerts.map((a) => {
    const at = origin === undefined ? new Date(a.atMs).toISOString() : `+${((a.atMs - origin) / 1000).toFixed(1)} s`;
    const labels = Object.entries(a.labels).map(([k, v]) => `${k}="${v}"`).join(', ');
    return `<tr><td class="num">${escapeMarkup(at)}</td><td>${escapeMarkup(a.alertname)}</td><td>${escapeMarkup(a.state)}</td><td class="message">${escapeMarkup(labels)}</td></tr>`;
  });
  return [`<h3>Alerts (${scenario.alerts.length} state changes)</h3>`, '<table class="events"><thead><tr><th class="num">At</th><th>Alert</th><th>State</th><th>Labels</th></tr></thead><tbody>', ...rows, '</tbody></table>'].join('\n');
}

function htmlScenario(scenario: ScenarioResult, index: number): string {
  const error = scenario.error === undefined ? '' : `<div class="error">Did not run to the end: ${escapeMarkup(scenario.error)}</div>`;
  return [
    `<section class="scenario ${scenario.passed ? 'pass' : 'fail'}" id="scenario-${index}">`,
    `<div class="scenario-head">${badge(scenario.passed)}<h2>${escapeMarkup(scenario.name)}</h2><span class="meta">${escapeMarkup(scenario.system)} · started ${escapeMarkup(scenario.startedAt)} · ${seconds(scenario.durationMs, 1)} s</span></div>`,
    `<p class="description">${escapeMarkup(scenario.description)}</p>`,
    error,
    '<h3>Counts</h3>',
    htmlCounts(scenario.counts),
    '<h3>Invariants</h3>',
    htmlInvariants(scenario.invariants),
    ...htmlTimeline(scenario),
    '<h3>Faults</h3>',
    htmlFaults(scenario),
    htmlAlerts(scenario),
    `<h3>Client events (${scenario.events.length})</h3>`,
    htmlEvents(scenario),
    '</section>',
  ]
    .filter((part) => part !== '')
    .join('\n');
}

export function renderHtml(report: ChaosReport): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Chaos report: ${verdict(report.passed)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    htmlHeader(report),
    ...report.scenarios.map(htmlScenario),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Files and terminal

export function writeReports(report: ChaosReport, dir: string): { json: string; junit: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, 'chaos-report.json'), junit: join(dir, 'chaos-junit.xml'), html: join(dir, 'chaos-report.html') };
  writeFileSync(paths.json, renderJson(report));
  writeFileSync(paths.junit, renderJUnit(report));
  writeFileSync(paths.html, renderHtml(report));
  return paths;
}

export function summarize(report: ChaosReport): string {
  const width = Math.max(0, ...report.scenarios.map((s) => oneLine(s.name).length));
  const indent = ' '.repeat(6);
  const lines = report.scenarios.flatMap((s) => {
    const c = s.counts;
    const head = `${verdict(s.passed)}  ${oneLine(s.name).padEnd(width)}  (${seconds(s.durationMs, 1)} s)  sent ${c.sent}, acked ${c.acked}, consumed ${c.uniqueConsumed} unique, ${c.duplicates} duplicates`;
    // The error comes first: it explains why the invariants below look the way they do.
    const error = s.error === undefined ? [] : [`${indent}! did not run to the end: ${oneLine(s.error)}`];
    const invariants = s.invariants.map((i) => `${indent}${i.passed ? '✓' : '✗'} ${oneLine(i.name)}: ${oneLine(i.summary)}`);
    return [head, ...error, ...invariants];
  });
  return [...lines, `${scenariosPassed(report)} of ${report.scenarios.length} scenarios passed`].join('\n');
}
