import { waitFor } from '../../../core/wait-for';
import { ConfigError, EdaHarnessError, NotReadyError, TimeoutError, ProcessError } from '../../../core/errors';

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : undefined), { description: 'n', intervalMs: 1 })).resolves.toBe(3);
  });

  it('treats a throwing probe as not yet and keeps the last error as the cause on timeout', async () => {
    const err = await waitFor(() => {
      throw new Error('broker says no');
    }, { description: 'the broker', timeoutMs: 50, intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/the broker.*broker says no/);
    expect(((err as TimeoutError).cause as Error).message).toBe('broker says no');
    expect((err as TimeoutError).retriable).toBe(true);
  });

  it('stops at once and rethrows a non-retriable EdaHarnessError from the probe, as it is', async () => {
    const final = new ConfigError('topic orders has no partition 7');
    let attempts = 0;
    const started = Date.now();
    const err = await waitFor(() => {
      attempts++;
      throw final;
    }, { description: 'the leader', timeoutMs: 10_000, intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBe(final);
    expect(attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('keeps polling through retriable EdaHarnessErrors, and names the last one on timeout', async () => {
    let attempts = 0;
    const err = await waitFor(() => {
      attempts++;
      throw new NotReadyError('GET /-/ready answered HTTP 503');
    }, { description: 'Prometheus', timeoutMs: 60, intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/Prometheus.*answered HTTP 503/);
    expect((err as TimeoutError).cause).toBeInstanceOf(NotReadyError);
    expect(attempts).toBeGreaterThan(1);
    let n = 0;
    await expect(waitFor(() => {
      if (++n < 3) throw new NotReadyError('not yet');
      return 'serving';
    }, { description: 'a service', intervalMs: 1 })).resolves.toBe('serving');
  });

  it('stops at once when abortIf throws (a process died during start-up)', async () => {
    const started = Date.now();
    const err = await waitFor(() => false, {
      description: 'never',
      timeoutMs: 10_000,
      abortIf: () => {
        throw new ProcessError('kafka-1 exited', { logFile: '/x.log' });
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessError);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('errors', () => {
  it('carry a code, retriable, cause and hint under one root class', () => {
    const cause = new Error('low level');
    const e = new ProcessError('it broke', { cause, hint: 'read the log', logFile: '/l' });
    expect(e).toBeInstanceOf(EdaHarnessError);
    expect(e.code).toBe('PROCESS_FAILED');
    expect(e.retriable).toBe(false);
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('ProcessError');
    expect(e.describe()).toBe('it broke\n  → read the log');
  });
});
