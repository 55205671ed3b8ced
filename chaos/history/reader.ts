import { readFileSync } from 'node:fs';
import { ConfigError } from '@eda-harness/core';
import { HISTORY_FORMAT, HISTORY_FORMAT_VERSION, type History, type HistoryHeader, type HistoryRecord } from './format';

/**
 * Reads a history back, refusing anything it cannot vouch for: a line that is not JSON, a record
 * of an unknown type, a field missing or of the wrong type, an unknown format version. Each error
 * names the file, the line and what is wrong there.
 */

type FieldKind = 'string' | 'number' | 'boolean' | 'object' | 'string?' | 'number?' | 'object?';

const FIELDS: Record<HistoryRecord['type'], Record<string, FieldKind>> = {
  'scenario-start': { t: 'number' },
  send: { t: 'number', id: 'string', key: 'string', seq: 'number', poison: 'boolean', destination: 'string', traceId: 'string?', spanId: 'string?' },
  'send-ack': { t: 'number', id: 'string', partition: 'number?', offset: 'string?' },
  'send-failed': { t: 'number', id: 'string', error: 'string' },
  delivery: { t: 'number', id: 'string', key: 'string', seq: 'number', consumer: 'string', partition: 'number?', offset: 'string?', redelivered: 'boolean', deadLettered: 'boolean', traceId: 'string?', spanId: 'string?' },
  effect: { t: 'number', id: 'string', effect: 'string' },
  'fault-start': { t: 'number', fault: 'string', description: 'string' },
  'fault-end': { t: 'number', fault: 'string', outcome: 'string', error: 'string?' },
  event: { t: 'number', where: 'string', message: 'string' },
  span: { t: 'number', name: 'string', kind: 'string', traceId: 'string', spanId: 'string', parentSpanId: 'string?' },
  'spans-read': { t: 'number', backend: 'string', url: 'string', traces: 'number', tracesFound: 'number', spans: 'number', exported: 'number?', exportFailed: 'number?', error: 'string?' },
  alert: { t: 'number', alertname: 'string', labels: 'object', state: 'string' },
  'exporter-lag': { t: 'number', messages: 'number' },
  'scenario-end': { t: 'number', error: 'string?', alertsWatched: 'boolean' },
  verdicts: { t: 'number', verdicts: 'object' },
};

const ENUMS: Partial<Record<HistoryRecord['type'], Record<string, readonly string[]>>> = {
  'fault-end': { outcome: ['healed', 'inject-failed', 'heal-failed'] },
  event: { where: ['produce', 'consume', 'connection', 'service'] },
  span: { kind: ['producer', 'consumer', 'other'] },
  alert: { state: ['pending', 'firing', 'inactive'] },
};

const HEADER_FIELDS: Record<string, FieldKind> = { scenario: 'string', description: 'string', system: 'string', startedAt: 'string', config: 'object', environment: 'object', harness: 'object' };

const HINT = 'a history is the <scenario>.history.jsonl file `eda-harness chaos run` writes beside its reports; restore the line from the original file, or run the scenario again';

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** What is wrong with `o` against `fields`, or undefined. */
function fieldProblem(o: Record<string, unknown>, fields: Record<string, FieldKind>): string | undefined {
  for (const [name, kind] of Object.entries(fields)) {
    const v = o[name];
    const optional = kind.endsWith('?');
    const base = kind.replace('?', '');
    if (v === undefined) {
      if (optional) continue;
      return `field "${name}" is missing`;
    }
    const ok = base === 'object' ? typeof v === 'object' && v !== null : typeof v === base && (base !== 'number' || Number.isFinite(v));
    if (!ok) return `field "${name}" must be a ${base === 'object' ? 'JSON object or array' : base}, got ${kindOf(v)}`;
  }
  return undefined;
}

/** Parses a history's text; `source` names it in errors (the file path). */
export function parseHistory(text: string, source: string): History {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const fail = (line: number, what: string): never => {
    throw new ConfigError(`${source}, line ${line}: ${what}`, { hint: HINT });
  };
  if (lines.length === 0) throw new ConfigError(`${source} is empty: it is not a chaos history`, { hint: HINT });
  const records: HistoryRecord[] = [];
  let header: HistoryHeader | undefined;
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    if (line.trim() === '') fail(n, 'the line is empty (every line must be one JSON object)');
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      fail(n, `not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(n, `must be a JSON object, got ${kindOf(value)}`);
    const o = value as Record<string, unknown>;
    if (i === 0) {
      if (o['type'] !== 'header' || o['format'] !== HISTORY_FORMAT) fail(n, `the first line must be the history header ({"type":"header","format":"${HISTORY_FORMAT}",…}): this is not a chaos history`);
      if (o['version'] !== HISTORY_FORMAT_VERSION) {
        throw new ConfigError(`${source}, line 1: unknown history format version ${JSON.stringify(o['version'])} (this eda-harness reads version ${HISTORY_FORMAT_VERSION})`, {
          hint: 'check it with the eda-harness version that wrote it (named in the header\'s "harness" field)',
        });
      }
      const problem = fieldProblem(o, HEADER_FIELDS);
      if (problem) fail(n, `header: ${problem}`);
      const config = o['config'] as Record<string, unknown>;
      const cp = fieldProblem(config, { timing: 'object', recoveryLimitMs: 'number', invariants: 'object', alertPack: 'boolean' });
      if (cp) fail(n, `header config: ${cp}`);
      if (!Array.isArray(config['invariants'])) fail(n, 'header config: field "invariants" must be an array');
      header = o as unknown as HistoryHeader;
      continue;
    }
    const type = o['type'];
    if (type === 'header') fail(n, 'a second header: two histories were joined into one file (a history has one header, on line 1)');
    if (typeof type !== 'string' || !(type in FIELDS)) {
      fail(n, `unknown record type ${JSON.stringify(type)} (known: ${Object.keys(FIELDS).join(', ')})`);
    }
    const t = type as HistoryRecord['type'];
    const problem = fieldProblem(o, FIELDS[t]);
    if (problem) fail(n, `${t} record: ${problem}`);
    for (const [field, allowed] of Object.entries(ENUMS[t] ?? {})) {
      if (!allowed.includes(o[field] as string)) fail(n, `${t} record: field "${field}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(o[field])}`);
    }
    records.push(o as unknown as HistoryRecord);
  }
  return { header: header as HistoryHeader, records };
}

/** Reads and parses a history file; a missing or unreadable file is a ConfigError saying so. */
export function readHistoryFile(path: string): History {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new ConfigError(`Cannot read the history ${path}: ${why}`, { hint: 'name a <scenario>.history.jsonl file from the report folder of `eda-harness chaos run`' });
  }
  return parseHistory(text, path);
}
