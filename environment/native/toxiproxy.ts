import { join } from 'node:path';
import { waitFor } from '@eda-harness/core';
import { ManagedProcess } from '../managed-process';
import { ToxiproxyClient } from '../toxiproxy-client';

/** Starts toxiproxy-server on 127.0.0.1:`apiPort` and waits for its API. */
export async function startNativeToxiproxy(opts: { binary: string; runDir: string; apiPort: number }): Promise<{
  client: ToxiproxyClient;
  process: ManagedProcess;
}> {
  const proc = new ManagedProcess({
    name: 'toxiproxy',
    command: opts.binary,
    args: ['-host', '127.0.0.1', '-port', String(opts.apiPort)],
    env: { ...process.env, LOG_LEVEL: 'warn' },
    logFile: join(opts.runDir, 'toxiproxy.log'),
  });
  proc.start();
  const client = new ToxiproxyClient(`http://127.0.0.1:${opts.apiPort}`);
  await waitFor(async () => (await client.version()).length > 0, {
    description: `Toxiproxy's API on 127.0.0.1:${opts.apiPort} (log: ${proc.spec.logFile})`,
    timeoutMs: 30_000,
    intervalMs: 100,
    abortIf: () => proc.assertRunning(),
  });
  return { client, process: proc };
}
