import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry, Histogram, Counter } from 'prom-client';
import type { TraceSpan } from '../../../environment/jaeger-query';
import { counterTotal, histogramBuckets, histogramQuantile, renderSpanTree, renderTraceTree, treeSpanOfTrace } from '../../../cli/demo-report';

describe('histogramQuantile', () => {
  it('interpolates inside the bucket holding the quantile, like PromQL', () => {
    const buckets = [
      { le: 0.1, count: 50 },
      { le: 0.2, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.75, buckets)).toBeCloseTo(0.15);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.05);
  });

  it('is undefined with no observations and stops at the last finite bound for +Inf', () => {
    expect(histogramQuantile(0.5, [{ le: 1, count: 0 }])).toBeUndefined();
    expect(histogramQuantile(0.99, [{ le: 1, count: 1 }, { le: Number.POSITIVE_INFINITY, count: 10 }])).toBe(1);
  });

  it('reads buckets and counters from a real prom-client registry', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'lat_seconds', help: 'h', labelNames: ['stage'], buckets: [0.01, 0.1, 1], registers: [registry] });
    for (let i = 0; i < 10; i++) h.observe({ stage: 'processed' }, 0.05);
    h.observe({ stage: 'received' }, 5);
    const c = new Counter({ name: 'c_total', help: 'c', labelNames: ['error_type'], registers: [registry] });
    c.inc({ error_type: '' }, 3);
    c.inc({ error_type: 'handler' }, 2);
    const buckets = await histogramBuckets(registry, 'lat_seconds', { stage: 'processed' });
    expect(buckets.find((b) => b.le === 0.1)?.count).toBe(10);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.055);
    expect(await counterTotal(registry, 'c_total')).toBe(5);
    expect(await counterTotal(registry, 'c_total', (l) => Boolean(l['error_type']))).toBe(2);
    expect(await counterTotal(registry, 'missing_total')).toBe(0);
  });
});

function span(id: string, parent: string | undefined, name: string, kind: SpanKind, startMs: number, error = false): ReadableSpan {
  return {
    name,
    kind,
    spanContext: () => ({ traceId: 't'.repeat(32), spanId: id, traceFlags: 1 }),
    parentSpanContext: parent ? { traceId: 't'.repeat(32), spanId: parent, traceFlags: 1 } : undefined,
    startTime: [Math.floor(startMs / 1000), (startMs % 1000) * 1e6],
    duration: [0, 2_500_000],
    status: { code: error ? SpanStatusCode.ERROR : SpanStatusCode.UNSET },
    attributes: {},
  } as unknown as ReadableSpan;
}

describe('renderTraceTree', () => {
  it('draws parents before children, siblings by start time, with service, kind, duration and errors', () => {
    const tree = renderTraceTree(
      [
        span('c2', 'root', 'process emails', SpanKind.CONSUMER, 30, true),
        span('root', undefined, 'place order', SpanKind.INTERNAL, 0),
        span('c1', 'root', 'send orders', SpanKind.PRODUCER, 10),
        span('c11', 'c1', 'process orders', SpanKind.CONSUMER, 20),
      ],
      (s) => (s.name.includes('email') ? 'notification' : 'order'),
    );
    expect(tree.split('\n')).toEqual([
      `trace ${'t'.repeat(32)}`,
      '└─ order: place order (internal, 2.5 ms)',
      '   ├─ order: send orders (producer, 2.5 ms)',
      '   │  └─ order: process orders (consumer, 2.5 ms)',
      '   └─ notification: process emails (consumer, 2.5 ms) ERROR',
    ]);
  });

  it('hangs spans whose parent is missing from the root', () => {
    const tree = renderTraceTree([span('a', 'gone', 'orphan', SpanKind.CONSUMER, 0)], () => 'svc');
    expect(tree).toContain('└─ svc: orphan');
  });
});

describe('renderSpanTree over a trace read back from Jaeger', () => {
  const t = (spanId: string, parentSpanId: string | undefined, service: string, name: string, kind: TraceSpan['kind'], startTimeUnixMs: number, statusCode: TraceSpan['statusCode'] = 'unset'): TraceSpan => ({
    traceId: 'a'.repeat(32),
    spanId,
    parentSpanId,
    name,
    service,
    kind,
    startTimeUnixMs,
    durationMs: 1.25,
    attributes: {},
    links: [],
    statusCode,
  });

  it('draws the same tree as for spans in memory: parents first, siblings by start, service and kind from Jaeger', () => {
    const spans = [t('n', 'r', 'notification-service', 'process notifications.email', 'consumer', 30, 'error'), t('r', undefined, 'order-service', 'place order', 'server', 0), t('s', 'r', 'order-service', 'send orders.placed', 'producer', 10), t('i', 's', 'inventory-service', 'process orders.placed', 'consumer', 20)];
    expect(renderSpanTree(spans.map(treeSpanOfTrace)).split('\n')).toEqual([
      `trace ${'a'.repeat(32)}`,
      '└─ order-service: place order (server, 1.3 ms)',
      '   ├─ order-service: send orders.placed (producer, 1.3 ms)',
      '   │  └─ inventory-service: process orders.placed (consumer, 1.3 ms)',
      '   └─ notification-service: process notifications.email (consumer, 1.3 ms) ERROR',
    ]);
    expect(renderSpanTree([])).toBe('(no spans)');
  });
});
