/**
 * What a PromQL expression reads: metric names, and label names (in matchers, in by / without /
 * on / ignoring / group_left / group_right lists, and in label_replace / label_join arguments).
 * A small tokenizer, not a full parser: enough to check dashboards and rules against the
 * telemetry vocabulary, and strict enough that an unknown construct is reported, not skipped.
 */

export interface LabelUse {
  readonly label: string;
  /** The metric whose selector carries the matcher; undefined for grouping and function arguments. */
  readonly metric: string | undefined;
  /** True for labels an expression creates itself (label_replace / label_join destination). */
  readonly created: boolean;
}

export interface PromqlReferences {
  readonly metrics: readonly string[];
  readonly labels: readonly LabelUse[];
}

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'variable'; text: string }
  | { kind: 'punct'; text: string };

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'atan2']);
const LITERALS = new Set(['inf', 'nan']);

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < expr.length && expr.charAt(i) !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < expr.length && expr.charAt(j) !== c) {
        if (expr.charAt(j) === '\\' && c !== '`') j++;
        text += expr.charAt(j);
        j++;
      }
      if (j >= expr.length) throw new Error(`unterminated string in ${expr}`);
      tokens.push({ kind: 'string', text });
      i = j + 1;
      continue;
    }
    if (c === '$') {
      // Grafana variables: $group, ${group}, $__rate_interval, [[group]] is not used here.
      const m = /^\$(\{[^}]+\}|[A-Za-z0-9_]+)/.exec(expr.slice(i));
      if (!m) throw new Error(`bad variable at ${i} in ${expr}`);
      tokens.push({ kind: 'variable', text: m[0] });
      i += m[0].length;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?(e[+-]?\d+)?((ms|s|m|h|d|w|y)(\d+(ms|s|m|h|d|w|y))*)?|\.\d+)/.exec(expr.slice(i));
    if (num && /[\d.]/.test(c)) {
      tokens.push({ kind: 'number', text: num[0] });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i));
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const op = /^(==|!=|=~|!~|>=|<=|[-+*/%^<>=(){}[\],:@!])/.exec(expr.slice(i));
    if (!op) throw new Error(`unexpected character "${c}" at ${i} in ${expr}`);
    tokens.push({ kind: 'punct', text: op[0] });
    i += op[0].length;
  }
  return tokens;
}

/** Metric names and label names an expression refers to. */
export function promqlReferences(expr: string): PromqlReferences {
  const tokens = tokenize(expr);
  const metrics: string[] = [];
  const labels: LabelUse[] = [];
  // Function calls whose string arguments name labels, with the argument position being read.
  const calls: { name: string; depth: number; arg: number }[] = [];
  let depth = 0;
  let bracket = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.kind === 'punct') {
      if (t.text === '(') depth++;
      else if (t.text === ')') {
        const top = calls[calls.length - 1];
        if (top && top.depth === depth) calls.pop();
        depth--;
      } else if (t.text === '[') bracket++;
      else if (t.text === ']') bracket--;
      else if (t.text === ',') {
        const top = calls[calls.length - 1];
        if (top && top.depth === depth) top.arg++;
      } else if (t.text === '{') {
        // A selector without a metric name, e.g. {__name__=~"..."}: not allowed in our files.
        const prev = tokens[i - 1];
        if (!(prev && prev.kind === 'ident')) throw new Error(`selector without a metric name in ${expr}`);
      }
      continue;
    }
    if (t.kind === 'string') {
      const top = calls[calls.length - 1];
      if (top && top.depth === depth) {
        // label_replace(v, dst, replacement, src, regex); label_join(v, dst, separator, src...)
        if (top.name === 'label_replace' && (top.arg === 1 || top.arg === 3)) labels.push({ label: t.text, metric: undefined, created: top.arg === 1 });
        if (top.name === 'label_join' && (top.arg === 1 || top.arg >= 3)) labels.push({ label: t.text, metric: undefined, created: top.arg === 1 });
      }
      continue;
    }
    if (t.kind !== 'ident' || bracket > 0) continue;
    const word = t.text;
    if (KEYWORDS.has(word)) {
      if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(word) && next?.kind === 'punct' && next.text === '(') {
        let j = i + 2;
        for (; j < tokens.length; j++) {
          const u = tokens[j]!;
          if (u.kind === 'punct' && u.text === ')') break;
          if (u.kind === 'ident') labels.push({ label: u.text, metric: undefined, created: false });
        }
        i = j; // the list's closing parenthesis is consumed with it
      }
      continue;
    }
    if (AGGREGATIONS.has(word) && next?.kind === 'ident' && (next.text === 'by' || next.text === 'without')) continue;
    if (next?.kind === 'punct' && next.text === '(') {
      // A function or an aggregation; its grouping clause, if written after it, is handled above.
      if (!AGGREGATIONS.has(word)) calls.push({ name: word, depth: depth + 1, arg: 0 });
      continue;
    }
    if (LITERALS.has(word.toLowerCase())) continue;
    metrics.push(word);
    if (next?.kind === 'punct' && next.text === '{') {
      let j = i + 2;
      for (; j < tokens.length; j++) {
        const u = tokens[j]!;
        if (u.kind === 'punct' && u.text === '}') break;
        if (u.kind === 'ident') labels.push({ label: u.text, metric: word, created: false });
        else if (u.kind === 'punct' && u.text === ',') continue;
        else if (u.kind === 'punct' && ['=', '!=', '=~', '!~'].includes(u.text)) {
          j++; // skip the value
        }
      }
      i = j;
    }
  }
  return { metrics: [...new Set(metrics)], labels };
}

