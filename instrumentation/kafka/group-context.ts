import { createContextKey } from '../shared/otel-api';
import type { Context, Span } from '@opentelemetry/api';
import { withSpan } from '../shared/span-overlay';

/**
 * The consumer group of the Kafka handler a piece of code runs in, carried in the OpenTelemetry
 * context the wrappers run eachMessage, eachBatch and traceKafkaMessage in. recordDeadLetter()
 * reads it, so a dead letter sent from a handler is counted for that group without the caller
 * naming it. Needs a registered context manager (startTelemetry registers one); without one the
 * active context never changes and the group stays unknown.
 */
const GROUP_KEY = createContextKey('eda-harness kafka consumer group');

export function withConsumerGroup(ctx: Context, groupId: string | undefined): Context {
  return groupId ? ctx.setValue(GROUP_KEY, groupId) : ctx;
}

export function consumerGroupOf(ctx: Context): string | undefined {
  const value = ctx.getValue(GROUP_KEY);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `trace.setSpan(parent, span)` (span undefined: parent as it is) with the consumer group, in one context object. */
export function withSpanAndGroup(parent: Context, span: Span | undefined, groupId: string | undefined): Context {
  return groupId ? withSpan(parent, span, GROUP_KEY, groupId) : withSpan(parent, span);
}
