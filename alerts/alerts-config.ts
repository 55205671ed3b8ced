import { closeSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '@eda-harness/core';
import { E2E_LATENCY_BUCKETS_SECONDS } from '@eda-harness/semconv';
import { alertPack } from './alert-rules';

/**
 * Everything an operator may tune in the alert pack. `eda-harness alerts build --config file.json`
 * merges a partial JSON file over {@link DEFAULT_ALERTS_CONFIG}; unknown keys are rejected so a
 * typo never silently leaves a default in place.
 */
export interface AlertThresholds {
  /** KafkaConsumerLagSecondsHigh: age of the oldest unconsumed message (warning / critical). */
  readonly kafkaLagSecondsWarning: number;
  readonly kafkaLagSecondsCritical: number;
  /** KafkaConsumerStopped: no committed-offset movement for this long while lag exists, and no deliveries. */
  readonly kafkaStoppedAfterSeconds: number;
  /** KafkaConsumerStalled: as above, but the consumer is still being handed messages (a poison-message loop). */
  readonly kafkaStalledAfterSeconds: number;
  /** KafkaConsumerFallingBehind: lag never reached 0 and trended up over this window. */
  readonly kafkaFallingBehindWindowSeconds: number;
  /** KafkaConsumerFallingBehind: the delay (lag in seconds) must stay above this over the window (0: any delay). */
  readonly kafkaFallingBehindMinLagSeconds: number;
  /**
   * Lag in messages a group may keep without being judged stopped, stalled or memberless
   * (KafkaConsumerStopped and KafkaConsumerStalled per partition, KafkaConsumerGroupEmptyWithLag
   * per group): for consumers that by design stay a few messages behind. 0: any lag counts.
   */
  readonly kafkaAllowedLagMessages: number;
  /** KafkaTimeToDrainHigh: lag ÷ consumption rate. */
  readonly kafkaTimeToDrainSeconds: number;
  /** DeadLetterMessagesArriving: more than this many messages entered a DLQ within the window. */
  readonly dlqArrivingMessages: number;
  readonly dlqArrivingWindowSeconds: number;
  /** DeadLetterRatioHigh: share of consumed messages sent to a DLQ. */
  readonly dlqRatio: number;
  /** RabbitMqQueueGrowing: ready messages never reached 0 and trended up over this window. */
  readonly rabbitmqQueueGrowingWindowSeconds: number;
  /** MessageLatencySloBurn: the objective. `e2eLatencySloSeconds` must be a bucket boundary of eda_message_e2e_latency_seconds. */
  readonly e2eLatencySloSeconds: number;
  readonly e2eLatencySloTarget: number;
  /**
   * Multi-window burn rates (Google SRE workbook): fast (1h and 5m) and slow (6h and 30m) page,
   * ticket (3d and 6h) opens a ticket.
   */
  readonly e2eFastBurnRate: number;
  readonly e2eSlowBurnRate: number;
  readonly e2eTicketBurnRate: number;
  /**
   * Traffic guard: a burn-rate tier needs at least this many processed messages per second over
   * its long window, so one slow message among three does not page.
   */
  readonly e2eSloMinMessagesPerSecond: number;
  readonly producerErrorRatio: number;
  readonly processingErrorRatio: number;
  /** ClockSkewSuspected: share of messages whose produced-at lies in the consumer's future. */
  readonly clockSkewRatio: number;
  /** EdaExporterStale: seconds since the exporter's last successful collection. */
  readonly exporterStaleSeconds: number;
}

/** Thresholds a groupOverrides entry may set. */
export const GROUP_OVERRIDE_KEYS = [
  'kafkaLagSecondsWarning',
  'kafkaLagSecondsCritical',
  'kafkaStoppedAfterSeconds',
  'kafkaStalledAfterSeconds',
  'kafkaAllowedLagMessages',
  'kafkaFallingBehindWindowSeconds',
  'kafkaFallingBehindMinLagSeconds',
] as const;

/** The alerts generated once per groupOverrides entry: the only ones an entry's `for` may name. */
export const GROUP_VARIANT_ALERTS: Readonly<Record<string, readonly ('warning' | 'critical')[]>> = {
  KafkaConsumerLagSecondsHigh: ['warning', 'critical'],
  KafkaConsumerStopped: ['critical'],
  KafkaConsumerStalled: ['critical'],
  KafkaConsumerFallingBehind: ['warning'],
  KafkaConsumerGroupEmptyWithLag: ['critical'],
};

export type GroupOverride = { readonly groups: string; readonly for?: Readonly<Record<string, string>> } & Partial<Pick<AlertThresholds, (typeof GROUP_OVERRIDE_KEYS)[number]>>;

export interface GrafanaAlertingConfig {
  /** UID of the Prometheus datasource the Grafana rules query (docker-compose provisions `prometheus`). */
  readonly datasourceUid: string;
  readonly folder: string;
  /** Evaluation interval of the Grafana rule groups. */
  readonly interval: string;
}

export interface AlertsConfig {
  /** Base URL of alerts/runbook.md; each rule links to `#<alertname in lower case>`. */
  readonly runbookUrl: string;
  /** Prometheus job name of the eda-harness exporter (EdaExporterDown reads `up` for it). */
  readonly exporterJob: string;
  /** Labels added to every alert, e.g. {"team": "payments"}. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Target labels every alert keeps through its aggregations and joins, besides the labels that
   * name what is wrong (group, topic, queue…): where the series come from (the exporter's
   * `cluster`, Kubernetes `namespace`, an `env` or `team` from relabelling). Two clusters' lags
   * stay two alerts, and Alertmanager can route on them. A label a series lacks is simply empty.
   */
  readonly keptLabels: readonly string[];
  /**
   * Per-group thresholds for the Kafka group rules, e.g. a Connect sink or a Flink job that commits
   * every 15 minutes: `[{"groups": "connect-*", "kafkaStoppedAfterSeconds": 3600}]`. Each entry
   * generates its own variant of the rules for the groups it matches (a glob: `*` is any
   * characters); the first matching entry applies, other groups keep the thresholds above.
   */
  readonly groupOverrides: readonly GroupOverride[];
  readonly thresholds: AlertThresholds;
  /** `for:` overrides, by alert name or `AlertName:severity`, as Prometheus durations ("30s", "5m"). */
  readonly for: Readonly<Record<string, string>>;
  /** Rule-group evaluation interval written into the Prometheus rule files (empty: Prometheus's global one). */
  readonly evaluationInterval: string;
  readonly grafana: GrafanaAlertingConfig;
  /** The Prometheus Operator resource (`alerts/kubernetes/prometheus-rule.yml`). */
  readonly kubernetes: KubernetesRuleConfig;
}

export interface KubernetesRuleConfig {
  /**
   * Labels added to the PrometheusRule's metadata, for the rule selector of your Prometheus
   * (kube-prometheus-stack selects `release: <its release name>` by default).
   */
  readonly ruleLabels: Readonly<Record<string, string>>;
}

export const DEFAULT_ALERTS_CONFIG: AlertsConfig = {
  runbookUrl: 'https://github.com/eda-harness/eda-harness/blob/main/alerts/runbook.md',
  exporterJob: 'eda-exporter',
  labels: {},
  keptLabels: ['cluster', 'namespace', 'env', 'team'],
  groupOverrides: [],
  thresholds: {
    kafkaLagSecondsWarning: 300,
    kafkaLagSecondsCritical: 900,
    kafkaStoppedAfterSeconds: 600,
    kafkaStalledAfterSeconds: 300,
    kafkaFallingBehindWindowSeconds: 900,
    kafkaFallingBehindMinLagSeconds: 0,
    kafkaAllowedLagMessages: 0,
    kafkaTimeToDrainSeconds: 1800,
    dlqArrivingMessages: 0,
    dlqArrivingWindowSeconds: 600,
    dlqRatio: 0.01,
    rabbitmqQueueGrowingWindowSeconds: 900,
    e2eLatencySloSeconds: 1,
    e2eLatencySloTarget: 0.99,
    e2eFastBurnRate: 14.4,
    e2eSlowBurnRate: 6,
    e2eTicketBurnRate: 1,
    e2eSloMinMessagesPerSecond: 0.05,
    producerErrorRatio: 0.01,
    processingErrorRatio: 0.05,
    clockSkewRatio: 0.01,
    exporterStaleSeconds: 120,
  },
  for: {},
  evaluationInterval: '',
  grafana: { datasourceUid: 'prometheus', folder: 'eda-harness', interval: '1m' },
  kubernetes: { ruleLabels: {} },
};

/**
 * A Prometheus duration as model.ParseDuration reads it: units largest first, each at most once
 * ("1h30m", not "30m1h"), and at most about 292 years (Prometheus keeps nanoseconds in an int64).
 * Anything else would be written into a rule file that Prometheus refuses to load.
 */
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNIT_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;
const MAX_DURATION_MS = Math.floor((2 ** 63 - 1) / 1e6);

export function isPrometheusDuration(text: string): boolean {
  const m = text === '' ? null : DURATION.exec(text);
  if (!m) return false;
  const ms = DURATION_UNIT_MS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
  return ms <= MAX_DURATION_MS;
}

/** Range windows are written into PromQL as durations; a year is more than any retention. */
const MAX_WINDOW_SECONDS = 31_536_000;

/**
 * Label names the alerts get from elsewhere: Prometheus and Grafana name every alert with
 * `alertname` (a config label of that name would rename all of them), the pack sets `severity`
 * per rule, Grafana sets `grafana_folder`, and names starting with `__` are reserved.
 */
const RESERVED_LABELS: Readonly<Record<string, string>> = {
  alertname: 'Prometheus and Grafana name each alert with it, so it would rename every alert',
  severity: 'the pack sets it per rule (warning or critical)',
  grafana_folder: 'Grafana sets it to the folder of the rule',
};

/** Merges a partial configuration over the defaults and validates the result. */
export function resolveAlertsConfig(partial: unknown, source = 'alerts config'): AlertsConfig {
  if (partial === undefined || partial === null) return DEFAULT_ALERTS_CONFIG;
  const p = asObject(partial, source);
  checkKeys(p, Object.keys(DEFAULT_ALERTS_CONFIG), source);
  const thresholds = { ...DEFAULT_ALERTS_CONFIG.thresholds };
  if (p['thresholds'] !== undefined) {
    const t = asObject(p['thresholds'], `${source}: thresholds`);
    checkKeys(t, Object.keys(thresholds), `${source}: thresholds`);
    for (const [k, v] of Object.entries(t)) (thresholds as Record<string, number>)[k] = thresholdValue(v, `${source}: thresholds.${k}`);
  }
  const grafana = { ...DEFAULT_ALERTS_CONFIG.grafana };
  if (p['grafana'] !== undefined) {
    const g = asObject(p['grafana'], `${source}: grafana`);
    checkKeys(g, Object.keys(grafana), `${source}: grafana`);
    for (const [k, v] of Object.entries(g)) (grafana as Record<string, string>)[k] = asString(v, `${source}: grafana.${k}`);
  }
  const config: AlertsConfig = {
    runbookUrl: p['runbookUrl'] === undefined ? DEFAULT_ALERTS_CONFIG.runbookUrl : asString(p['runbookUrl'], `${source}: runbookUrl`),
    exporterJob: p['exporterJob'] === undefined ? DEFAULT_ALERTS_CONFIG.exporterJob : asString(p['exporterJob'], `${source}: exporterJob`),
    labels: p['labels'] === undefined ? {} : stringRecord(p['labels'], `${source}: labels`),
    keptLabels: p['keptLabels'] === undefined ? DEFAULT_ALERTS_CONFIG.keptLabels : stringList(p['keptLabels'], `${source}: keptLabels`),
    groupOverrides: p['groupOverrides'] === undefined ? [] : groupOverrides(p['groupOverrides'], thresholds, `${source}: groupOverrides`),
    thresholds,
    for: p['for'] === undefined ? {} : stringRecord(p['for'], `${source}: for`),
    evaluationInterval: p['evaluationInterval'] === undefined ? '' : asString(p['evaluationInterval'], `${source}: evaluationInterval`),
    grafana,
    kubernetes: { ruleLabels: p['kubernetes'] === undefined ? {} : kubernetesRuleLabels(p['kubernetes'], `${source}: kubernetes`) },
  };
  validate(config, source);
  return config;
}

/** A config file is small; reading stops here, so a device such as /dev/zero cannot fill memory. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Reads, parses and validates an alerts config file. Every failure is a {@link ConfigError} that
 * names the file and what is wrong: unreadable (and why), not JSON (the parser's message, with line
 * and column), not an object, or a value the pack cannot use.
 */
export function loadAlertsConfig(file: string): AlertsConfig {
  const hint = 'Pass a JSON object with any of: runbookUrl, exporterJob, labels, keptLabels, groupOverrides, thresholds, for, evaluationInterval, grafana, kubernetes (`eda-harness alerts --defaults` prints them all).';
  const text = readConfigText(file, hint);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`alerts config ${file} is not valid JSON: ${jsonErrorMessage(err, text)}`, { cause: err, hint });
  }
  if (parsed === null) throw new ConfigError(`alerts config ${file} must be a JSON object, got null`, { hint });
  return resolveAlertsConfig(parsed, file);
}

