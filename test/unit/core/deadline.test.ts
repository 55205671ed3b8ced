import { setTimeout as delay } from 'node:timers/promises';
import { TimeoutError, ToxiproxyError } from '../../../core/errors';
import { withDeadline } from '../../../core/deadline';

describe('withDeadline', () => {
  it('returns the work when it settles first', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, 'the work')).resolves.toBe(7);
  });

  it('passes the work\u2019s own error through unchanged', async () => {
    const err = new Error('boom');
    await expect(withDeadline(Promise.reject(err), 1000, 'the work')).rejects.toBe(err);
  });

  it('rejects with a TimeoutError naming the work when the deadline comes first', async () => {
    const err = await withDeadline(delay(500), 20, 'collection').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('collection took longer than 20 ms');
  });

  it('rejects with the caller\u2019s own error when given a factory', async () => {
    const err = await withDeadline(delay(500), 20, () => new ToxiproxyError('slow')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToxiproxyError);
  });
});
