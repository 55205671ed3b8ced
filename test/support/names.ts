import { randomBytes } from 'node:crypto';

/** A fresh name per test for topics, queues and groups, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
