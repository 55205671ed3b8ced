import { EXPORTER_PARTIAL_FAILURE } from '@eda-harness/semconv';

/** A `request` value of eda_exporter_partial_failures_total. */
export type PartialFailureRequest = (typeof EXPORTER_PARTIAL_FAILURE)[keyof typeof EXPORTER_PARTIAL_FAILURE];

/**
 * The request a collection's warning is about, by how the reads word their warnings (one
 * request, then what went wrong). A warning no rule knows is `other`: still counted, never lost.
 */
const RULES: readonly (readonly [RegExp, PartialFailureRequest])[] = [
  [/^describeGroups\(/, EXPORTER_PARTIAL_FAILURE.DESCRIBE_GROUP],
  [/^fetchOffsets\(/, EXPORTER_PARTIAL_FAILURE.FETCH_OFFSETS],
  [/^metadata of /, EXPORTER_PARTIAL_FAILURE.METADATA],
  [/^(listOffsets|fetchTopicOffsets)\(/, EXPORTER_PARTIAL_FAILURE.LIST_OFFSETS],
  [/^(fetching record timestamps|record timestamps)\b/, EXPORTER_PARTIAL_FAILURE.FETCH_RECORDS],
  [/^management statistics are disabled\b/, EXPORTER_PARTIAL_FAILURE.MANAGEMENT_STATISTICS],
  [/^(management API unavailable|reading depth and consumers from RabbitMQ's Prometheus endpoint)\b/, EXPORTER_PARTIAL_FAILURE.MANAGEMENT],
  [/^checkQueue\(/, EXPORTER_PARTIAL_FAILURE.CHECK_QUEUE],
];

export function partialFailureRequest(warning: string): PartialFailureRequest {
  return RULES.find(([pattern]) => pattern.test(warning))?.[1] ?? EXPORTER_PARTIAL_FAILURE.OTHER;
}

/** Adds one collection's warnings to the counts by request (a copy: the counts given stay as they are). */
export function countPartialFailures(counts: ReadonlyMap<string, number>, warnings: readonly string[]): Map<string, number> {
  const next = new Map(counts);
  for (const w of warnings) {
    const request = partialFailureRequest(w);
    next.set(request, (next.get(request) ?? 0) + 1);
  }
  return next;
}

/** Default quiet period of {@link createWarningLimiter}: one line per request kind per target per 5 minutes. */
export const WARNING_LOG_INTERVAL_MS = 5 * 60_000;

export interface WarningLimiter {
  /**
   * The lines to log for one collection's warnings: the first warning of each request kind when
   * that kind was last logged `intervalMs` ago or more (or never), saying how many of its kind
   * were left unlogged since; nothing otherwise. A leaderless partition warns at every
   * collection; the log says so once per interval and the counter says how often.
   */
  lines(warnings: readonly string[], nowMs: number): string[];
}

export function createWarningLimiter(intervalMs: number = WARNING_LOG_INTERVAL_MS): WarningLimiter {
  const last = new Map<PartialFailureRequest, number>();
  const suppressed = new Map<PartialFailureRequest, number>();
  return {
    lines(warnings, nowMs) {
      const out: string[] = [];
      const byRequest = new Map<PartialFailureRequest, string[]>();
      for (const w of warnings) {
        const request = partialFailureRequest(w);
        byRequest.set(request, [...(byRequest.get(request) ?? []), w]);
      }
      for (const [request, list] of byRequest) {
        const at = last.get(request);
        if (at !== undefined && nowMs - at < intervalMs) {
          suppressed.set(request, (suppressed.get(request) ?? 0) + list.length);
          continue;
        }
        const more = list.length - 1 + (suppressed.get(request) ?? 0);
        const minutes = Math.round(intervalMs / 60_000);
        const tail = more > 0 ? ` (${more} more ${request} warning${more === 1 ? '' : 's'} ${at === undefined ? 'in this collection' : `since the last one logged`}; logged once per ${minutes >= 1 ? `${minutes} min` : `${intervalMs} ms`} per kind, counted in eda_exporter_partial_failures_total)` : '';
        out.push(`${list[0]}${tail}`);
        last.set(request, nowMs);
        suppressed.set(request, 0);
      }
      return out;
    },
  };
}
