import { exporterLagBySecond, exporterLagQuery, exporterLagSamples, lagBySecondOf, rangeStepSeconds, withExporterLag } from '../../../chaos/exporter-lag';
import { HISTORY_FORMAT, HISTORY_FORMAT_VERSION, type HistoryRecord } from '../../../chaos/history/format';
import { observationsOf } from '../../../chaos/history/observations';
import { parseHistory } from '../../../chaos/history/reader';
import { renderHtml } from '../../../chaos/report';
import { timelineOf } from '../../../chaos/scenario';
import type { ScenarioResult, TimelinePoint } from '../../../chaos/types';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const matrix = (...series: [number, string][][]) => ({ status: 'success', data: { resultType: 'matrix', result: series.map((values) => ({ values })) } });

describe('exporterLagQuery', () => {
  it('sums the lag of the topic or the messages in the queue, escaping the name', () => {
    expect(exporterLagQuery('kafka', 'chaos-1-orders')).toBe('sum(eda_kafka_consumer_lag_messages{topic="chaos-1-orders"})');
    expect(exporterLagQuery('rabbitmq', 'q"\\x')).toBe('sum(eda_rabbitmq_queue_messages{queue="q\\"\\\\x"})');
  });

  it('leaves out the times the exporter’s last successful collection is older than asked', () => {
    expect(exporterLagQuery('kafka', 'orders', 5)).toBe('sum(eda_kafka_consumer_lag_messages{topic="orders"}) and on() (time() - max(eda_exporter_last_success_timestamp_seconds{target="kafka"}) <= 5)');
    expect(exporterLagQuery('rabbitmq', 'orders', 3)).toMatch(/^sum\(eda_rabbitmq_queue_messages\{queue="orders"\}\) and on\(\) .*\{target="rabbitmq"\}\) <= 3\)$/);
  });
});

describe('exporterLagBySecond', () => {
  it('gives the last sample of each second since the start, adding series at one instant', () => {
    const answer = matrix(
      [[T0 / 1000 - 1, '9'], [T0 / 1000 + 0.5, '1'], [T0 / 1000 + 0.9, '2'], [T0 / 1000 + 2, '5']],
      [[T0 / 1000 + 0.9, '3'], [T0 / 1000 + 3, 'NaN']],
    );
    expect([...exporterLagBySecond(answer, T0)]).toEqual([[0, 5], [2, 5]]);
  });

  it('says what came back when it is not a matrix', () => {
    expect(() => exporterLagBySecond({ status: 'error' }, T0)).toThrow(/expected a successful Prometheus matrix.*"error"/);
  });
});

describe('withExporterLag', () => {
  it('puts the figures on the timeline, and the report then draws the exporter lag', () => {
    const timeline: TimelinePoint[] = [0, 1, 2].map((second) => ({ second, sent: 10, acked: 10, failed: 0, consumed: 10, latencyP50Ms: 5, latencyMaxMs: 9 }));
    const points = withExporterLag(timeline, new Map([[0, 0], [1, 40], [2, 3]]));
    expect(points.map((p) => p.consumerLag)).toEqual([0, 40, 3]);
    const scenario = { name: 's', description: '', system: 'kafka' as const, passed: true, startedAt: new Date(T0).toISOString(), durationMs: 3000, counts: { sent: 30, acked: 30, failed: 0, deliveries: 30, uniqueConsumed: 30, duplicates: 0, poison: 0 }, faults: [], invariants: [], timeline: points, events: [], alerts: [], error: undefined };
    const html = renderHtml({ tool: 't', startedAt: scenario.startedAt, durationMs: 3000, passed: true, scenarios: [scenario] });
    expect(html).toContain('<polyline class="lag lag-exporter"');
    expect(html).toContain('consumer lag (exporter, from the broker)');
  });
});

describe('exporterLagSamples, lagBySecondOf, rangeStepSeconds', () => {
  it('lists the summed samples in time order, and keeps the last one of each second', () => {
    const answer = matrix([[T0 / 1000 + 1.2, '4'], [T0 / 1000 + 0.2, '1']], [[T0 / 1000 + 0.2, '2'], [T0 / 1000 + 1.7, '6']]);
    const samples = exporterLagSamples(answer, T0);
    expect(samples).toEqual([
      { atMs: T0 + 200, messages: 3 },
      { atMs: T0 + 1200, messages: 4 },
      { atMs: T0 + 1700, messages: 6 },
    ]);
    expect([...lagBySecondOf(samples, T0)]).toEqual([[0, 3], [1, 6]]);
    expect([...lagBySecondOf([{ atMs: T0 - 1, messages: 9 }, { atMs: T0 + 5000, messages: -1 }], T0)]).toEqual([]);
  });

  it('asks for 1 s steps unless the run is longer than Prometheus allows points for', () => {
    expect(rangeStepSeconds(T0, T0 + 60_000)).toBe(1);
    expect(rangeStepSeconds(T0, T0 + 10_000_000)).toBe(1);
    expect(rangeStepSeconds(T0, T0 + 10_000_001)).toBe(2);
  });
});

