import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Link, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { ATTR, E2E_STAGE, ERROR_TYPE, LABEL } from '@eda-harness/semconv';
import type { CommonInstrumentationOptions, ProcessContextMode } from '../types';
import { createGuard } from './guard';
import type { Guard } from './guard';
import { messagingMetrics } from './metrics';
import type { MessagingMetrics, MetricLabels } from './metrics';
import { packageVersionSafe } from './version';

/**
 * What every wrapper needs, built once per instrument*() call from its options: a tracer, the
 * metrics (or none), a guard for telemetry code, and the small decisions shared by Kafka and AMQP.
 */
export interface Tap {
  readonly tracer: Tracer;
  readonly metrics: MessagingMetrics | undefined;
  readonly guard: Guard;
  readonly processContext: ProcessContextMode;
  /** Records a metric, never throwing. */
  record(fn: (m: MessagingMetrics) => void): void;
}

const TRACER_NAME = 'eda-harness';

export function createTap(options: CommonInstrumentationOptions): Tap {
  let metrics: MessagingMetrics | undefined;
  const guard = createGuard(options.logger, (hook) => {
    try {
      metrics?.inc('INSTRUMENTATION_ERRORS', { [LABEL.HOOK]: hook });
    } catch {
      /* counting a failure must not fail */
    }
  });
  if (options.metrics !== false) {
    metrics = guard.run('metrics.create', () =>
      messagingMetrics({
        ...(options.registry ? { registry: options.registry } : {}),
        ...(options.exemplars !== undefined ? { exemplars: options.exemplars } : {}),
        ...(options.maxSeriesPerMetric !== undefined ? { maxSeriesPerMetric: options.maxSeriesPerMetric } : {}),
      }),
    );
  }
  const provider = options.tracerProvider;
  // The global provider is a proxy: a tracer taken now follows an SDK registered later.
  const tracer = (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, packageVersionSafe());
  return {
    tracer,
    metrics,
    guard,
    processContext: options.processContext ?? 'auto',
    record(fn) {
      if (!metrics) return;
      const m = metrics;
      guard.run('metrics.record', () => fn(m));
    },
  };
}

/** `error.type` for a thrown value: its class name, or _OTHER. */
export function errorType(err: unknown): string {
  if (err instanceof Error) {
    const name = err.constructor?.name || err.name;
    return name && name !== 'Object' ? name : ERROR_TYPE.OTHER;
  }
  return ERROR_TYPE.OTHER;
}

export function failSpan(span: Span, err: unknown, type = errorType(err)): void {
  span.setAttribute(ATTR.ERROR_TYPE, type);
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * Parent and links for a process span, per {@link ProcessContextMode}. `producer` is the context
 * extracted from the message; `ambient` is whatever is active where the handler is called.
 */
export function processParent(mode: ProcessContextMode, producer: Context, ambient: Context): { parent: Context; links: Link[] } {
  const producerSc = trace.getSpanContext(producer);
  const ambientSc = trace.getSpanContext(ambient);
  const links: Link[] = [];
  const link = (sc: SpanContext | undefined) => {
    if (sc && trace.isSpanContextValid(sc)) links.push({ context: sc });
  };
  const hasProducer = producerSc !== undefined && trace.isSpanContextValid(producerSc);
  const hasAmbient = ambientSc !== undefined && trace.isSpanContextValid(ambientSc);
  if (mode === 'link' || (mode === 'auto' && hasAmbient) || !hasProducer) {
    link(producerSc);
    return { parent: hasAmbient ? ambient : ROOT_CONTEXT, links };
  }
  // Parent on the producer's context (carrying its baggage too); keep the link the conventions ask for.
  link(producerSc);
  if (mode === 'parent') link(ambientSc);
  return { parent: producer, links };
}

const stageLabels = new WeakMap<MetricLabels, { received: MetricLabels; processed: MetricLabels }>();

/** `labels` + stage, built once per label object (callers reuse theirs per topic / queue). */
function withStage(labels: MetricLabels, stage: 'received' | 'processed'): MetricLabels {
  let pair = stageLabels.get(labels);
  if (!pair) {
    pair = { received: Object.freeze({ ...labels, [LABEL.STAGE]: E2E_STAGE.RECEIVED }), processed: Object.freeze({ ...labels, [LABEL.STAGE]: E2E_STAGE.PROCESSED }) };
    stageLabels.set(labels, pair);
  }
  return pair[stage];
}

/** Records produced-at → now in the e2e histogram, or counts it as negative (clock skew). */
export function recordE2e(tap: Tap, labels: MetricLabels, producedAtMs: number | undefined, stage: 'received' | 'processed', nowMs: number, exemplar?: SpanContext): void {
  if (producedAtMs === undefined) return;
  const seconds = (nowMs - producedAtMs) / 1000;
  tap.record((m) => {
    if (seconds < 0) {
      if (stage === E2E_STAGE.RECEIVED) m.inc('E2E_NEGATIVE_LATENCY', labels);
      return;
    }
    m.observe('E2E_LATENCY', withStage(labels, stage), seconds, exemplar);
  });
}
