import { errorMessage } from '@eda-harness/core';
import { invariantFromSpec } from '../invariants';
import type { InvariantCheck, InvariantResult, Observations } from '../types';
import type { History } from './format';
import { observationsOf } from './observations';
import { readHistoryFile } from './reader';

/** The verdicts of a history's invariants. */
export interface HistoryVerdicts {
  readonly observations: Observations;
  readonly invariants: readonly InvariantResult[];
}

/**
 * The one way a verdict is reached: the observations rebuilt from the history, each check run on
 * them (a check that throws is a failed verdict saying so). `ChaosScenario.run` calls this on the
 * history it has just recorded, `chaos check` on a saved one: they agree by construction.
 */
export function judgeHistory(history: History, checks: readonly InvariantCheck[]): HistoryVerdicts {
  const observations = observationsOf(history);
  const invariants = checks.map((c): InvariantResult => {
    try {
      return c.check(observations);
    } catch (err) {
      return { name: c.name, passed: false, summary: `the check itself failed: ${errorMessage(err)}`, figures: {}, examples: [] };
    }
  });
  return { observations, invariants };
}

export interface NotRecheckable {
  readonly name: string;
  readonly reason: string;
  /** What the run said, when the history recorded it. */
  readonly runPassed: boolean | undefined;
}

/** `chaos check`'s answer for one history. */
export interface HistoryCheck {
  readonly scenario: string;
  readonly source: string;
  /** Every re-checkable invariant passed and the run ran to the end. */
  readonly passed: boolean;
  readonly invariants: readonly InvariantResult[];
  readonly notRecheckable: readonly NotRecheckable[];
  /** Invariants whose verdict now differs from the one the run recorded (an edited history). */
  readonly changed: readonly { readonly name: string; readonly runPassed: boolean; readonly nowPassed: boolean }[];
  /** Why the run did not reach its end, as recorded (or that no end was recorded). */
  readonly error: string | undefined;
  readonly observations: Observations;
}

/** Re-runs a history's invariants, rebuilt from the specs its header saved. */
export function checkHistory(history: History, source = history.header.scenario): HistoryCheck {
  const checks: InvariantCheck[] = [];
  const notRecheckable: NotRecheckable[] = [];
  const end = history.records.find((r) => r.type === 'scenario-end');
  const saved = history.records.find((r) => r.type === 'verdicts');
  const recorded = new Map<string, boolean>();
  if (saved?.type === 'verdicts' && Array.isArray(saved.verdicts)) for (const v of saved.verdicts) if (typeof v?.name === 'string' && typeof v.passed === 'boolean') recorded.set(v.name, v.passed);
  for (const inv of history.header.config.invariants) {
    const built = inv.spec ? invariantFromSpec(inv.spec) : 'a custom invariant: the history holds its name, not its code';
    if (typeof built === 'string') notRecheckable.push({ name: inv.name, reason: built, runPassed: recorded.get(inv.name) });
    else checks.push(built);
  }
  const { observations, invariants } = judgeHistory(history, checks);
  const changed = invariants.flatMap((i) => {
    const runPassed = recorded.get(i.name);
    return runPassed === undefined || runPassed === i.passed ? [] : [{ name: i.name, runPassed, nowPassed: i.passed }];
  });
  const error = end?.type !== 'scenario-end' ? 'the history has no scenario-end record: the run stopped before its end' : end.error;
  return { scenario: history.header.scenario, source, passed: error === undefined && invariants.every((i) => i.passed), invariants, notRecheckable, changed, error, observations };
}

/** Reads a history file and re-checks it (a bad file is a ConfigError naming the line). */
export function checkHistoryFile(path: string): HistoryCheck {
  return checkHistory(readHistoryFile(path), path);
}
