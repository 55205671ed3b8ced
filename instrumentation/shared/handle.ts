import type { InstrumentationHandle } from '../types';

type Marked = Record<symbol, InstrumentationHandle | undefined>;

/** Handles of targets that cannot carry the mark (frozen, sealed, a Proxy refusing it); dies with the target. */
const unmarkable = new WeakMap<object, Map<symbol, InstrumentationHandle>>();

function handleOf(target: object, mark: symbol): InstrumentationHandle | undefined {
  return (target as Marked)[mark] ?? unmarkable.get(target)?.get(mark);
}

/**
 * The handle of an explicit wrapper call, kept on `target` under `mark` so that instrumenting
 * twice returns the first handle (a no-op) and un-instrumenting needs only the target. `create`
 * instruments and returns what undoes it; the mark goes when that has run.
 */
export function markedHandle(target: object, mark: symbol, create: () => () => void): InstrumentationHandle {
  const existing = handleOf(target, mark);
  if (existing) return existing;
  const undo = create();
  const handle: InstrumentationHandle = {
    uninstrument() {
      undo();
      Reflect.deleteProperty(target, mark);
      unmarkable.get(target)?.delete(mark);
    },
  };
  if (!Reflect.defineProperty(target, mark, { value: handle, configurable: true, enumerable: false, writable: true })) {
    let handles = unmarkable.get(target);
    if (!handles) unmarkable.set(target, (handles = new Map()));
    handles.set(mark, handle);
  }
  return handle;
}

/** Undoes {@link markedHandle} for `target`, if it is instrumented. */
export function unmark(target: object, mark: symbol): void {
  handleOf(target, mark)?.uninstrument();
}
