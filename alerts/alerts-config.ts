import { readFileSync } from 'node:fs';
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
  /** Multi-window burn rates (Google SRE workbook): fast pages, slow tickets. */
  readonly e2eFastBurnRate: number;
  readonly e2eSlowBurnRate: number;
  readonly producerErrorRatio: number;
  readonly processingErrorRatio: number;
  /** ClockSkewSuspected: share of messages whose produced-at lies in the consumer's future. */
  readonly clockSkewRatio: number;
  /** EdaExporterStale: seconds since the exporter's last successful collection. */
  readonly exporterStaleSeconds: number;
}

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
  readonly thresholds: AlertThresholds;
  /** `for:` overrides, by alert name or `AlertName:severity`, as Prometheus durations ("30s", "5m"). */
  readonly for: Readonly<Record<string, string>>;
  /** Rule-group evaluation interval written into the Prometheus rule files (empty: Prometheus's global one). */
  readonly evaluationInterval: string;
  readonly grafana: GrafanaAlertingConfig;
}

export const DEFAULT_ALERTS_CONFIG: AlertsConfig = {
  runbookUrl: 'https://github.com/eda-harness/eda-harness/blob/main/alerts/runbook.md',
  exporterJob: 'eda-exporter',
  labels: {},
  thresholds: {
    kafkaLagSecondsWarning: 300,
    kafkaLagSecondsCritical: 900,
    kafkaStoppedAfterSeconds: 600,
    kafkaStalledAfterSeconds: 300,
    kafkaFallingBehindWindowSeconds: 900,
    kafkaTimeToDrainSeconds: 1800,
    dlqArrivingMessages: 0,
    dlqArrivingWindowSeconds: 600,
    dlqRatio: 0.01,
    rabbitmqQueueGrowingWindowSeconds: 900,
    e2eLatencySloSeconds: 1,
    e2eLatencySloTarget: 0.99,
    e2eFastBurnRate: 14.4,
    e2eSlowBurnRate: 6,
    producerErrorRatio: 0.01,
    processingErrorRatio: 0.05,
    clockSkewRatio: 0.01,
    exporterStaleSeconds: 120,
  },
  for: {},
  evaluationInterval: '',
  grafana: { datasourceUid: 'prometheus', folder: 'eda-harness', interval: '1m' },
};

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** Merges a partial configuration over the defaults and validates the result. */
export function resolveAlertsConfig(partial: unknown, source = 'alerts config'): AlertsConfig {
  if (partial === undefined || partial === null) return DEFAULT_ALERTS_CONFIG;
  const p = asObject(partial, source);
  checkKeys(p, Object.keys(DEFAULT_ALERTS_CONFIG), source);
  const thresholds = { ...DEFAULT_ALERTS_CONFIG.thresholds };
  if (p['thresholds'] !== undefined) {
    const t = asObject(p['thresholds'], `${source}: thresholds`);
    checkKeys(t, Object.keys(thresholds), `${source}: thresholds`);
    for (const [k, v] of Object.entries(t)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${source}: thresholds.${k} must be a non-negative number, got ${JSON.stringify(v)}`);
      (thresholds as Record<string, number>)[k] = v;
    }
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
    thresholds,
    for: p['for'] === undefined ? {} : stringRecord(p['for'], `${source}: for`),
    evaluationInterval: p['evaluationInterval'] === undefined ? '' : asString(p['evaluationInterval'], `${source}: evaluationInterval`),
    grafana,
  };
  validate(config, source);
  return config;
}

export function loadAlertsConfig(file: string): AlertsConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read alerts config ${file}`, { cause: err, hint: 'Pass a JSON file with any of: runbookUrl, exporterJob, labels, thresholds, for, evaluationInterval, grafana.' });
  }
  return resolveAlertsConfig(parsed, file);
}

function validate(c: AlertsConfig, source: string): void {
  const t = c.thresholds;
  if (!(E2E_LATENCY_BUCKETS_SECONDS as readonly number[]).includes(t.e2eLatencySloSeconds)) {
    // The SLO is measured with the `le` bucket; a value between buckets would silently round.
    throw new ConfigError(`${source}: thresholds.e2eLatencySloSeconds must be one of the latency buckets (${E2E_LATENCY_BUCKETS_SECONDS.join(', ')}), got ${t.e2eLatencySloSeconds}`);
  }
  if (!(t.e2eLatencySloTarget > 0 && t.e2eLatencySloTarget < 1)) throw new ConfigError(`${source}: thresholds.e2eLatencySloTarget must be between 0 and 1 (exclusive)`);
  for (const k of ['dlqRatio', 'producerErrorRatio', 'processingErrorRatio', 'clockSkewRatio'] as const) {
    if (t[k] >= 1) throw new ConfigError(`${source}: thresholds.${k} is a ratio and must be below 1`);
  }
  if (t.kafkaLagSecondsCritical < t.kafkaLagSecondsWarning) throw new ConfigError(`${source}: thresholds.kafkaLagSecondsCritical must not be below kafkaLagSecondsWarning`);
  for (const k of ['kafkaFallingBehindWindowSeconds', 'rabbitmqQueueGrowingWindowSeconds', 'dlqArrivingWindowSeconds'] as const) {
    if (t[k] < 1 || !Number.isInteger(t[k])) throw new ConfigError(`${source}: thresholds.${k} must be a whole number of seconds >= 1`);
  }
  // A misspelt alert name in `for` would silently keep the default duration.
  const known = new Set(alertPack(c).flatMap((g) => g.alertRules.flatMap((r) => [r.alert, `${r.alert}:${r.severity}`])));
  for (const k of Object.keys(c.for)) {
    if (!known.has(k)) throw new ConfigError(`${source}: for.${k} names no alert rule`, { hint: `Use an alert name or AlertName:severity, e.g. ${[...known].slice(0, 2).join(', ')}` });
  }
  for (const [k, v] of Object.entries(c.for)) {
    if (!DURATION.test(v) && v !== '0s') throw new ConfigError(`${source}: for.${k} must be a Prometheus duration such as "30s" or "5m", got "${v}"`);
  }
  if (c.evaluationInterval !== '' && !DURATION.test(c.evaluationInterval)) throw new ConfigError(`${source}: evaluationInterval must be a Prometheus duration`);
  if (!DURATION.test(c.grafana.interval)) throw new ConfigError(`${source}: grafana.interval must be a Prometheus duration`);
  for (const k of Object.keys(c.labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k === 'severity') throw new ConfigError(`${source}: labels.${k} is not a usable label name`);
  }
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ConfigError(`${what} must be a string`);
  return v;
}

function stringRecord(v: unknown, what: string): Record<string, string> {
  const o = asObject(v, what);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = asString(val, `${what}.${k}`);
  return out;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new ConfigError(`${what}: unknown key(s) ${unknown.join(', ')}`, { hint: `Known keys: ${allowed.join(', ')}` });
}
