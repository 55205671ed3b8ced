import { setTimeout as delay } from 'node:timers/promises';
import { EdaHarnessError, TimeoutError, errorMessage } from './errors';

export interface WaitForOptions {
  /** What is awaited, for the error message ("Kafka node 2 to join the cluster"). */
  readonly description: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Checked between attempts; a thrown error here aborts the wait at once (a process died, say). */
  readonly abortIf?: () => void;
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false` or stops throwing, then
 * returns that value. Used instead of sleeping everywhere: readiness, test assertions, teardown.
 * On timeout the last probe error is attached as the cause, so "why not ready" is never lost.
 *
 * A probe error counts as "not yet" (plain errors, and {@link EdaHarnessError}s marked retriable),
 * except an EdaHarnessError with `retriable === false`: polling again cannot change that answer, so
 * the wait ends at once and that error is rethrown as it is, like one thrown by `abortIf`. (It is
 * not wrapped in a TimeoutError: no time ran out, and a TimeoutError is retriable, which would turn
 * a final answer into "try again".) A probe that is merely not ready yet must throw retriable errors.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitForOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.abortIf?.();
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      if (err instanceof EdaHarnessError && !err.retriable) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : ` (last attempt: ${errorMessage(lastError)})`;
      throw new TimeoutError(`Timed out after ${timeoutMs} ms waiting for ${options.description}${why}`, {
        cause: lastError,
      });
    }
    await delay(intervalMs);
  }
}
