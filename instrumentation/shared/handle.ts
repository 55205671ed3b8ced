import type { InstrumentationHandle } from '../types';

type Marked = Record<symbol, InstrumentationHandle | undefined>;

/**
 * The handle of an explicit wrapper call, kept on `target` under `mark` so that instrumenting
 * twice returns the first handle (a no-op) and un-instrumenting needs only the target. `create`
 * instruments and returns what undoes it; the mark goes when that has run.
 */
export function markedHandle(target: object, mark: symbol, create: () => () => void): InstrumentationHandle {
  const existing = (target as Marked)[mark];
  if (existing) return existing;
  const undo = create();
  const handle: InstrumentationHandle = {
    uninstrument() {
      undo();
      delete (target as Marked)[mark];
    },
  };
  Object.defineProperty(target, mark, { value: handle, configurable: true, enumerable: false, writable: true });
  return handle;
}

/** Undoes {@link markedHandle} for `target`, if it is instrumented. */
export function unmark(target: object, mark: symbol): void {
  (target as Marked)[mark]?.uninstrument();
}
