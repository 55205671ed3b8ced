import { basename } from 'node:path';
import type { ChaosReport, ClientEvent, InvariantResult, ScenarioCounts, ScenarioResult } from '../types';
import { COUNT_LABELS, formatNumber, originMs, relativeMs, scenariosPassed, seconds, verdict } from './format';
import { escapeMarkup } from './markup';
import { htmlTimeline } from './timeline-svg';

/**
 * The HTML page, for a release manager: one page that must open from a CI artefact or a ticket
 * attachment with no network and no script policy to fight, hence inline CSS and SVG only.
 */

const EVENTS_SHOWN = 50;

/** The service under test of a service run (`chaos run --service`): its config's name and version. */
export interface ReportedService {
  readonly name: string;
  readonly version: string;
}

/**
 * A report, with the service under test when the run was a service run. Optional, so a report
 * written before the field existed, or by a run of the catalog's scenarios, renders as before.
 */
export type HtmlReport = ChaosReport & { readonly service?: ReportedService | undefined };

/** `inventory-service 1.4.2`, or undefined when the report names no usable service. */
function serviceLabel(report: HtmlReport): string | undefined {
  const s: unknown = report.service;
  if (typeof s !== 'object' || s === null) return undefined;
  const { name, version } = s as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '') return undefined;
  return typeof version === 'string' && version.trim() !== '' ? `${name} ${version}` : `${name} (version not given)`;
}

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
.sut { margin: 0 0 4px; font-size: 15px; }
.sut strong { font-weight: 700; }
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
.events td.num { white-space: nowrap; }
.events td { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.events td.message { white-space: pre-wrap; word-break: break-word; }
.more, .none { color: var(--muted); margin: 6px 0 0; }
nav ul { margin: 8px 0 0; padding-left: 18px; }
`;

function badge(passed: boolean): string {
  return `<span class="badge ${passed ? 'pass' : 'fail'}">${verdict(passed)}</span>`;
}

function htmlHeader(report: HtmlReport, service: string | undefined): string {
  const n = scenariosPassed(report);
  return [
    '<header>',
    `<h1>Chaos report ${badge(report.passed)}</h1>`,
    ...(service === undefined ? [] : [`<p class="sut">Service under test: <strong class="service">${escapeMarkup(service)}</strong></p>`]),
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

function htmlScenario(scenario: ScenarioResult, index: number, service: string | undefined): string {
  const error = scenario.error === undefined ? '' : `<div class="error">Did not run to the end: ${escapeMarkup(scenario.error)}</div>`;
  return [
    `<section class="scenario ${scenario.passed ? 'pass' : 'fail'}" id="scenario-${index}">`,
    `<div class="scenario-head">${badge(scenario.passed)}<h2>${escapeMarkup(scenario.name)}</h2><span class="meta">${service === undefined ? '' : `${escapeMarkup(service)} on `}${escapeMarkup(scenario.system)} · started ${escapeMarkup(scenario.startedAt)} · ${seconds(scenario.durationMs, 1)} s</span></div>`,
    `<p class="description">${escapeMarkup(scenario.description)}</p>`,
    error,
    ...(scenario.history === undefined ? [] : [`<p class="description">Every operation is in the history <code>${escapeMarkup(basename(scenario.history))}</code> beside this report; <code>eda-harness chaos check ${escapeMarkup(basename(scenario.history))}</code> re-checks the verdicts from it.</p>`]),
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

export function renderHtml(report: HtmlReport): string {
  const service = serviceLabel(report);
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
    htmlHeader(report, service),
    ...report.scenarios.map((s, i) => htmlScenario(s, i, service)),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
