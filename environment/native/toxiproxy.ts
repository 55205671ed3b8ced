import { join } from 'node:path';
import { ManagedProcess } from '../managed-process';
import { untilServing, type OwnProcesses } from './native-node';
import { ToxiproxyClient } from './toxiproxy-client';

/** Starts toxiproxy-server on 127.0.0.1:`apiPort` (handed to `ownProcesses` before it is spawned) and waits for its API. */
export async function startNativeToxiproxy(opts: { binary: string; runDir: string; apiPort: number; ownProcesses: OwnProcesses }): Promise<ToxiproxyClient> {
  const proc = new ManagedProcess({
    name: 'toxiproxy',
    command: opts.binary,
    args: ['-host', '127.0.0.1', '-port', String(opts.apiPort)],
    env: { ...process.env, LOG_LEVEL: 'warn' },
    logFile: join(opts.runDir, 'toxiproxy.log'),
  });
  opts.ownProcesses(() => [proc]);
  proc.start();
  const client = new ToxiproxyClient(`http://127.0.0.1:${opts.apiPort}`);
  await untilServing(proc, async () => (await client.version()).length > 0, `Toxiproxy's API on 127.0.0.1:${opts.apiPort}`, 30_000, 100);
  return client;
}
