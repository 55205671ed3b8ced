/**
 * The tests' one reader of the Prometheus text exposition format (and of OpenMetrics text, which
 * adds exemplars and `# EOF`): what a /metrics page or `registry.metrics()` says, as samples.
 */
export interface Sample {
  /** As written on the line: a histogram's series are `<name>_bucket`, `<name>_sum`, `<name>_count`. */
  readonly name: string;
  /** Label values unescaped (`\"`, `\\`, `\n`). */
  readonly labels: Readonly<Record<string, string>>;
  /** `+Inf`, `-Inf` and `NaN` as the numbers they name. */
  readonly value: number;
  readonly timestamp?: number;
  /** OpenMetrics: `... 3 # {trace_id="..."} 0.2 1700000000.1` on a bucket or counter line. */
  readonly exemplar?: Omit<Sample, 'name' | 'exemplar'>;
}

/** Every sample of a page, in order; comments (`# HELP`, `# TYPE`, `# EOF`) and blank lines skipped. Throws on a line it cannot read. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    try {
      samples.push(parseSample(line));
    } catch (err) {
      throw new Error(`unparseable exposition line ${index + 1} (${(err as Error).message}): ${line}`);
    }
  });
  return samples;
}

/** The value of the one series of `name` whose labels include `labels`; undefined when none does, an error when several do. */
export function valueOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const found = matching(samples, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

/** The sum over the series of `name` whose labels include `labels`, on an exposition page (0 when none does). */
export function sample(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return matching(parseExposition(text), name, labels).reduce((sum, s) => sum + s.value, 0);
}

function matching(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const SPECIAL_VALUES = new Map([
  ['+Inf', Infinity],
  ['Inf', Infinity],
  ['-Inf', -Infinity],
  ['NaN', NaN],
]);

function parseSample(line: string): Sample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) throw new Error('no metric name');
  const { labels, end } = line[name.length] === '{' ? parseLabels(line, name.length) : { labels: {}, end: name.length };
  // After the labels nothing is quoted, so the first " # " starts the exemplar.
  const rest = line.slice(end);
  const hash = rest.indexOf(' # ');
  const own = valueAndTimestamp(hash === -1 ? rest : rest.slice(0, hash));
  if (hash === -1) return { name, labels, ...own };
  const exemplarText = rest.slice(hash + 3).trim();
  if (!exemplarText.startsWith('{')) throw new Error('an exemplar starts with its labels');
  const exemplar = parseLabels(exemplarText, 0);
  return { name, labels, ...own, exemplar: { labels: exemplar.labels, ...valueAndTimestamp(exemplarText.slice(exemplar.end)) } };
}

/** The label set that opens at `line[start]` (a `{`), values unescaped, and where it ends. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let at = start + 1;
  while (line[at] !== '}') {
    const name = LABEL_NAME.exec(line.slice(at))?.[0];
    if (name === undefined) throw new Error(`a label name was expected at column ${at + 1}`);
    at += name.length;
    if (line.slice(at, at + 2) !== '="') throw new Error(`label ${name} has no quoted value`);
    at += 2;
    let value = '';
    for (;;) {
      const c = line[at];
      if (c === undefined) throw new Error(`the value of label ${name} is not closed`);
      at += 1;
      if (c === '"') break;
      if (c === '\\') {
        const escaped = line[at];
        at += 1;
        value += escaped === 'n' ? '\n' : (escaped ?? '');
      } else {
        value += c;
      }
    }
    labels[name] = value;
    if (line[at] === ',') at += 1;
    else if (line[at] !== '}') throw new Error(`"," or "}" was expected after label ${name}`);
  }
  return { labels, end: at + 1 };
}

function valueAndTimestamp(text: string): { value: number; timestamp?: number } {
  const fields = text.trim().split(/\s+/);
  if (fields[0] === '' || fields.length > 2) throw new Error('a value and an optional timestamp were expected');
  const value = number(fields[0]!);
  return fields[1] === undefined ? { value } : { value, timestamp: number(fields[1]) };
}

function number(text: string): number {
  const special = SPECIAL_VALUES.get(text);
  if (special !== undefined) return special;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`${text} is not a number`);
  return n;
}
