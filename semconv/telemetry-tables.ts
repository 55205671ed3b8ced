import { SEMCONV_VERSION } from './attributes';
import { HEADER } from './headers';
import { METRICS } from './metrics';
import type { MetricDefinition } from './metrics';
import { SPANS } from './spans';
import type { SpanDefinition } from './spans';

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * The "Spans emitted" and "Metrics emitted" tables of docs/reference/telemetry.md, printed from this package so the
 * documentation cannot drift from the code.
 */
export function renderTelemetryTables(): string {
  const lines: string[] = [];
  lines.push('### Spans emitted', '');
  lines.push(`Attribute names follow the OpenTelemetry messaging semantic conventions v${SEMCONV_VERSION}; \`eda.*\` attributes are this package's own. Producers also write the ${code(HEADER.PRODUCED_AT)} header (epoch milliseconds) next to \`traceparent\`, \`tracestate\` and \`baggage\`.`, '');
  lines.push('| Span | Kind | System | Emitted | Attributes |', '|---|---|---|---|---|');
  for (const s of SPANS) lines.push(spanRow(s));
  lines.push('', '### Metrics emitted', '');
  lines.push('| Metric | Type | Unit | Labels | Buckets (s) | From | Meaning |', '|---|---|---|---|---|---|---|');
  for (const m of METRICS) lines.push(metricRow(m));
  return `${lines.join('\n')}\n`;
}

function spanRow(s: SpanDefinition): string {
  return `| ${code(s.name)} | ${s.kind} | ${s.system} | ${cell(s.when)} | ${s.attributes.map(code).join(', ')} |`;
}

function metricRow(m: MetricDefinition): string {
  const buckets = m.buckets ? m.buckets.join(', ') : '';
  return `| ${code(m.name)} | ${m.type} | ${code(m.unit)} | ${m.labels.map(code).join(', ')} | ${buckets} | ${m.producedBy} | ${cell(m.help)} |`;
}
