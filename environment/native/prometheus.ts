import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@eda-harness/core';
import type { ProgressSink } from '@eda-harness/core';
import type { ManagedProcess } from '../managed-process';
import type { PrometheusRuntime } from '../provision';
import type { PrometheusOptions, StartedPrometheus } from '../types';
import { nativeNodeHandle } from './native-node';

export function prometheusConfig(options: PrometheusOptions): string {
  const scrape = options.scrapeIntervalSeconds ?? 5;
  const evaluation = options.evaluationIntervalSeconds ?? scrape;
  const targets = options.scrapeTargets ?? [];
  const jobs: [string, readonly string[]][] = Array.isArray(targets)
    ? [['eda', targets as readonly string[]]]
    : Object.entries(targets as Readonly<Record<string, readonly string[]>>);
  const lines = [
    'global:',
    `  scrape_interval: ${scrape}s`,
    `  evaluation_interval: ${evaluation}s`,
  ];
  if (options.ruleFiles && options.ruleFiles.length > 0) {
    lines.push('rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`));
  }
  lines.push('scrape_configs:');
  for (const [job, list] of jobs) {
    lines.push(`  - job_name: ${JSON.stringify(job)}`, '    static_configs:', `      - targets: [${list.map((t) => JSON.stringify(t)).join(', ')}]`);
  }
  if (jobs.length === 0) lines.push('  []');
  return `${lines.join('\n')}\n`;
}

export interface NativePrometheus extends StartedPrometheus {
  readonly processes: () => ManagedProcess[];
}

/** Debian's Prometheus with a per-run config, TSDB and port; `reload()` uses the lifecycle API. */
export async function startNativePrometheus(opts: {
  runtime: PrometheusRuntime;
  runDir: string;
  port: number;
  options: PrometheusOptions;
  progress: ProgressSink;
}): Promise<NativePrometheus> {
  const dir = join(opts.runDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
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
      await waitFor(async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok, {
        description: `Prometheus at ${url} to be ready (log: ${proc.spec.logFile})`,
        timeoutMs: 60_000,
        intervalMs: 200,
        abortIf: () => proc.assertRunning(),
      });
    },
    10_000,
  );
  opts.progress(`starting Prometheus on ${url}`);
  await node.start();
  return {
    provider: 'native',
    url,
    node,
    configFile,
    async reload() {
      const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`Prometheus reload failed: ${res.status} ${await res.text()}`);
    },
    processes: () => [node.process()],
  };
}
