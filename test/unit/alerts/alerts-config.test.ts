import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { alertFiles } from '../../../alerts/alert-files';
import { alertPack, leMatcher, promqlString } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG, isPrometheusDuration, loadAlertsConfig, resolveAlertsConfig } from '../../../alerts/alerts-config';
import { promqlReferences } from '../../../alerts/promql-references';
import { ConfigError } from '../../../core/errors';

/**
 * Hostile alerts configs (issue 15, item 7): what a config holds must never change what a rule
 * means, and every refusal names the key, the value and what is wrong.
 */
const INJECTION = 'x"} or vector(1) #';
const exporterDown = (config = DEFAULT_ALERTS_CONFIG): string =>
  alertPack(config)
    .flatMap((g) => g.alertRules)
    .find((r) => r.alert === 'EdaExporterDown')!.expr;

describe('exporterJob in PromQL', () => {
  it('is one escaped string literal: the injection stays a label value and the rule still only fires on up == 0', () => {
    const expr = exporterDown(resolveAlertsConfig({ exporterJob: INJECTION }));
    expect(expr).toBe('up{job="x\\"} or vector(1) #"} == 0');
    // Read back the way PromQL lexes it: one selector on `up`, no vector(), no comment, and the
    // string literal is exactly the configured job.
    expect(promqlReferences(expr).metrics).toEqual(['up']);
    expect(expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')).toBe('up{job=""} == 0');
    expect(JSON.parse(expr.slice('up{job='.length, -'} == 0'.length))).toBe(INJECTION);
    // The generated file holds the same expression.
    const file = parse(alertFiles(resolveAlertsConfig({ exporterJob: INJECTION })).get('alerts/prometheus/exporter.yml')!) as { groups: { rules: { alert: string; expr: string }[] }[] };
    expect(file.groups[0]!.rules.find((r) => r.alert === 'EdaExporterDown')!.expr).toBe(expr);
  });

  it('escapes backslashes before quotes, so a trailing backslash cannot eat the closing quote', () => {
    expect(promqlString('a\\')).toBe('"a\\\\"');
    expect(promqlString('a\\"b')).toBe('"a\\\\\\"b"');
    expect(exporterDown(resolveAlertsConfig({ exporterJob: 'eda-exporter' }))).toBe('up{job="eda-exporter"} == 0');
    expect(exporterDown(resolveAlertsConfig({ exporterJob: 'x\\' }))).toBe('up{job="x\\\\"} == 0');
  });

  it('refuses an empty job or control characters', () => {
    expect(() => resolveAlertsConfig({ exporterJob: '' }, 'a.json')).toThrow('a.json: exporterJob must not be empty');
    expect(() => resolveAlertsConfig({ exporterJob: 'x\ny' }, 'a.json')).toThrow('a.json: exporterJob must not contain control characters (newline, tab …), got "x\\ny"');
  });
});

describe('labels', () => {
  it.each([
    ['alertname', 'labels.alertname is reserved: Prometheus and Grafana name each alert with it, so it would rename every alert'],
    ['severity', 'labels.severity is reserved: the pack sets it per rule'],
    ['grafana_folder', 'labels.grafana_folder is reserved'],
    ['__name__', 'labels.__name__ is reserved: label names starting with "__"'],
    ['__proto__', 'labels.__proto__ is reserved'],
  ])('refuses the reserved label %s', (name, message) => {
    expect(() => resolveAlertsConfig(JSON.parse(`{"labels":{${JSON.stringify(name)}:"x"}}`), 'a.json')).toThrow(`a.json: ${message}`);
  });

  it('refuses names Prometheus cannot store and values Prometheus and Grafana would expand as templates', () => {
    expect(() => resolveAlertsConfig({ labels: { 'my-team': 'x' } }, 'a.json')).toThrow('a.json: labels."my-team" is not a Prometheus label name');
    expect(() => resolveAlertsConfig({ labels: { team: '{{ $value' } }, 'a.json')).toThrow('a.json: labels.team must not contain "{{"');
    expect(() => resolveAlertsConfig({ runbookUrl: 'https://x/{{ .Bogus' }, 'a.json')).toThrow('a.json: runbookUrl must not contain "{{"');
    expect(() => resolveAlertsConfig({ labels: { team: 3 } }, 'a.json')).toThrow('a.json: labels.team must be a string, got 3');
    expect(resolveAlertsConfig({ labels: { team: 'orders', _x: 'y' } }).labels).toEqual({ team: 'orders', _x: 'y' });
  });
});

describe('thresholds and durations', () => {
  it('says a number too large for JSON is not a finite number, instead of "got null"', () => {
    const err = (() => {
      try {
        resolveAlertsConfig(JSON.parse('{"thresholds":{"dlqRatio":1e999}}'), 'a.json');
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted 1e999');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('a.json: thresholds.dlqRatio is not a finite number: the JSON number is too large (it reads as Infinity)');
    expect(() => resolveAlertsConfig(JSON.parse('{"thresholds":{"dlqRatio":-1e999}}'))).toThrow('is not a finite number');
  });

  it('names the key and the value for every refused threshold', () => {
    expect(() => resolveAlertsConfig({ thresholds: { dlqRatio: '0.1' } }, 'a.json')).toThrow('a.json: thresholds.dlqRatio must be a number, got "0.1"');
    expect(() => resolveAlertsConfig({ thresholds: { dlqRatio: null } }, 'a.json')).toThrow('a.json: thresholds.dlqRatio must be a number, got null');
    expect(() => resolveAlertsConfig({ thresholds: { dlqRatio: -0.5 } }, 'a.json')).toThrow('a.json: thresholds.dlqRatio must be 0 or more, got -0.5');
    expect(() => resolveAlertsConfig({ thresholds: { dlqRatio: 2 } }, 'a.json')).toThrow('a.json: thresholds.dlqRatio is a ratio and must be below 1, got 2');
    expect(() => resolveAlertsConfig({ thresholds: { e2eLatencySloTarget: 1 } }, 'a.json')).toThrow('must be between 0 and 1 (exclusive), got 1');
    expect(() => resolveAlertsConfig({ thresholds: { kafkaLagSecondsWarning: 1000 } }, 'a.json')).toThrow(
      'a.json: thresholds.kafkaLagSecondsCritical (900) must not be below thresholds.kafkaLagSecondsWarning (1000)',
    );
    // A window is written into PromQL as a duration; 1e21 would print as "1e+21s".
    expect(() => resolveAlertsConfig({ thresholds: { dlqArrivingWindowSeconds: 1e21 } }, 'a.json')).toThrow('a.json: thresholds.dlqArrivingWindowSeconds must be a whole number of seconds from 1 to 31536000 (a year), got 1e+21');
    expect(() => resolveAlertsConfig({ thresholds: 5 }, 'a.json')).toThrow('a.json: thresholds must be a JSON object, got 5');
    expect(() => resolveAlertsConfig({ grafana: [] }, 'a.json')).toThrow('a.json: grafana must be a JSON object, got an array');
  });

  it('accepts only durations Prometheus loads: units largest first, each once, within range', () => {
    for (const ok of ['0s', '30s', '5m', '1h30m', '1y2w3d4h5m6s7ms', '250ms', '292y']) expect({ ok, valid: isPrometheusDuration(ok) }).toEqual({ ok, valid: true });
    for (const bad of ['', '5', '30m1h', '1m1m', '5 m', '-5m', '1.5m', 'soon', '300y', '99999999999999999999s']) expect({ bad, valid: isPrometheusDuration(bad) }).toEqual({ bad, valid: false });
    expect(() => resolveAlertsConfig({ for: { KafkaConsumerStopped: '30m1h' } }, 'a.json')).toThrow('a.json: for.KafkaConsumerStopped must be a Prometheus duration such as "30s" or "5m", got "30m1h"');
    expect(() => resolveAlertsConfig({ evaluationInterval: '1x' }, 'a.json')).toThrow('a.json: evaluationInterval must be a Prometheus duration such as "30s" or "1m", got "1x"');
    expect(() => resolveAlertsConfig({ grafana: { interval: '' } }, 'a.json')).toThrow('a.json: grafana.interval must be a Prometheus duration such as "1m", got ""');
    expect(() => resolveAlertsConfig({ grafana: { folder: ' ' } }, 'a.json')).toThrow('a.json: grafana.folder must not be empty');
  });
});

describe('loadAlertsConfig', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'eda-alerts-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (content: string): AlertsConfigResult => {
    const file = join(dir, 'alerts.json');
    writeFileSync(file, content);
    try {
      return { config: loadAlertsConfig(file) };
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return { error: (err as Error).message.split(file).join('<file>') };
    }
  };
  type AlertsConfigResult = { config?: unknown; error?: string };

  it('reports invalid JSON with the parser message and where it is', () => {
    expect(load('{\n  "labels": {\n    team: "x"\n  }\n}').error).toMatch(/^alerts config <file> is not valid JSON: .*property name.* \(line 3, column 5\)$/);
    expect(load('').error).toBe('alerts config <file> is not valid JSON: Unexpected end of JSON input');
  });

  it('refuses null, arrays and other non-objects', () => {
    expect(load('null').error).toBe('alerts config <file> must be a JSON object, got null');
    expect(load('[]').error).toBe('<file> must be a JSON object, got an array');
    expect(load('"x"').error).toBe('<file> must be a JSON object, got "x"');
  });

  it('says why a file cannot be read: missing, a folder, or endless (/dev/zero is not read to the end)', () => {
    expect(() => loadAlertsConfig(join(dir, 'missing.json'))).toThrow(`cannot read alerts config ${join(dir, 'missing.json')} (no such file, ENOENT)`);
    mkdirSync(join(dir, 'folder.json'));
    expect(() => loadAlertsConfig(join(dir, 'folder.json'))).toThrow(`cannot read alerts config ${join(dir, 'folder.json')} (it is a folder, EISDIR)`);
    expect(() => loadAlertsConfig('/dev/zero')).toThrow('alerts config /dev/zero is larger than 1 MiB: not a config file');
  });

  it('loads a valid file', () => {
    expect(load('{"labels":{"team":"orders"}}').config).toEqual({ ...DEFAULT_ALERTS_CONFIG, labels: { team: 'orders' } });
  });
});

describe('keptLabels', () => {
  it('every aggregation and join of every rule keeps them, after the labels that name the problem', () => {
    const config = resolveAlertsConfig({ keptLabels: ['cluster', 'tenant'] });
    for (const r of alertPack(config).flatMap((g) => [...g.alertRules, ...g.recordingRules])) {
      for (const m of r.expr.matchAll(/\b(by|on) \(([^)]*)\)/g)) {
        const labels = m[2]!.split(', ');
        // The joins with the instrumentation's deliveries match on group and topic only: the
        // applications' series carry their own target labels, not the exporter's.
        if (labels.includes('messaging_consumer_group_name') && !labels.includes('messaging_system')) continue;
        if (m[1] === 'on' && labels.join(', ') === 'group, topic') continue;
        expect({ expr: r.expr, labels: labels.slice(-2) }).toEqual({ expr: r.expr, labels: ['cluster', 'tenant'] });
      }
    }
  });

  it('defaults to cluster, namespace, env and team; [] keeps only the problem labels', () => {
    expect(DEFAULT_ALERTS_CONFIG.keptLabels).toEqual(['cluster', 'namespace', 'env', 'team']);
    const lag = (c: unknown): string | undefined => alertPack(resolveAlertsConfig(c)).flatMap((g) => g.alertRules).find((r) => r.alert === 'KafkaConsumerLagSecondsHigh')?.expr;
    expect(lag({ keptLabels: [] })).toBe('max by (group, topic) (eda_kafka_consumer_lag_seconds) > 300');
    expect(lag({ keptLabels: ['group', 'cluster'] })).toBe('max by (group, topic, cluster) (eda_kafka_consumer_lag_seconds) > 300');
  });

  it.each([
    [{ keptLabels: 'cluster' }, 'a.json: keptLabels must be a JSON array of label names, got "cluster"'],
    [{ keptLabels: [3] }, 'a.json: keptLabels[0] must be a string, got 3'],
    [{ keptLabels: ['my-cluster'] }, 'a.json: keptLabels[0] "my-cluster" is not a Prometheus label name'],
    [{ keptLabels: ['__name__'] }, 'a.json: keptLabels[0] __name__ is reserved'],
    [{ keptLabels: ['partition'] }, 'a.json: keptLabels[0] partition cannot be kept: alerts are per group and topic, not per partition'],
    [{ keptLabels: ['cluster', 'cluster'] }, 'a.json: keptLabels[1] cluster is listed twice'],
  ])('refuses %j', (config, message) => {
    expect(() => resolveAlertsConfig(config, 'a.json')).toThrow(message);
  });
});

describe('leMatcher (Prometheus 3 writes whole-number bucket bounds as "1.0")', () => {
  it('matches both spellings of a whole number, and a fraction exactly', () => {
    expect(leMatcher(1)).toBe('le=~"1(\\\\.0)?"');
    expect(leMatcher(10)).toBe('le=~"10(\\\\.0)?"');
    expect(leMatcher(0.5)).toBe('le="0.5"');
    const re = /le=~"(.*)"/.exec(leMatcher(1))![1]!.replace(/\\\\/g, '\\');
    expect(['1', '1.0', '10', '10.0', '0.1', '1x0'].filter((v) => new RegExp(`^(?:${re})$`).test(v))).toEqual(['1', '1.0']);
  });
});

describe('groupOverrides (per-group thresholds, e.g. for rare committers)', () => {
  const kafkaRules = (c: unknown): { alert: string; severity: string; variant?: number; expr: string }[] =>
    alertPack(resolveAlertsConfig(c)).flatMap((g) => g.alertRules).filter((r) => ['KafkaConsumerStopped', 'KafkaConsumerLagSecondsHigh'].includes(r.alert));

  it('generates one variant per entry, minus the groups of earlier entries, and a default variant for every other group', () => {
    const rules = kafkaRules({ groupOverrides: [{ groups: 'connect-*', kafkaStoppedAfterSeconds: 3600 }, { groups: 'flink.job', kafkaLagSecondsWarning: 1200, kafkaLagSecondsCritical: 3600 }] });
    const stopped = rules.filter((r) => r.alert === 'KafkaConsumerStopped');
    expect(stopped.map((r) => r.variant)).toEqual([0, 1, undefined]);
    expect(stopped[0]!.expr).toContain('eda_kafka_consumer_last_commit_timestamp_seconds{group=~"connect-.*"}) > 3600');
    expect(stopped[1]!.expr).toContain('{group=~"flink\\\\.job", group!~"connect-.*"}) > 600');
    expect(stopped[2]!.expr).toContain('{group!~"connect-.*|flink\\\\.job"}) > 600');
    expect(rules.filter((r) => r.alert === 'KafkaConsumerLagSecondsHigh' && r.variant === 1).map((r) => r.expr)).toEqual([
      'max by (group, topic, cluster, namespace, env, team) (eda_kafka_consumer_lag_seconds{group=~"flink\\\\.job", group!~"connect-.*"}) > 1200',
      'max by (group, topic, cluster, namespace, env, team) (eda_kafka_consumer_lag_seconds{group=~"flink\\\\.job", group!~"connect-.*"}) > 3600',
    ]);
  });

  it('every variant gets its own Grafana uid (at most 40 characters)', () => {
    const config = resolveAlertsConfig({ groupOverrides: [{ groups: 'a*', kafkaStoppedAfterSeconds: 1 }, { groups: 'b*', kafkaLagSecondsWarning: 1 }] });
    const uids = [...alertFiles(config).entries()].filter(([k]) => k.startsWith('alerts/grafana/')).flatMap(([, v]) => [...v.matchAll(/^\s+- uid: (\S+)$/gm)].map((m) => m[1]!));
    expect(uids.length).toBe(alertPack(config).flatMap((g) => g.alertRules).length);
    expect(new Set(uids).size).toBe(uids.length);
    for (const u of uids) expect(u.length).toBeLessThanOrEqual(40);
  });

  it('an entry may set for:, allowed lag and the FallingBehind window and floor; its variants get them, other groups keep the defaults', () => {
    const config = resolveAlertsConfig({
      groupOverrides: [
        {
          groups: 'tx-*',
          kafkaAllowedLagMessages: 1,
          kafkaFallingBehindWindowSeconds: 1800,
          kafkaFallingBehindMinLagSeconds: 600,
          for: { KafkaConsumerStopped: '30m', 'KafkaConsumerLagSecondsHigh:warning': '15m', KafkaConsumerFallingBehind: '20m' },
        },
      ],
    });
    const rules = alertPack(config).flatMap((g) => g.alertRules);
    const of = (alert: string, variant: number | undefined, severity?: string) => rules.filter((r) => r.alert === alert && r.variant === variant && (severity === undefined || r.severity === severity));
    expect(of('KafkaConsumerStopped', 0).map((r) => r.for)).toEqual(['30m']);
    expect(of('KafkaConsumerStopped', undefined).map((r) => r.for)).toEqual(['5m']);
    expect(of('KafkaConsumerLagSecondsHigh', 0).map((r) => `${r.severity} ${r.for}`)).toEqual(['warning 15m', 'critical 5m']);
    expect(of('KafkaConsumerFallingBehind', 0).map((r) => r.for)).toEqual(['20m']);
    expect(of('KafkaConsumerFallingBehind', undefined).map((r) => r.for)).toEqual(['10m']);
    for (const alert of ['KafkaConsumerStopped', 'KafkaConsumerStalled']) {
      expect(of(alert, 0)[0]!.expr).toContain('(eda_kafka_consumer_lag_messages{group=~"tx-.*"}) > 1)');
      expect(of(alert, undefined)[0]!.expr).toContain('(eda_kafka_consumer_lag_messages{group!~"tx-.*"}) > 0)');
      expect(of(alert, 0)[0]!.description).toContain('(more than the 1 allowed)');
      expect(of(alert, undefined)[0]!.description).not.toContain('allowed');
    }
    expect(of('KafkaConsumerGroupEmptyWithLag', 0)[0]!.expr).toMatch(/^sum by \(group, cluster, namespace, env, team\) \(eda_kafka_consumer_lag_messages\{group=~"tx-\.\*"\}\) > 1 and/);
    expect(of('KafkaConsumerFallingBehind', 0)[0]!.expr).toContain('min_over_time(eda_kafka_consumer_lag_seconds{group=~"tx-.*"}[30m]) > 600');
    expect(of('KafkaConsumerFallingBehind', 0)[0]!.expr).toContain('eda_kafka_consumer_status{group=~"tx-.*"}');
    expect(of('KafkaConsumerFallingBehind', undefined)[0]!.expr).toContain('min_over_time(eda_kafka_consumer_lag_seconds{group!~"tx-.*"}[15m]) > 0');
  });

  it('a top-level for: still applies to the variants an entry does not time itself', () => {
    const config = resolveAlertsConfig({ for: { KafkaConsumerStopped: '15m' }, groupOverrides: [{ groups: 'a*', for: { KafkaConsumerStalled: '1h' } }] });
    const rules = alertPack(config).flatMap((g) => g.alertRules);
    expect(rules.filter((r) => r.alert === 'KafkaConsumerStopped').map((r) => r.for)).toEqual(['15m', '15m']);
    expect(rules.filter((r) => r.alert === 'KafkaConsumerStalled').map((r) => r.for)).toEqual(['1h', '5m']);
  });

  it('without overrides the kafka rules are the defaults (allowed lag 0, no floor: the texts of before)', () => {
    const rules = alertPack(DEFAULT_ALERTS_CONFIG).flatMap((g) => g.alertRules);
    expect(rules.find((r) => r.alert === 'KafkaConsumerStopped')!.expr).toContain('(eda_kafka_consumer_lag_messages) > 0)');
    expect(rules.find((r) => r.alert === 'KafkaConsumerFallingBehind')!.expr).toContain('min_over_time(eda_kafka_consumer_lag_seconds[15m]) > 0)');
  });

  it('a glob with quotes or backslashes stays one matcher value', () => {
    const [first] = kafkaRules({ groupOverrides: [{ groups: 'a"} or vector(1) #\\', kafkaStoppedAfterSeconds: 1 }] });
    expect(first!.expr).toContain('{group=~"a\\"\\\\} or vector\\\\(1\\\\) #\\\\\\\\"}');
  });

  it.each([
    [{ groupOverrides: {} }, 'a.json: groupOverrides must be a JSON array'],
    [{ groupOverrides: [{ kafkaStoppedAfterSeconds: 1 }] }, 'a.json: groupOverrides[0].groups must be a string, got undefined'],
    [{ groupOverrides: [{ groups: '', kafkaStoppedAfterSeconds: 1 }] }, 'a.json: groupOverrides[0].groups must name consumer groups'],
    [{ groupOverrides: [{ groups: 'x' }] }, 'a.json: groupOverrides[0] sets neither a threshold nor "for" for x'],
    [{ groupOverrides: [{ groups: 'x', dlqRatio: 0.5 }] }, 'a.json: groupOverrides[0]: unknown key(s) dlqRatio'],
    [{ groupOverrides: [{ groups: 'x', kafkaStoppedAfterSeconds: -1 }] }, 'a.json: groupOverrides[0].kafkaStoppedAfterSeconds must be 0 or more'],
    [{ groupOverrides: [{ groups: 'x', kafkaLagSecondsCritical: 60 }] }, 'a.json: groupOverrides[0]: kafkaLagSecondsCritical (60) must not be below kafkaLagSecondsWarning (300) for x'],
    [{ groupOverrides: [{ groups: 'x', for: '30m' }] }, 'a.json: groupOverrides[0].for must be a JSON object, got "30m"'],
    [{ groupOverrides: [{ groups: 'x', for: {} }] }, 'a.json: groupOverrides[0].for is empty'],
    [{ groupOverrides: [{ groups: 'x', for: { DeadLetterRatioHigh: '30m' } }] }, 'a.json: groupOverrides[0].for.DeadLetterRatioHigh names no per-group alert rule'],
    [{ groupOverrides: [{ groups: 'x', for: { 'KafkaConsumerStopped:warning': '30m' } }] }, 'a.json: groupOverrides[0].for.KafkaConsumerStopped:warning names no per-group alert rule'],
    [{ groupOverrides: [{ groups: 'x', for: { KafkaConsumerStopped: '30 minutes' } }] }, 'a.json: groupOverrides[0].for.KafkaConsumerStopped must be a Prometheus duration such as "30s" or "5m", got "30 minutes"'],
    [{ groupOverrides: [{ groups: 'x', for: { KafkaConsumerStopped: 30 } }] }, 'a.json: groupOverrides[0].for.KafkaConsumerStopped must be a string, got 30'],
    [{ groupOverrides: [{ groups: 'x', kafkaAllowedLagMessages: -1 }] }, 'a.json: groupOverrides[0].kafkaAllowedLagMessages must be 0 or more, got -1'],
    [{ groupOverrides: [{ groups: 'x', kafkaAllowedLagMessages: '1' }] }, 'a.json: groupOverrides[0].kafkaAllowedLagMessages must be a number, got "1"'],
    [{ groupOverrides: [{ groups: 'x', kafkaFallingBehindWindowSeconds: 0 }] }, 'a.json: groupOverrides[0].kafkaFallingBehindWindowSeconds must be a whole number of seconds from 1 to 31536000 (a year), got 0'],
    [{ groupOverrides: [{ groups: 'x', kafkaFallingBehindWindowSeconds: 90.5 }] }, 'a.json: groupOverrides[0].kafkaFallingBehindWindowSeconds must be a whole number of seconds from 1 to 31536000 (a year), got 90.5'],
  ])('refuses %j', (config, message) => {
    expect(() => resolveAlertsConfig(config, 'a.json')).toThrow(message);
  });
});

describe('kubernetes.ruleLabels (the PrometheusRule selector labels)', () => {
  const ruleMetadata = (config: unknown) => {
    const text = alertFiles(resolveAlertsConfig(config)).get('alerts/kubernetes/prometheus-rule.yml')!;
    return (parse(text) as { metadata: { labels: Record<string, string> } }).metadata.labels;
  };

  it('adds the labels to the resource beside the fixed ones; none by default', () => {
    expect(ruleMetadata(undefined)).toEqual({ 'app.kubernetes.io/name': 'eda-harness', 'app.kubernetes.io/component': 'alerts' });
    expect(ruleMetadata({ kubernetes: { ruleLabels: { release: 'kube-prometheus-stack', 'example.com/team': 'payments' } } })).toEqual({
      'app.kubernetes.io/name': 'eda-harness',
      'app.kubernetes.io/component': 'alerts',
      release: 'kube-prometheus-stack',
      'example.com/team': 'payments',
    });
  });

  it('refuses unknown keys and what Kubernetes would refuse as a label, naming it', () => {
    expect(() => resolveAlertsConfig({ kubernetes: { ruleLabel: {} } })).toThrow(/kubernetes.*ruleLabel/);
    expect(() => resolveAlertsConfig({ kubernetes: { ruleLabels: { 'has space': 'x' } } })).toThrow(/"has space" is not a Kubernetes label key/);
    expect(() => resolveAlertsConfig({ kubernetes: { ruleLabels: { release: 'a/b' } } })).toThrow(/ruleLabels\.release: "a\/b" is not a Kubernetes label value/);
    expect(() => resolveAlertsConfig({ kubernetes: { ruleLabels: { release: 1 } } })).toThrow(ConfigError);
    expect(() => resolveAlertsConfig({ kubernetes: 'release=x' })).toThrow(ConfigError);
  });
});