function readConfigText(file: string, hint: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ConfigError(`cannot read alerts config ${file} (${reason(err)})`, { cause: err, hint });
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw new ConfigError(`cannot read alerts config ${file} (${reason(err)})`, { cause: err, hint });
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > MAX_CONFIG_BYTES) throw new ConfigError(`alerts config ${file} is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB: not a config file`, { hint });
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const known: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a folder', ENOTDIR: 'a part of the path is not a folder' };
  if (typeof code === 'string') return known[code] ? `${known[code]}, ${code}` : code;
  return err instanceof Error ? err.message : String(err);
}

/** JSON.parse's message, with the line and column of "at position N". */
function jsonErrorMessage(err: unknown, text: string): string {
  // Node 24's V8 adds its own "(line 2 column 14)"; drop it so every Node prints one format.
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\(line \d+ column \d+\)$/, '');
  const at = /at position (\d+)/.exec(message);
  if (!at) return message;
  const before = text.slice(0, Number(at[1])).split('\n');
  return `${message} (line ${before.length}, column ${(before[before.length - 1] ?? '').length + 1})`;
}

function validate(c: AlertsConfig, source: string): void {
  const t = c.thresholds;
  validateKeptLabels(c, source);
  if (!(E2E_LATENCY_BUCKETS_SECONDS as readonly number[]).includes(t.e2eLatencySloSeconds)) {
    // The SLO is measured with the `le` bucket; a value between buckets would silently round.
    throw new ConfigError(`${source}: thresholds.e2eLatencySloSeconds must be one of the latency buckets (${E2E_LATENCY_BUCKETS_SECONDS.join(', ')}), got ${t.e2eLatencySloSeconds}`);
  }
  if (!(t.e2eLatencySloTarget > 0 && t.e2eLatencySloTarget < 1)) throw new ConfigError(`${source}: thresholds.e2eLatencySloTarget must be between 0 and 1 (exclusive), got ${t.e2eLatencySloTarget}`);
  for (const k of ['dlqRatio', 'producerErrorRatio', 'processingErrorRatio', 'clockSkewRatio'] as const) {
    if (t[k] >= 1) throw new ConfigError(`${source}: thresholds.${k} is a ratio and must be below 1, got ${t[k]}`);
  }
  if (t.kafkaLagSecondsCritical < t.kafkaLagSecondsWarning) {
    throw new ConfigError(`${source}: thresholds.kafkaLagSecondsCritical (${t.kafkaLagSecondsCritical}) must not be below thresholds.kafkaLagSecondsWarning (${t.kafkaLagSecondsWarning})`);
  }
  for (const k of ['kafkaFallingBehindWindowSeconds', 'rabbitmqQueueGrowingWindowSeconds', 'dlqArrivingWindowSeconds'] as const) {
    if (t[k] < 1 || t[k] > MAX_WINDOW_SECONDS || !Number.isInteger(t[k])) {
      throw new ConfigError(`${source}: thresholds.${k} must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS} (a year), got ${t[k]}`);
    }
  }
  // A misspelt alert name in `for` would silently keep the default duration.
  const known = new Set(alertPack(c).flatMap((g) => g.alertRules.flatMap((r) => [r.alert, `${r.alert}:${r.severity}`])));
  for (const k of Object.keys(c.for)) {
    if (!known.has(k)) throw new ConfigError(`${source}: for.${k} names no alert rule`, { hint: `Use an alert name or AlertName:severity, e.g. ${[...known].slice(0, 2).join(', ')}` });
  }
  for (const [k, v] of Object.entries(c.for)) {
    if (!isPrometheusDuration(v)) throw new ConfigError(`${source}: for.${k} must be a Prometheus duration such as "30s" or "5m", got ${JSON.stringify(v)}`);
  }
  if (c.evaluationInterval !== '' && !isPrometheusDuration(c.evaluationInterval)) {
    throw new ConfigError(`${source}: evaluationInterval must be a Prometheus duration such as "30s" or "1m", got ${JSON.stringify(c.evaluationInterval)}`);
  }
  if (!isPrometheusDuration(c.grafana.interval)) throw new ConfigError(`${source}: grafana.interval must be a Prometheus duration such as "1m", got ${JSON.stringify(c.grafana.interval)}`);
  for (const k of ['datasourceUid', 'folder'] as const) {
    if (c.grafana[k].trim() === '') throw new ConfigError(`${source}: grafana.${k} must not be empty`);
  }
  // exporterJob is embedded in PromQL as an escaped string (alert-rules.ts); what is refused here
  // is what no scrape job is named: nothing, or control characters.
  if (c.exporterJob === '') throw new ConfigError(`${source}: exporterJob must not be empty: it is the job label Prometheus gives the exporter's targets`);
  if (hasControlCharacter(c.exporterJob)) throw new ConfigError(`${source}: exporterJob must not contain control characters (newline, tab …), got ${JSON.stringify(c.exporterJob)}`);
  // Prometheus and Grafana expand label values and annotations as Go templates: "{{" would make
  // every rule file fail to load.
  if (c.runbookUrl.includes('{{')) throw new ConfigError(`${source}: runbookUrl must not contain "{{": Prometheus and Grafana expand annotations as templates`);
  for (const [k, v] of Object.entries(c.labels)) {
    if (k.startsWith('__')) throw new ConfigError(`${source}: labels.${k} is reserved: label names starting with "__" are Prometheus's own`);
    const reserved = RESERVED_LABELS[k];
    if (reserved !== undefined) throw new ConfigError(`${source}: labels.${k} is reserved: ${reserved}`, { hint: 'Choose another label name, e.g. "team".' });
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) throw new ConfigError(`${source}: labels.${JSON.stringify(k)} is not a Prometheus label name (letters, digits and _, not starting with a digit)`);
    if (v.includes('{{')) throw new ConfigError(`${source}: labels.${k} must not contain "{{": Prometheus and Grafana expand label values as templates`);
  }
}