export interface KnownMetric {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
}

/** Labels Prometheus attaches to every scraped series, and the histogram bucket label. */
const TARGET_LABELS = ['job', 'instance'];

/**
 * Problems with an expression's references: metrics not in `known` (histograms may be read as
 * `_bucket` / `_sum` / `_count`; counters are declared with their `_total`), matchers on labels the
 * metric does not carry, and grouping labels that no metric in the expression carries.
 */
export function referenceProblems(expr: string, known: readonly KnownMetric[], targetLabels: readonly string[] = []): string[] {
  // Target labels: added by the scrape (job, instance) or by the operator's relabelling and the
  // exporter's cluster label (the alert pack's keptLabels), so any series may carry them.
  const target = [...TARGET_LABELS, ...targetLabels];
  const byName = new Map<string, { labels: readonly string[] }>();
  for (const m of known) {
    if (m.type === 'histogram') {
      byName.set(`${m.name}_bucket`, { labels: [...m.labels, 'le'] });
      byName.set(`${m.name}_sum`, { labels: m.labels });
      byName.set(`${m.name}_count`, { labels: m.labels });
    } else byName.set(m.name, { labels: m.labels });
  }
  const problems: string[] = [];
  let refs: PromqlReferences;
  try {
    refs = promqlReferences(expr);
  } catch (err) {
    return [`cannot read expression: ${(err as Error).message}`];
  }
  const available = new Set<string>(target);
  for (const metric of refs.metrics) {
    const def = byName.get(metric);
    if (!def) problems.push(`unknown metric ${metric}`);
    else for (const l of def.labels) available.add(l);
  }
  for (const use of refs.labels) if (use.created) available.add(use.label);
  for (const use of refs.labels) {
    if (use.label === '__name__') {
      problems.push('selects by __name__: name metrics explicitly so they can be checked');
      continue;
    }
    if (use.metric !== undefined) {
      const def = byName.get(use.metric);
      if (def && !def.labels.includes(use.label) && !target.includes(use.label)) problems.push(`metric ${use.metric} has no label ${use.label}`);
    } else if (!available.has(use.label)) problems.push(`label ${use.label} is carried by none of ${refs.metrics.join(', ') || 'the (no) metrics'}`);
  }
  return problems;
}

/** Series Prometheus itself writes for every scrape target (EdaExporterDown reads `up`). */
export const PROMETHEUS_BUILTIN_METRICS: readonly KnownMetric[] = [{ name: 'up', type: 'gauge', labels: ['job', 'instance'] }];
