import { Counter, Histogram, Registry } from 'prom-client';
import type { RegistryContentType } from 'prom-client';
import { parseExposition, sample, valueOf } from '../../support/exposition';

const PAGE = [
  '# HELP eda_queue_messages Messages in a queue.',
  '# TYPE eda_queue_messages gauge',
  'eda_queue_messages{queue="orders",state="ready"} 5',
  'eda_queue_messages{queue="say \\"hi\\", {ok}",state="ready"} 2',
  'eda_queue_messages{queue="C:\\\\tmp\\nnext",state="ready",} 1 1700000000000',
  '',
  '# HELP lat_seconds Latency.',
  '# TYPE lat_seconds histogram',
  'lat_seconds_bucket{le="0.1",q="x"} 1 # {trace_id="abc",span_id="def"} 0.05 1700000000.5',
  'lat_seconds_bucket{le="+Inf",q="x"} 3',
  'lat_seconds_sum{q="x"} 1.25',
  'lat_seconds_count{q="x"} 3',
  'up 1',
  'odd{v="a"} NaN',
  'low{v="a"} -Inf',
  '# EOF',
].join('\n');

test('labels: escaped quotes, backslashes and newlines are unescaped; braces and commas inside values stay; a trailing comma is fine', () => {
  const samples = parseExposition(PAGE).filter((s) => s.name === 'eda_queue_messages');
  expect(samples.map((s) => s.labels['queue'])).toEqual(['orders', 'say "hi", {ok}', 'C:\\tmp\nnext']);
  expect(samples[2]).toEqual({ name: 'eda_queue_messages', labels: { queue: 'C:\\tmp\nnext', state: 'ready' }, value: 1, timestamp: 1700000000000 });
  expect(valueOf(samples, 'eda_queue_messages', { queue: 'say "hi", {ok}' })).toBe(2);
});

test('histograms: bucket, sum and count series, +Inf, and an OpenMetrics exemplar on a bucket', () => {
  const samples = parseExposition(PAGE);
  expect(valueOf(samples, 'lat_seconds_bucket', { le: '+Inf' })).toBe(3);
  expect(valueOf(samples, 'lat_seconds_sum')).toBe(1.25);
  expect(valueOf(samples, 'lat_seconds_count', { q: 'x' })).toBe(3);
  expect(samples.find((s) => s.labels['le'] === '0.1')).toEqual({
    name: 'lat_seconds_bucket',
    labels: { le: '0.1', q: 'x' },
    value: 1,
    exemplar: { labels: { trace_id: 'abc', span_id: 'def' }, value: 0.05, timestamp: 1700000000.5 },
  });
});

test('comments and blank lines are skipped; NaN and -Inf are numbers; a line that is not a sample is an error', () => {
  const samples = parseExposition(PAGE);
  expect(samples).toHaveLength(10);
  expect(samples.map((s) => s.name)).not.toContain('#');
  expect(valueOf(samples, 'up')).toBe(1);
  expect(valueOf(samples, 'odd')).toBeNaN();
  expect(valueOf(samples, 'low')).toBe(-Infinity);
  expect(() => parseExposition('ok 1\nbroken{a="1" 2')).toThrow('unparseable exposition line 2');
  expect(() => parseExposition('no_value{a="1"}')).toThrow('unparseable exposition line 1');
  expect(() => parseExposition('x{a="unclosed} 1')).toThrow('is not closed');
});

test('valueOf: undefined when no series matches, an error when several do; sample sums the matching series', () => {
  const samples = parseExposition(PAGE);
  expect(valueOf(samples, 'eda_queue_messages', { queue: 'payments' })).toBeUndefined();
  expect(() => valueOf(samples, 'eda_queue_messages', { state: 'ready' })).toThrow('matches 3 series');
  expect(sample(PAGE, 'eda_queue_messages', { state: 'ready' })).toBe(8);
  expect(sample(PAGE, 'missing_total')).toBe(0);
});

test('reads what prom-client writes: Prometheus text, and OpenMetrics with an exemplar', async () => {
  for (const openMetrics of [false, true]) {
    const registry = new Registry<RegistryContentType>();
    if (openMetrics) registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    new Counter({ name: 'sent_total', help: 'Sent.', labelNames: ['queue'], registers: [registry] }).inc({ queue: 'a "quoted"\\queue' }, 2);
    // prom-client types exemplar labels as the metric's own label names.
    const histogram = new Histogram({ name: 'wait_seconds', help: 'Wait.', labelNames: ['q', 'trace_id'], buckets: [0.1, 1], registers: [registry], enableExemplars: openMetrics });
    if (openMetrics) histogram.observe({ labels: { q: 'x' }, value: 0.5, exemplarLabels: { trace_id: 'abc' } });
    else histogram.observe({ q: 'x' }, 0.5);
    const text = await registry.metrics();
    expect(sample(text, 'sent_total', { queue: 'a "quoted"\\queue' })).toBe(2);
    expect(sample(text, 'wait_seconds_bucket', { q: 'x', le: '1' })).toBe(1);
    expect(sample(text, 'wait_seconds_bucket', { q: 'x', le: '+Inf' })).toBe(1);
    expect(sample(text, 'wait_seconds_count', { q: 'x' })).toBe(1);
    if (openMetrics) expect(parseExposition(text).find((s) => s.labels['le'] === '1')?.exemplar).toMatchObject({ labels: { trace_id: 'abc' }, value: 0.5 });
  }
});
