import type { FaultWindow, SentMessage } from './types';

/**
 * Whether the recovery traffic may stop: the recovery invariant judges the consumer on messages
 * sent after healing, so at least one of them must have been acknowledged by the broker. When the
 * workload's own producer is still reconnecting at the end of `recoveryMs` (a broker restart on a
 * busy machine), the traffic goes on until one is, rather than judging the consumer on nothing.
 */

/** When the last fault healed; undefined when there was no fault or one did not heal. */
export function healedAtMs(windows: readonly FaultWindow[]): number | undefined {
  if (windows.length === 0 || windows.some((w) => w.endMs === undefined)) return undefined;
  return Math.max(...windows.map((w) => w.endMs as number));
}

/** True once a good message sent at or after `healedAt` has been acknowledged. */
export function ackedAfterHealing(sent: readonly SentMessage[], healedAt: number): boolean {
  return sent.some((m) => !m.poison && m.sentAtMs >= healedAt && m.ackedAtMs !== undefined);
}