describe('the exporter lag through the history', () => {
  const header = {
    type: 'header',
    format: HISTORY_FORMAT,
    version: HISTORY_FORMAT_VERSION,
    scenario: 'lagging',
    description: '',
    system: 'kafka',
    startedAt: new Date(T0).toISOString(),
    config: { timing: { warmupMs: 1, faultMs: 1, recoveryMs: 1, drainTimeoutMs: 1 }, recoveryLimitMs: 45_000, workload: 'w', faults: [], invariants: [], alertPack: true },
    environment: { needs: { rabbitmq: false, toxiproxy: false }, provided: 'own' },
    harness: { version: 't', node: 'v20', platform: 'linux-x64' },
  };
  const records: HistoryRecord[] = [
    { type: 'scenario-start', t: T0 },
    { type: 'send', t: T0 + 100, id: 'm0', key: 'k', seq: 0, poison: false, destination: 'orders' },
    { type: 'send-ack', t: T0 + 110, id: 'm0' },
    { type: 'delivery', t: T0 + 2500, id: 'm0', key: 'k', seq: 0, consumer: 'g', redelivered: false, deadLettered: false },
    { type: 'exporter-lag', t: T0 + 400, messages: 0 },
    { type: 'exporter-lag', t: T0 + 1400, messages: 1 },
    { type: 'exporter-lag', t: T0 + 1900, messages: 2 },
    // After the last traffic (the alert pack settling): the timeline goes on to it.
    { type: 'exporter-lag', t: T0 + 4400, messages: 0 },
    { type: 'scenario-end', t: T0 + 10_000, alertsWatched: true },
  ];
  const text = [header, ...records].map((r) => JSON.stringify(r)).join('\n') + '\n';

  it('is read back from the history file and put on the timeline seconds it falls in', () => {
    const observations = observationsOf(parseHistory(text, 'lagging.history.jsonl'));
    expect(observations.exporterLag).toHaveLength(4);
    expect(timelineOf(observations).map((p) => [p.second, p.consumed, p.consumerLag])).toEqual([
      [0, 0, 0],
      [1, 0, 2],
      [2, 1, undefined],
      [3, 0, undefined],
      [4, 0, 0],
    ]);
  });

  it('is refused with the line and field when a sample is not a number', () => {
    const bad = text.replace('"messages":2', '"messages":"2"');
    expect(() => parseHistory(bad, 'h.jsonl')).toThrow('h.jsonl, line 8: exporter-lag record: field "messages" must be a number, got a string');
  });

  it('is absent from a history without samples, and the timeline has no consumerLag', () => {
    const none = [header, ...records.filter((r) => r.type !== 'exporter-lag')].map((r) => JSON.stringify(r)).join('\n');
    const observations = observationsOf(parseHistory(none, 'h'));
    expect(observations.exporterLag).toBeUndefined();
    expect(timelineOf(observations).some((p) => 'consumerLag' in p)).toBe(false);
  });
});

describe('the lag chart with both lines', () => {
  const point = (second: number, acked: number, consumed: number, consumerLag?: number): TimelinePoint => ({ second, sent: acked, acked, failed: 0, consumed, latencyP50Ms: undefined, latencyMaxMs: undefined, ...(consumerLag === undefined ? {} : { consumerLag }) });
  const scenarioOf = (timeline: TimelinePoint[]): ScenarioResult => ({ name: 'two-lines', description: '', system: 'kafka', passed: true, startedAt: new Date(T0).toISOString(), durationMs: 4000, counts: { sent: 0, acked: 0, failed: 0, deliveries: 0, uniqueConsumed: 0, duplicates: 0, poison: 0 }, faults: [], invariants: [], timeline, events: [], alerts: [], error: undefined });
  const lagSvg = (timeline: TimelinePoint[]): string => /<svg class="timeline lag"[\s\S]*?<\/svg>/.exec(renderHtml({ tool: 't', startedAt: new Date(T0).toISOString(), durationMs: 4000, passed: true, scenarios: [scenarioOf(timeline)] }))?.[0] ?? '';
  const ys = (svg: string, cls: string): number[] => (new RegExp(`<polyline class="lag ${cls}" points="([^"]*)"`).exec(svg)?.[1] ?? '').split(' ').map((xy) => Number(xy.split(',')[1]));

  it('draws the workload and the exporter in their own colours on one scale, with both in the legend', () => {
    // Workload: behind 0, 5, 5, 0. Exporter: 0, 8, 20, 0 (it also counts processed but uncommitted messages).
    const html = renderHtml({ tool: 't', startedAt: new Date(T0).toISOString(), durationMs: 4000, passed: true, scenarios: [scenarioOf([point(0, 10, 10, 0), point(1, 10, 5, 8), point(2, 10, 10, 20), point(3, 0, 5, 0)])] });
    const svg = /<svg class="timeline lag"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(svg).toContain('stroke="#1e293b"');
    expect(svg).toContain('stroke="#0891b2"');
    const workload = ys(svg, 'lag-workload');
    const exporter = ys(svg, 'lag-exporter');
    expect(workload).toHaveLength(4);
    expect(exporter).toHaveLength(4);
    // One scale: the exporter's 20 is the top, the workload's 5 a quarter of it, both 0s on the axis.
    const bottom = 170 - 40;
    expect(exporter[0]).toBe(bottom);
    expect(workload[0]).toBe(bottom);
    expect(bottom - exporter[2]!).toBeCloseTo(4 * (bottom - workload[1]!), 0);
    const legend = html.slice(html.indexOf('<h3>Consumer lag</h3>'), html.indexOf('<h3>', html.indexOf('<h3>Consumer lag</h3>') + 1));
    expect(legend).toMatch(/background:#1e293b"><\/span>consumer lag \(acknowledged − consumed so far\)<span class="swatch" style="background:#0891b2"><\/span>consumer lag \(exporter, from the broker\)/);
  });

  it('keeps the exporter line when the workload could not count consumption', () => {
    const svg = lagSvg([point(0, 10, 0, 3), point(1, 10, 0, 12)]);
    expect(svg).not.toContain('lag-workload');
    expect(ys(svg, 'lag-exporter')).toHaveLength(2);
  });
});
