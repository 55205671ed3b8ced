/**
 * Instance-level method replacement that can be undone exactly.
 *
 * Each wrapper is marked with the original it replaced, so wrapping an already wrapped method is
 * a no-op (idempotence), and `restoreAll()` puts back precisely what was there, including the
 * absence of an own property when the method came from the prototype.
 *
 * Patch state dies with its target: the records (which hold the originals, closures over a
 * client's internals) live in a WeakMap keyed by the target, and the list `restoreAll()` walks
 * holds only WeakRefs, pruned when targets are collected. An app that opens a channel or a
 * producer per unit of work therefore neither leaks nor slows down.
 */
const ORIGINAL = Symbol.for('eda-harness.instrumentation.original');

/** What the wrappers replace and return: any method, called with its own `this`. */
export type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

interface Replaced {
  readonly key: string;
  readonly original: unknown;
  readonly ownDescriptor: PropertyDescriptor | undefined;
  readonly wrapper: AnyFunction;
}

/** Dead WeakRefs are swept when the list has doubled since the last sweep (amortised O(1)). */
const FIRST_SWEEP_AT = 64;

function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && ORIGINAL in fn;
}

export class Patcher {
  private records = new WeakMap<object, Replaced[]>();
  /** One WeakRef per patched target, for restoreAll; never keeps a target alive. */
  private readonly refs = new Set<WeakRef<object>>();
  private sweepAt = FIRST_SWEEP_AT;
  /** Created on first use: short-lived patchers (one per transaction) never need one. */
  private finalizer: FinalizationRegistry<WeakRef<object>> | undefined;

  /**
   * Replaces `target[key]` with `makeWrapper(original)` unless it is already one of ours. Returns
   * whether it did; a target that cannot be patched (frozen, a throwing getter) is left as it is.
   */
  wrap<T extends object>(target: T, key: string, makeWrapper: (original: AnyFunction) => AnyFunction): boolean {
    let current: unknown;
    let ownDescriptor: PropertyDescriptor | undefined;
    try {
      current = (target as Record<string, unknown>)[key];
      ownDescriptor = Object.getOwnPropertyDescriptor(target, key);
    } catch {
      return false;
    }
    if (typeof current !== 'function' || isWrapped(current)) return false;
    const original = current as AnyFunction;
    const wrapper = makeWrapper(original);
    if (!Reflect.defineProperty(wrapper, ORIGINAL, { value: original })) return false;
    const replacement = { value: wrapper, writable: true, configurable: true, enumerable: ownDescriptor?.enumerable ?? false };
    if (!Reflect.defineProperty(target, key, replacement)) return false;
    this.remember(target, { key, original, ownDescriptor, wrapper });
    return true;
  }

  /** Puts back every original this patcher replaced (skipping methods someone replaced since). */
  restoreAll(): void {
    for (const ref of this.refs) {
      const target = ref.deref();
      const list = target && this.records.get(target);
      if (target && list) restore(target as Record<string, unknown>, list);
      this.finalizer?.unregister(ref);
    }
    this.refs.clear();
    this.records = new WeakMap();
    this.sweepAt = FIRST_SWEEP_AT;
  }

  /** How many patched targets are still alive (dead ones are pruned first); for tests and diagnostics. */
  liveTargetCount(): number {
    this.sweep();
    return this.refs.size;
  }

  private remember(target: object, record: Replaced): void {
    const list = this.records.get(target);
    if (list) {
      list.push(record);
      return;
    }
    this.records.set(target, [record]);
    const ref = new WeakRef(target);
    this.refs.add(ref);
    this.finalizer ??= new FinalizationRegistry((dead) => this.refs.delete(dead));
    this.finalizer.register(target, ref, ref);
    // Finalization callbacks are not guaranteed to run; the sweep bounds the list regardless.
    if (this.refs.size >= this.sweepAt) {
      this.sweep();
      this.sweepAt = Math.max(FIRST_SWEEP_AT, this.refs.size * 2);
    }
  }

  private sweep(): void {
    for (const ref of this.refs) if (ref.deref() === undefined) this.refs.delete(ref);
  }
}

function restore(target: Record<string, unknown>, list: readonly Replaced[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const r = list[i] as Replaced;
    try {
      if (target[r.key] !== r.wrapper) continue;
      if (r.ownDescriptor) Object.defineProperty(target, r.key, r.ownDescriptor);
      else delete target[r.key];
    } catch {
      /* the target changed under us (frozen since, a throwing getter): leave it */
    }
  }
}
