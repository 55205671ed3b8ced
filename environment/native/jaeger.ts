import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, type ProgressSink } from '@eda-harness/core';
import { jaegerConfig, type JaegerPorts } from '../jaeger-config';
import type { JaegerOptions, StartedJaeger } from '../types';
import { httpServes, nativeNodeHandle, untilServing, type OwnProcesses } from './native-node';

/** How long Jaeger may take to answer its query API (a warm start takes about a second). */
const JAEGER_READY_TIMEOUT_MS = 60_000;

/**
 * Jaeger v2 (a module build: the query API, no web UI) with memory storage and a config written
 * for this run (see jaegerConfig: every endpoint on 127.0.0.1, every port allocated). Ready once
 * its query API answers `/api/services`. Its process is handed to `ownProcesses` before it is
 * spawned; a Jaeger that exits at start (a bad config, a port taken) ends the wait with its log.
 */
export async function startNativeJaeger(opts: {
  binary: string;
  version: string | undefined;
  runDir: string;
  ports: JaegerPorts;
  options: JaegerOptions;
  progress: ProgressSink;
  ownProcesses: OwnProcesses;
}): Promise<StartedJaeger> {
  const dir = ensureDir(join(opts.runDir, 'jaeger'), { what: "Jaeger's run folder" });
  const configFile = join(dir, 'jaeger.yaml');
  writeFileSync(configFile, jaegerConfig(opts.ports, opts.options));
  const queryUrl = `http://127.0.0.1:${opts.ports.queryHttp}`;
  const node = nativeNodeHandle(
    'jaeger',
    () => ({ name: 'jaeger', command: opts.binary, args: ['--config', configFile], logFile: join(dir, 'jaeger.log'), cwd: dir }),
    async (proc) => {
      await untilServing(proc, () => httpServes(`${queryUrl}/api/services`), `Jaeger's query API at ${queryUrl}`, JAEGER_READY_TIMEOUT_MS, 100);
    },
    5_000,
  );
  opts.progress(`starting Jaeger on ${queryUrl} (OTLP/HTTP 127.0.0.1:${opts.ports.otlpHttp}, OTLP/gRPC 127.0.0.1:${opts.ports.otlpGrpc})`);
  opts.ownProcesses(() => [node.process()]);
  await node.start();
  return {
    provider: 'native',
    version: opts.version,
    queryUrl,
    otlpHttpUrl: `http://127.0.0.1:${opts.ports.otlpHttp}`,
    otlpGrpcAddress: `127.0.0.1:${opts.ports.otlpGrpc}`,
    node,
  };
}
