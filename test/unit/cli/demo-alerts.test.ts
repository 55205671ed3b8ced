import { alertChanges, alertStates, type PromAlert } from '../../../cli/demo-alerts';
import { DEMO_ALERTS_CONFIG, expectedDemoAlerts, scrapeTarget } from '../../../cli/demo-observability';
import { resolveAlertsConfig } from '../../../alerts/alerts-config';
import { alertPack } from '../../../alerts/alert-rules';

const alert = (alertname: string, state: string, labels: Record<string, string> = {}): PromAlert => ({ labels: { alertname, ...labels }, state });

describe('the demo alert lines', () => {
  it('keeps the strongest state per alert name and severity, whatever the order of the series', () => {
    const states = alertStates([
      alert('KafkaConsumerLagSecondsHigh', 'firing', { severity: 'warning', topic: 'a' }),
      alert('KafkaConsumerLagSecondsHigh', 'pending', { severity: 'warning', topic: 'b' }),
      alert('KafkaConsumerLagSecondsHigh', 'pending', { severity: 'critical', topic: 'a' }),
      alert('DeadLetterMessagesArriving', 'pending', { severity: 'warning' }),
      alert('DeadLetterMessagesArriving', 'firing', { severity: 'warning', dlq: 'x' }),
      { labels: { severity: 'warning' }, state: 'firing' },
    ]);
    expect([...states]).toEqual([
      ['DeadLetterMessagesArriving (warning)', 'firing'],
      ['KafkaConsumerLagSecondsHigh (critical)', 'pending'],
      ['KafkaConsumerLagSecondsHigh (warning)', 'firing'],
    ]);
  });

  it('says what went pending, what fired and what resolved, and nothing when nothing changed', () => {
    const before = alertStates([alert('A', 'pending'), alert('B', 'firing'), alert('C', 'pending')]);
    const after = alertStates([alert('A', 'firing'), alert('C', 'pending'), alert('D', 'pending')]);
    expect(alertChanges(before, after)).toEqual([
      { alert: 'A', state: 'firing' },
      { alert: 'B', state: 'resolved' },
      { alert: 'D', state: 'pending' },
    ]);
    expect(alertChanges(after, after)).toEqual([]);
    expect(alertChanges(new Map(), new Map())).toEqual([]);
  });
});

describe('the demo alert pack', () => {
  it('is the shipped pack with valid demo thresholds, and every alert the demo promises is in it', () => {
    const config = resolveAlertsConfig(DEMO_ALERTS_CONFIG, 'demo');
    const names = new Set(alertPack(config).flatMap((g) => g.alertRules.map((r) => r.alert)));
    for (const { alert: name } of expectedDemoAlerts(10)) expect({ name, inPack: names.has(name) }).toEqual({ name, inPack: true });
    for (const name of Object.keys(config.for)) expect({ name, inPack: names.has(name) }).toEqual({ name, inPack: true });
    expect(config.thresholds.kafkaLagSecondsWarning).toBeLessThan(config.thresholds.kafkaLagSecondsCritical);
  });
});

describe('scrapeTarget', () => {
  it('reaches a server on every interface through loopback, and brackets IPv6', () => {
    expect(scrapeTarget('0.0.0.0', 9464)).toBe('127.0.0.1:9464');
    expect(scrapeTarget('::', 9464)).toBe('127.0.0.1:9464');
    expect(scrapeTarget('127.0.0.1', 1234)).toBe('127.0.0.1:1234');
    expect(scrapeTarget('::1', 1234)).toBe('[::1]:1234');
    expect(scrapeTarget('demo.local', 80)).toBe('demo.local:80');
  });
});
