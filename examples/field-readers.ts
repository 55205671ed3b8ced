import { InvalidMessageError } from './invalid-message-error';

// Field readers for hand-written message validation: each names the path of what is wrong, so a
// consumer's error (and its contract test's failure) says which field a producer broke.

export function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidMessageError(path, value === undefined ? 'is missing' : 'is not an object');
  return value as Record<string, unknown>;
}

export function string(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidMessageError(path, value === undefined ? 'is missing' : 'is not a non-empty string');
  return value;
}

export function integer(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new InvalidMessageError(path, value === undefined ? 'is missing' : 'is not an integer');
  return value;
}

export function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidMessageError(path, value === undefined ? 'is missing' : 'is not a non-empty array');
  return value;
}
