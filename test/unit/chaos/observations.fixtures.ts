import type { ConsumedMessage, Observations, SentMessage } from '../../../chaos/types';

/** Hand-made histories for the invariants and the per-scenario figures. All times are epoch ms; T0 is when the scenario started. */
export const T0 = 1_700_000_000_000;

/** A message sent `at` ms after T0, acknowledged `ackAfter` ms later (default 5) unless `failed`. */
export function sent(id: string, at: number, opts: { key?: string; seq?: number; failed?: boolean; ackAfter?: number; poison?: boolean } = {}): SentMessage {
  const failed = opts.failed === true;
  return {
    id,
    key: opts.key ?? 'k0',
    seq: opts.seq ?? 0,
    sentAtMs: T0 + at,
    ackedAtMs: failed ? undefined : T0 + at + (opts.ackAfter ?? 5),
    error: failed ? 'KafkaJSRequestTimeoutError: Request timed out' : undefined,
    poison: opts.poison === true,
  };
}

/** A delivery `at` ms after T0, with a healthy traceparent (trace `t-<id>`, producer span `p-<id>`) unless told otherwise. */
export function consumed(
  id: string,
  at: number,
  opts: { key?: string; seq?: number; redelivered?: boolean; deadLettered?: boolean; traceId?: string | null; spanId?: string | null } = {},
): ConsumedMessage {
  return {
    id,
    key: opts.key ?? 'k0',
    seq: opts.seq ?? 0,
    atMs: T0 + at,
    partition: 0,
    redelivered: opts.redelivered === true,
    producerTraceId: opts.traceId === null ? undefined : (opts.traceId ?? `t-${id}`),
    producerSpanId: opts.spanId === null ? undefined : (opts.spanId ?? `p-${id}`),
    deadLettered: opts.deadLettered === true,
  };
}

/** A scenario's observations from T0 to T0 + 20 s; what is not given is empty (and no Prometheus watched). */
export function obs(parts: Partial<Pick<Observations, 'sent' | 'consumed' | 'faults' | 'spans' | 'alerts'>>): Observations {
  return {
    scenario: 'kafka-broker-kill',
    system: 'kafka',
    startedMs: T0,
    endedMs: T0 + 20_000,
    sent: parts.sent ?? [],
    consumed: parts.consumed ?? [],
    faults: parts.faults ?? [],
    spans: parts.spans ?? [],
    events: [],
    alerts: parts.alerts,
  };
}
