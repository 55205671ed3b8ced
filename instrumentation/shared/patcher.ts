/**
 * Instance-level method replacement that can be undone exactly.
 *
 * Each wrapper is marked with the original it replaced, so wrapping an already wrapped method is
 * a no-op (idempotence), and `restoreAll()` puts back precisely what was there, including the
 * absence of an own property when the method came from the prototype.
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

function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && ORIGINAL in fn;
}

export class Patcher {
  private readonly replaced = new Map<WeakRef<object>, Replaced[]>();
  private readonly targets = new WeakSet<object>();

  /** Replaces `target[key]` with `makeWrapper(original)` unless it is already one of ours. */
  wrap<T extends object>(target: T, key: string, makeWrapper: (original: AnyFunction) => AnyFunction): void {
    const current = (target as Record<string, unknown>)[key];
    if (typeof current !== 'function' || isWrapped(current)) return;
    const original = current as AnyFunction;
    const wrapper = makeWrapper(original);
    Object.defineProperty(wrapper, ORIGINAL, { value: original });
    const ownDescriptor = Object.getOwnPropertyDescriptor(target, key);
    Object.defineProperty(target, key, { value: wrapper, writable: true, configurable: true, enumerable: ownDescriptor?.enumerable ?? false });
    const record: Replaced = { key, original, ownDescriptor, wrapper };
    if (!this.targets.has(target)) {
      this.targets.add(target);
      this.replaced.set(new WeakRef(target), [record]);
    } else {
      for (const [ref, list] of this.replaced) if (ref.deref() === target) list.push(record);
    }
  }

  /** Puts back every original this patcher replaced (skipping methods someone replaced since). */
  restoreAll(): void {
    for (const [ref, list] of this.replaced) {
      const target = ref.deref() as Record<string, unknown> | undefined;
      if (!target) continue;
      for (const r of list.reverse()) {
        if (target[r.key] !== r.wrapper) continue;
        if (r.ownDescriptor) Object.defineProperty(target, r.key, r.ownDescriptor);
        else delete target[r.key];
      }
    }
    this.replaced.clear();
  }
}
