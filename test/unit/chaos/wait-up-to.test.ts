import { waitUpTo } from '../../../chaos/wait-up-to';

describe('waitUpTo', () => {
  it('returns as soon as the condition holds, checking it every interval', async () => {
    let checks = 0;
    const started = Date.now();
    await waitUpTo(() => ++checks === 3, { description: 'three checks', timeoutMs: 5000, intervalMs: 20 });
    expect(checks).toBe(3);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up quietly once the time is up: what did not happen is for the invariants to judge', async () => {
    const started = Date.now();
    await expect(waitUpTo(() => false, { description: 'never', timeoutMs: 100, intervalMs: 20 })).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('checks once even with no time at all', async () => {
    let checks = 0;
    await waitUpTo(() => (checks++, false), { description: 'no time', timeoutMs: 0, intervalMs: 20 });
    expect(checks).toBe(1);
  });
});
