import { spawn } from 'node:child_process';
import { isAlive, waitGoneSync } from '../../../environment/managed-process';

describe('waitGoneSync (the exit hook waits for what it killed)', () => {
  it('returns true once a killed process is gone, and false at the deadline while one lives', () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid as number;
    try {
      const t0 = Date.now();
      expect(waitGoneSync([pid], 150)).toBe(false);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      process.kill(pid, 'SIGKILL');
      // Synchronously, with no event loop turn: our own killed child is a zombie, which counts as gone.
      expect(waitGoneSync([pid], 5_000)).toBe(true);
      expect(isAlive(pid)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
