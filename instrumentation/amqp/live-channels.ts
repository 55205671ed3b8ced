/**
 * The open channels of one AMQP runtime, held through WeakRefs: a channel that is dropped without
 * ever emitting 'close' (a failed open, a test double) is collected with its state, and a
 * channel-per-unit-of-work application does not accumulate anything. Dead references are pruned
 * whenever the set has doubled since the last prune (amortised O(1) per add).
 */
export class LiveChannels<S extends object> {
  private readonly refs = new Set<WeakRef<S>>();
  private readonly byState = new WeakMap<S, WeakRef<S>>();
  private pruneAt = 64;

  get size(): number {
    return this.refs.size;
  }

  add(state: S): void {
    const ref = new WeakRef(state);
    this.refs.add(ref);
    this.byState.set(state, ref);
    if (this.refs.size >= this.pruneAt) {
      this.prune();
      this.pruneAt = Math.max(64, this.refs.size * 2);
    }
  }

  delete(state: S): void {
    const ref = this.byState.get(state);
    if (ref) this.refs.delete(ref);
    this.byState.delete(state);
  }

  /** Calls `fn` for every channel still alive (a snapshot: `fn` may delete). */
  forEach(fn: (state: S) => void): void {
    for (const ref of [...this.refs]) {
      const state = ref.deref();
      if (state) fn(state);
      else this.refs.delete(ref);
    }
  }

  private prune(): void {
    for (const ref of this.refs) if (ref.deref() === undefined) this.refs.delete(ref);
  }
}
