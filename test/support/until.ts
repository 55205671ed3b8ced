import { waitFor } from '../../core/wait-for';

export interface UntilOptions {
  /** Default 60 s: brokers and exporters under test take seconds, not milliseconds. */
  readonly timeoutMs?: number;
  /** Default 200 ms. */
  readonly intervalMs?: number;
}

/**
 * The tests' poll: core's {@link waitFor} with an integration test's patience. Polls `probe` until
 * it returns something other than undefined / false and resolves with that (what a throwing probe
 * means is waitFor's rule); on timeout, fails naming `description` and the last probe error.
 */
export function until<T>(description: string, probe: () => Promise<T | undefined | false> | T | undefined | false, options: UntilOptions = {}): Promise<T> {
  return waitFor(probe, { description, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: options.intervalMs ?? 200 });
}
