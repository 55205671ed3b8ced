import { Matchers } from '@pact-foundation/pact';

/** ISO 8601 date-time with optional fraction and a Z or ±hh:mm offset: what `Date#toISOString` and most producers emit. */
export const ISO_8601_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';

export interface EnvelopeSpec {
  /** Matched exactly: the consumer routes on it. */
  readonly eventType: string;
  /** Matched exactly: a new version is a new contract, announced rather than discovered. */
  readonly version: number;
  /** The payload template: literals match exactly, matchers match by type or format. */
  readonly payload: unknown;
  /** Examples (what the consumer test receives); any uuid / date-time / string matches. */
  readonly eventId?: string;
  readonly occurredAt?: string;
  readonly correlationId?: string;
}

/**
 * The event envelope as a Pact template: eventId any uuid, occurredAt any ISO 8601 date-time,
 * correlationId any string, eventType and version exact, the payload as given.
 */
export function eventEnvelope(spec: EnvelopeSpec): Record<string, unknown> {
  return {
    eventId: Matchers.uuid(spec.eventId ?? '6f1c2a9e-8d1b-4c3e-9f7a-2b5d8e4c1a03'),
    eventType: spec.eventType,
    occurredAt: Matchers.regex(ISO_8601_DATE_TIME, spec.occurredAt ?? '2026-01-15T09:30:00.000Z'),
    version: spec.version,
    payload: spec.payload,
    metadata: { correlationId: Matchers.string(spec.correlationId ?? 'c0ffee00-0000-4000-8000-000000000001') },
  };
}
