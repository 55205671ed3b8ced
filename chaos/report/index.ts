/**
 * One chaos run, rendered for three readers. CI reads JUnit XML (junit.ts), so a broken invariant
 * fails the pipeline and shows up by name in the test tab. A release manager reads one HTML page
 * (html.ts, with the charts of timeline-svg.ts) that must open from a CI artefact or a ticket
 * attachment with no network and no script policy to fight, hence inline CSS and SVG only. Tools
 * read the JSON (json.ts), which is the report as-is. A person at a terminal reads summary.ts.
 *
 * Almost every string in a report can come from a broker or client error message, so the markup
 * formats escape everything (markup.ts).
 */
export { renderJson } from './json';
export { renderJUnit } from './junit';
export { renderHtml } from './html';
export { summarize } from './summary';
export { prepareReportDir, writeReports } from './write-reports';
export type { ReportPaths } from './write-reports';
export type { HtmlReport, ReportedService } from './html';
