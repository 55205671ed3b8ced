import type { SpanContext } from '@opentelemetry/api';
import { LABEL } from './vocabulary';
import type { MessagingMetrics, MetricCell, MetricLabels } from './metrics';

/**
 * The producer-side series of one destination (sent messages and operation duration, success),
 * bound once. Failures (rare) take the general path, countSent.
 */
export class SendCells {
  private readonly sent: MetricCell;
  private readonly duration: MetricCell;

  constructor(m: MessagingMetrics, labels: MetricLabels) {
    this.sent = m.cell('SENT_MESSAGES', labels);
    this.duration = m.cell('OPERATION_DURATION', labels);
  }

  succeeded(count: number, seconds: number, exemplar: SpanContext | undefined): void {
    this.sent.add(count);
    this.duration.observe(seconds, exemplar);
  }
}

/** The success labels countSent uses for a destination (error.type absent), frozen. */
export function sendLabels(system: string, operationName: string, destination: string): MetricLabels {
  return Object.freeze({ [LABEL.MESSAGING_SYSTEM]: system, [LABEL.MESSAGING_OPERATION_NAME]: operationName, [LABEL.MESSAGING_DESTINATION_NAME]: destination });
}

/** Bound cells for `labels`, or undefined when metrics are off or binding fails (reported). */
export function bindSendCells(m: MessagingMetrics | undefined, labels: MetricLabels, report: (err: unknown) => void): SendCells | undefined {
  if (!m) return undefined;
  try {
    return new SendCells(m, labels);
  } catch (err) {
    report(err);
    return undefined;
  }
}
