import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, requestText, type ProgressSink } from '@eda-harness/core';
import { prometheusConfig } from '../prometheus-config';
import type { PrometheusRuntime } from '../provision';
import type { PrometheusOptions, StartedPrometheus } from '../types';
import { httpServes, nativeNodeHandle, untilServing, type OwnProcesses } from './native-node';

/**
 * Debian's Prometheus with a per-run config, TSDB and port; `reload()` uses the lifecycle API. Its
 * process is handed to `ownProcesses` before it is spawned.
 */
export async function startNativePrometheus(opts: {
  runtime: PrometheusRuntime;
  runDir: string;
  port: number;
  options: PrometheusOptions;
  progress: ProgressSink;
  ownProcesses: OwnProcesses;
}): Promise<StartedPrometheus> {
  const dir = join(opts.runDir, 'prometheus');
  ensureDir(join(dir, 'data'), { what: "Prometheus's data folder" });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(opts.options));
  const url = `http://127.0.0.1:${opts.port}`;
  const node = nativeNodeHandle(
    'prometheus',
    () => ({
      name: 'prometheus',
      command: opts.runtime.prometheus,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${opts.port}`,
        '--web.enable-lifecycle',
        '--storage.tsdb.retention.time=1d',
      ],
      logFile: join(dir, 'prometheus.log'),
      cwd: dir,
    }),
    async (proc) => {
      await untilServing(proc, () => httpServes(`${url}/-/ready`), `Prometheus at ${url} to be ready`, 60_000, 200);
    },
    10_000,
  );
  opts.progress(`starting Prometheus on ${url}`);
  opts.ownProcesses(() => [node.process()]);
  await node.start();
  return {
    provider: 'native',
    url,
    node,
    configFile,
    async reload() {
      await requestText(`${url}/-/reload`, { method: 'POST', timeoutMs: 10_000 });
    },
  };
}
