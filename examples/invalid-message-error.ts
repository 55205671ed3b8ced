/**
 * A message the service can never handle, however often it is retried (bad JSON, a missing or
 * mistyped field). Services route these aside (dead letter, skip) instead of retrying them.
 */
export class InvalidMessageError extends Error {
  /** JSONPath-like location of the offending field, `$` for the whole body. */
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`invalid message: ${field} ${problem}`);
    this.name = 'InvalidMessageError';
    this.field = field;
  }
}