/**
 * Labels the pack aggregates away on purpose (one incident is one alert, not one per partition or
 * scrape target), or that it sets itself: keeping them would split or rename alerts.
 */
const NOT_KEPT: Readonly<Record<string, string>> = {
  partition: 'alerts are per group and topic, not per partition',
  alertname: 'Prometheus and Grafana name each alert with it',
  severity: 'the pack sets it per rule',
  le: 'it is a histogram bucket bound',
};

function kubernetesRuleLabels(v: unknown, what: string): Record<string, string> {
  const k = asObject(v, what);
  checkKeys(k, ['ruleLabels'], what);
  if (k['ruleLabels'] === undefined) return {};
  const labels = stringRecord(k['ruleLabels'], `${what}.ruleLabels`);
  for (const [name, value] of Object.entries(labels)) {
    // Kubernetes label keys: an optional DNS-subdomain prefix and a name of up to 63 characters.
    if (!/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(name)) {
      throw new ConfigError(`${what}.ruleLabels: ${JSON.stringify(name)} is not a Kubernetes label key (an optional prefix like "example.com/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`);
    }
    if (!/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(value)) {
      throw new ConfigError(`${what}.ruleLabels.${name}: ${JSON.stringify(value)} is not a Kubernetes label value (up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`);
    }
  }
  return labels;
}

