import type { SpanContext } from '@opentelemetry/api';
import type { MessagingMetrics, MetricCell, MetricLabels } from './metrics';
import { withStage } from './tap';

/**
 * The consumer-side series of one destination (a Kafka topic/partition of a consumer, an AMQP
 * queue of a consume), bound once: a delivery then does a few additions and bucket scans, with no
 * lookups, closures or allocations for its metrics. Failure outcomes (rare) take the general path.
 */
export class ConsumerCells {
  readonly inFlight: MetricCell;
  readonly consumed: MetricCell;
  readonly redeliveries: MetricCell;
  readonly processedOk: MetricCell;
  readonly durationOk: MetricCell;
  readonly e2eReceived: MetricCell;
  readonly e2eProcessed: MetricCell;
  readonly e2eNegative: MetricCell;

  constructor(m: MessagingMetrics, labels: MetricLabels) {
    this.inFlight = m.cell('IN_FLIGHT', labels);
    this.consumed = m.cell('CONSUMED_MESSAGES', labels);
    this.redeliveries = m.cell('REDELIVERIES', labels);
    this.processedOk = m.cell('MESSAGES_PROCESSED', labels);
    this.durationOk = m.cell('PROCESS_DURATION', labels);
    this.e2eReceived = m.cell('E2E_LATENCY', withStage(labels, 'received'));
    this.e2eProcessed = m.cell('E2E_LATENCY', withStage(labels, 'processed'));
    this.e2eNegative = m.cell('E2E_NEGATIVE_LATENCY', labels);
  }

  /** `count` delivered, `redeliveries` of them seen before; e2e stage=received when produced-at is known. */
  received(count: number, redeliveries: number, producedAt: number | undefined, nowMs: number, exemplar: SpanContext | undefined): void {
    this.inFlight.add(count);
    this.consumed.add(count);
    if (redeliveries > 0) this.redeliveries.add(redeliveries);
    if (producedAt === undefined) return;
    const seconds = (nowMs - producedAt) / 1000;
    if (seconds < 0) this.e2eNegative.add(1);
    else this.e2eReceived.observe(seconds, exemplar, nowMs);
  }

  /** e2e latency of one message at `stage` (a negative one counted at reception only). */
  e2e(stage: 'received' | 'processed', producedAt: number | undefined, nowMs: number, exemplar: SpanContext | undefined): void {
    if (producedAt === undefined) return;
    const seconds = (nowMs - producedAt) / 1000;
    if (seconds < 0) {
      if (stage === 'received') this.e2eNegative.add(1);
    } else {
      (stage === 'received' ? this.e2eReceived : this.e2eProcessed).observe(seconds, exemplar, nowMs);
    }
  }

  /** One delivery processed successfully: out of flight, counted, its duration, e2e stage=processed. */
  processed(seconds: number, producedAt: number | undefined, nowMs: number, exemplar: SpanContext | undefined): void {
    this.inFlight.add(-1);
    this.processedOk.add(1);
    this.durationOk.observe(seconds, exemplar, nowMs);
    if (producedAt === undefined) return;
    const e2e = (nowMs - producedAt) / 1000;
    // A negative latency was counted once, at reception.
    if (e2e >= 0) this.e2eProcessed.observe(e2e, exemplar, nowMs);
  }
}
