import type { InvariantCheck, InvariantResult, InvariantSpec, Observations } from './types';

/** Examples an invariant keeps (ids of lost, duplicated or reordered messages). */
export const MAX_EXAMPLES = 5;

/** What a check works out; `invariant` names it and caps the examples. */
export type Verdict = Omit<InvariantResult, 'name'>;

/**
 * An invariant called `name` whose verdict `judge` works out from the observations; `spec` (the
 * factory and its arguments) is saved in the history so `chaos check` can build it again.
 */
export function invariant(name: string, spec: InvariantSpec, judge: (o: Observations) => Verdict): InvariantCheck {
  return {
    name,
    spec,
    check(o) {
      const v = judge(o);
      return { name, passed: v.passed, summary: v.summary, figures: v.figures, examples: v.examples.slice(0, MAX_EXAMPLES) };
    },
  };
}
