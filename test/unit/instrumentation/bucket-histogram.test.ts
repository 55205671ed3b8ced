import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import { BucketHistogram } from '../../../instrumentation/shared/bucket-histogram';

const BUCKETS = [0.005, 0.01, 0.1, 1, 10];

describe('BucketHistogram', () => {
  it('renders exactly what prom-client\'s Histogram renders for the same observations (text and JSON)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.double({ min: 0, max: 20, noNaN: true })), { maxLength: 50 }), async (observations) => {
        const ours = new Registry();
        const theirs = new Registry();
        const h = new BucketHistogram('h_seconds', 'help', ['topic'], BUCKETS, ours);
        const p = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['topic'], buckets: BUCKETS, registers: [theirs] });
        const labelObjects = new Map<string, Readonly<Record<string, string>>>();
        const order: string[] = [];
        for (const [topic, value] of observations) {
          if (!labelObjects.has(topic)) {
            labelObjects.set(topic, Object.freeze({ topic }));
            order.push(topic);
          }
          h.observe(labelObjects.get(topic)!, value);
          p.observe({ topic }, value);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
      }),
      { numRuns: 200 },
    );
  });

  it('carries exemplars in the OpenMetrics output on the bucket that got the observation', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const h = new BucketHistogram('lat_seconds', 'help', ['q'], BUCKETS, registry);
    h.observe(Object.freeze({ q: 'x' }), 0.05, { trace_id: 'abc', span_id: 'def' });
    const text = await registry.metrics();
    expect(text).toMatch(/lat_seconds_bucket\{le="0.1",q="x"\} 1 # \{trace_id="abc",span_id="def"\} 0.05 \d+/);
    expect(text).toMatch(/lat_seconds_bucket\{le="0.01",q="x"\} 0\n/);
    h.reset();
    expect(await registry.metrics()).not.toContain('q="x"');
  });

  it('a held series keeps the latest exemplar per bucket, and what a scrape returned does not change after it', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const h = new BucketHistogram('e2e_seconds', 'help', ['q'], BUCKETS, registry);
    const series = h.seriesOf(Object.freeze({ q: 'y' }));
    h.observeSeries(series, 0.05, '11111111111111111111111111111111', '1111111111111111', 1_700_000_000_000);
    const first = await h.get();
    h.observeSeries(series, 0.07, '22222222222222222222222222222222', '2222222222222222', 1_700_000_001_000);
    // No exemplar given: the bucket keeps the one it has.
    h.observeSeries(series, 0.08);
    const bucket = (data: Awaited<ReturnType<BucketHistogram['get']>>) => data.values.find((v) => v.labels['le'] === 0.1)!;
    expect(bucket(first).exemplar).toEqual({ labelSet: { trace_id: '11111111111111111111111111111111', span_id: '1111111111111111' }, value: 0.05, timestamp: 1_700_000_000 });
    expect(bucket(await h.get()).exemplar).toEqual({ labelSet: { trace_id: '22222222222222222222222222222222', span_id: '2222222222222222' }, value: 0.07, timestamp: 1_700_000_001 });
    expect(await registry.metrics()).toMatch(/e2e_seconds_bucket\{le="0.1",q="y"\} 3 # \{trace_id="22222222222222222222222222222222",span_id="2222222222222222"\} 0.07 1700000001/);
  });
});