function validateKeptLabels(c: AlertsConfig, source: string): void {
  const seen = new Set<string>();
  for (const [i, k] of c.keptLabels.entries()) {
    const what = `${source}: keptLabels[${i}]`;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) throw new ConfigError(`${what} ${JSON.stringify(k)} is not a Prometheus label name (letters, digits and _, not starting with a digit)`);
    if (k.startsWith('__')) throw new ConfigError(`${what} ${k} is reserved: label names starting with "__" are Prometheus's own`);
    const why = NOT_KEPT[k];
    if (why !== undefined) throw new ConfigError(`${what} ${k} cannot be kept: ${why}`);
    if (seen.has(k)) throw new ConfigError(`${what} ${k} is listed twice`);
    seen.add(k);
  }
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A JSON value for a message: as written, shortened; non-finite numbers as what they read as. */
function shown(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return 'an array';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function thresholdValue(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new ConfigError(`${what} must be a number, got ${shown(v)}`);
  // JSON.parse reads 1e999 as Infinity, which JSON.stringify would print as null.
  if (!Number.isFinite(v)) throw new ConfigError(`${what} is not a finite number: the JSON number is too large (it reads as ${v})`);
  if (v < 0) throw new ConfigError(`${what} must be 0 or more, got ${v}`);
  return v;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${what} must be a JSON object, got ${shown(v)}`);
  return v as Record<string, unknown>;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ConfigError(`${what} must be a string, got ${shown(v)}`);
  return v;
}

function groupOverrides(v: unknown, base: AlertThresholds, what: string): GroupOverride[] {
  if (!Array.isArray(v)) throw new ConfigError(`${what} must be a JSON array of {"groups": "<glob>", <threshold>: <number>…, "for": {<alert>: <duration>}}, got ${shown(v)}`);
  return v.map((entry, i) => {
    const at = `${what}[${i}]`;
    const o = asObject(entry, at);
    checkKeys(o, ['groups', 'for', ...GROUP_OVERRIDE_KEYS], at);
    const groups = asString(o['groups'], `${at}.groups`);
    if (groups.trim() === '') throw new ConfigError(`${at}.groups must name consumer groups (a glob such as "connect-*"), got ""`);
    if (hasControlCharacter(groups)) throw new ConfigError(`${at}.groups must not contain control characters, got ${JSON.stringify(groups)}`);
    const thresholds = Object.fromEntries(GROUP_OVERRIDE_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, thresholdValue(o[k], `${at}.${k}`)]));
    const forOverrides = o['for'] === undefined ? undefined : groupFor(o['for'], `${at}.for`);
    if (Object.keys(thresholds).length === 0 && forOverrides === undefined) {
      throw new ConfigError(`${at} sets neither a threshold nor "for" for ${groups}`, { hint: `Set any of ${GROUP_OVERRIDE_KEYS.join(', ')}, or "for": {"KafkaConsumerStopped": "30m"}.` });
    }
    const merged = { ...base, ...thresholds };
    if (merged.kafkaLagSecondsCritical < merged.kafkaLagSecondsWarning) {
      throw new ConfigError(`${at}: kafkaLagSecondsCritical (${merged.kafkaLagSecondsCritical}) must not be below kafkaLagSecondsWarning (${merged.kafkaLagSecondsWarning}) for ${groups}`);
    }
    const window = merged.kafkaFallingBehindWindowSeconds;
    if (window < 1 || window > MAX_WINDOW_SECONDS || !Number.isInteger(window)) {
      throw new ConfigError(`${at}.kafkaFallingBehindWindowSeconds must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS} (a year), got ${window}`);
    }
    return { groups, ...thresholds, ...(forOverrides === undefined ? {} : { for: forOverrides }) };
  });
}

/** An override's `for`: only the per-group alerts, by name or AlertName:severity, each a Prometheus duration. */
function groupFor(v: unknown, what: string): Record<string, string> {
  const record = stringRecord(v, what);
  const alerts = Object.keys(GROUP_VARIANT_ALERTS);
  const known = new Set<string>(Object.entries(GROUP_VARIANT_ALERTS).flatMap(([a, severities]) => [a, ...severities.map((s) => `${a}:${s}`)]));
  if (Object.keys(record).length === 0) throw new ConfigError(`${what} is empty`, { hint: `Name any of ${alerts.join(', ')} (or AlertName:severity) with a duration, or leave "for" out.` });
  for (const [k, d] of Object.entries(record)) {
    if (!known.has(k)) {
      throw new ConfigError(`${what}.${k} names no per-group alert rule`, {
        hint: `A group override's for may name ${alerts.join(', ')} (or AlertName:severity); other alerts take their for from the top-level "for".`,
      });
    }
    if (!isPrometheusDuration(d)) throw new ConfigError(`${what}.${k} must be a Prometheus duration such as "30s" or "5m", got ${JSON.stringify(d)}`);
  }
  return record;
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v)) throw new ConfigError(`${what} must be a JSON array of label names, got ${shown(v)}`);
  return v.map((x, i) => asString(x, `${what}[${i}]`));
}

/** Built with Object.fromEntries, so a "__proto__" key stays a key (and is then refused by name). */
function stringRecord(v: unknown, what: string): Record<string, string> {
  return Object.fromEntries(Object.entries(asObject(v, what)).map(([k, val]) => [k, asString(val, `${what}.${k}`)]));
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new ConfigError(`${what}: unknown key(s) ${unknown.join(', ')}`, { hint: `Known keys: ${allowed.join(', ')}` });
}
