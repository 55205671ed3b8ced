import { TimeoutError, waitFor } from '@eda-harness/core';

/**
 * Polls `done` every `intervalMs` until it holds or `timeoutMs` have passed, whichever comes
 * first. Running out of time is not an error here: what did not happen in time (a message not
 * consumed, an alert not resolved) is for the invariants to judge.
 */
export async function waitUpTo(done: () => boolean, options: { readonly description: string; readonly timeoutMs: number; readonly intervalMs: number }): Promise<void> {
  try {
    await waitFor(done, options);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
  }
}
