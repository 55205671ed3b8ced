/**
 * Like Promise.all, but rejects (with the first failure in order) only once every value has
 * settled. Start-up uses it wherever work runs side by side, so that when one part fails the
 * teardown begins only after the others have spawned (and registered) all they were going to.
 */
export async function allSettledOrThrow(values: readonly unknown[]): Promise<void> {
  const failed = (await Promise.allSettled(values)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
