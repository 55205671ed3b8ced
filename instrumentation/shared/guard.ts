import { diag } from './otel-api';
import type { InstrumentationLogger } from '../types';

/**
 * Runs telemetry code so that it can never hurt the host: a failure is logged (once per hook
 * through the logger, always through OTel's diag), counted, and swallowed.
 */
export interface Guard {
  /** `fn()`'s result, or undefined if it threw. */
  run<T>(hook: string, fn: () => T): T | undefined;
  /** Reports a failure that was caught elsewhere. */
  report(hook: string, error: unknown): void;
}

const defaultLogger: InstrumentationLogger = {
  warn: (message, error) => console.warn(`[eda-harness] ${message}`, error ?? ''),
};

export function createGuard(logger: InstrumentationLogger | undefined, onError?: (hook: string) => void): Guard {
  const log = logger ?? defaultLogger;
  const warned = new Set<string>();
  const report = (hook: string, error: unknown): void => {
    try {
      diag.error(`eda-harness instrumentation: ${hook} failed`, error);
      // A custom logger sees every failure; the console only the first per hook (no log storms).
      if (logger || !warned.has(hook)) {
        warned.add(hook);
        log.warn(`instrumentation hook "${hook}" failed; telemetry for this call may be incomplete`, error);
      }
      onError?.(hook);
    } catch {
      /* the logger itself failed: nothing left to tell */
    }
  };
  return {
    report,
    run<T>(hook: string, fn: () => T): T | undefined {
      try {
        return fn();
      } catch (err) {
        report(hook, err);
        return undefined;
      }
    },
  };
}
