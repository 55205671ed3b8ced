import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosReport, ClientEvent, FaultWindow, InvariantResult, ScenarioCounts, ScenarioResult, TimelinePoint } from './types';

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
// (failed sends, failed verdicts), amber for the time a fault held.
const SERIES = { sent: '#2563eb', acked: '#0d9488', consumed: '#7c3aed', failed: '#dc2626', fault: '#d97706' } as const;

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

// --- timeline SVG ---

const SVG_W = 960;
const SVG_H = 260;
const PAD = { left: 52, right: 16, top: 16, bottom: 40 } as const;
// A timeline point far out (a runner bug putting epoch seconds in `second`) must not make the
// renderer allocate billions of buckets; a day is far beyond any scenario.
const MAX_TIMELINE_SECONDS = 86_400;

interface Bucket {
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly consumed: number;
}

/**
 * One bucket per whole second from 0 to the last second with traffic. The runner may leave
 * quiet seconds out; filling them with zeros keeps a line from bridging an outage, which is
 * exactly what the chart exists to show.
 */
function perSecond(timeline: readonly TimelinePoint[]): Bucket[] {
  const last = Math.min(MAX_TIMELINE_SECONDS, timeline.reduce((m, p) => Math.max(m, Math.floor(finiteOr0(p.second))), -1));
  const buckets = Array.from({ length: last + 1 }, () => ({ sent: 0, acked: 0, failed: 0, consumed: 0 }));
  for (const p of timeline) {
    const b = buckets[Math.floor(finiteOr0(p.second))];
    if (b === undefined) continue; // before second 0 or past the cap: nothing meaningful to draw
    b.sent += p.sent;
    b.acked += p.acked;
    b.failed += p.failed;
    b.consumed += p.consumed;
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

function coord(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

interface Scale {
  readonly x: (s: number) => number;
  readonly y: (v: number) => number;
  readonly endS: number;
  readonly maxY: number;
}

function timelineScale(scenario: ScenarioResult, buckets: readonly Bucket[], faultsS: readonly { start: number; end: number | undefined }[]): Scale {
  const endS = Math.max(1, finiteOr0(scenario.durationMs) / 1000, buckets.length, ...faultsS.map((f) => f.end ?? f.start));
  const peak = Math.max(1, ...buckets.map((b) => Math.max(b.sent, b.acked, b.failed, b.consumed)));
  const step = niceStep(peak, 4);
  const maxY = Math.ceil(peak / step) * step;
  const plotW = SVG_W - PAD.left - PAD.right;
  const plotH = SVG_H - PAD.top - PAD.bottom;
  return {
    x: (s) => PAD.left + (Math.min(Math.max(s, 0), endS) / endS) * plotW,
    y: (v) => PAD.top + plotH - (v / maxY) * plotH,
    endS,
    maxY,
  };
}

function svgAxes(scale: Scale): string[] {
  const out: string[] = [];
  const bottom = scale.y(0);
  const yStep = niceStep(scale.maxY, 4);
  for (let v = 0; v <= scale.maxY + 1e-9; v += yStep) {
    const y = coord(scale.y(v));
    out.push(`<line x1="${PAD.left}" x2="${SVG_W - PAD.right}" y1="${y}" y2="${y}" stroke="#e2e8f0"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatNumber(v)}</text>`);
  }
  const xStep = niceStep(scale.endS, 10);
  for (let s = 0; s <= scale.endS + 1e-9; s += xStep) {
    const x = coord(scale.x(s));
    out.push(`<line x1="${x}" x2="${x}" y1="${coord(bottom)}" y2="${coord(bottom + 4)}" stroke="#94a3b8"/>`);
    out.push(`<text x="${x}" y="${coord(bottom + 16)}" text-anchor="middle">${formatNumber(Math.round(s * 1000) / 1000)}</text>`);
  }
  out.push(`<line x1="${PAD.left}" x2="${SVG_W - PAD.right}" y1="${coord(bottom)}" y2="${coord(bottom)}" stroke="#94a3b8"/>`);
  out.push(`<text x="${coord((PAD.left + SVG_W - PAD.right) / 2)}" y="${SVG_H - 4}" text-anchor="middle">seconds since the scenario started</text>`);
  out.push(`<text transform="translate(12 ${coord(PAD.top + (bottom - PAD.top) / 2)}) rotate(-90)" text-anchor="middle">messages / s</text>`);
  return out;
}

function svgFaults(scale: Scale, faults: readonly FaultWindow[], faultsS: readonly { start: number; end: number | undefined }[]): string[] {
  return faults.flatMap((f, i) => {
    const window = faultsS[i];
    if (window === undefined) return [];
    const x1 = scale.x(window.start);
    const x2 = scale.x(window.end ?? scale.endS);
    const label = window.end === undefined ? `${f.name} (not healed)` : f.name;
    // Overlapping faults would print their labels on top of each other; stagger them.
    const labelY = PAD.top + 12 + 13 * (i % 3);
    return [
      `<rect class="fault" x="${coord(x1)}" y="${PAD.top}" width="${coord(Math.max(1, x2 - x1))}" height="${coord(scale.y(0) - PAD.top)}" fill="${SERIES.fault}" fill-opacity="0.15" stroke="${SERIES.fault}" stroke-dasharray="4 3"><title>${escapeMarkup(`${f.name}: ${f.description}`)}</title></rect>`,
      `<text x="${coord(x1 + 4)}" y="${labelY}" fill="#92400e" font-weight="600">${escapeMarkup(label)}</text>`,
    ];
  });
}

function svgSeries(scale: Scale, buckets: readonly Bucket[]): string[] {
  const bucketW = scale.x(1) - scale.x(0);
  const bars = buckets.flatMap((b, s) => {
    if (b.failed <= 0) return [];
    const top = scale.y(b.failed);
    return [`<rect class="failed" x="${coord(scale.x(s) + bucketW * 0.15)}" y="${coord(top)}" width="${coord(Math.max(1, bucketW * 0.7))}" height="${coord(scale.y(0) - top)}" fill="${SERIES.failed}"><title>${s} s: ${b.failed} failed sends</title></rect>`];
  });
  const line = (key: 'sent' | 'acked' | 'consumed', dash: string): string => {
    const points = buckets.map((b, s) => `${coord(scale.x(s + 0.5))},${coord(scale.y(b[key]))}`).join(' ');
    return `<polyline class="${key}" points="${points}" fill="none" stroke="${SERIES[key]}" stroke-width="2"${dash} stroke-linejoin="round"/>`;
  };
  // Sent and acknowledged often coincide exactly; dashing one keeps both visible.
  return buckets.length === 0 ? bars : [...bars, line('sent', ''), line('acked', ' stroke-dasharray="6 3"'), line('consumed', '')];
}

/** A fault's window in seconds since the scenario started; an unhealed fault has no end. */
function faultSeconds(f: FaultWindow, origin: number): { start: number; end: number | undefined } {
  return { start: (f.startMs - origin) / 1000, end: f.endMs === undefined ? undefined : (f.endMs - origin) / 1000 };
}

function timelineSvg(scenario: ScenarioResult): string {
  const origin = originMs(scenario);
  const buckets = perSecond(scenario.timeline);
  // Without a start instant the faults cannot be placed; they still appear in the faults table.
  const placeable = origin === undefined ? [] : scenario.faults;
  const faultsS = origin === undefined ? [] : placeable.map((f) => faultSeconds(f, origin));
  const scale = timelineScale(scenario, buckets, faultsS);
  const body = [...svgAxes(scale), ...svgFaults(scale, placeable, faultsS), ...svgSeries(scale, buckets)];
  const title = `Messages per second for ${scenario.name}`;
  return [
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SVG_W} ${SVG_H}" role="img" aria-label="${escapeMarkup(title)}" font-family="system-ui, sans-serif" font-size="11" fill="#475569">`,
    `<title>${escapeMarkup(title)}</title>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function timelineLegend(): string {
  const item = (cls: string, colour: string, label: string): string => `<span class="swatch${cls}" style="background:${colour}"></span>${label}`;
  return `<p class="legend">${item('', SERIES.sent, 'sent')}${item('', SERIES.acked, 'acknowledged (dashed)')}${item('', SERIES.consumed, 'consumed')}${item(' bar', SERIES.failed, 'failed sends')}${item(' bar', SERIES.fault, 'fault window')}</p>`;
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
  const noTraffic = scenario.timeline.length === 0 ? '<p class="none">No traffic was recorded.</p>' : '';
  return [
    `<section class="scenario ${scenario.passed ? 'pass' : 'fail'}" id="scenario-${index}">`,
    `<div class="scenario-head">${badge(scenario.passed)}<h2>${escapeMarkup(scenario.name)}</h2><span class="meta">${escapeMarkup(scenario.system)} · started ${escapeMarkup(scenario.startedAt)} · ${seconds(scenario.durationMs, 1)} s</span></div>`,
    `<p class="description">${escapeMarkup(scenario.description)}</p>`,
    error,
    '<h3>Counts</h3>',
    htmlCounts(scenario.counts),
    '<h3>Invariants</h3>',
    htmlInvariants(scenario.invariants),
    '<h3>Timeline</h3>',
    timelineSvg(scenario),
    timelineLegend(),
    noTraffic,
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
