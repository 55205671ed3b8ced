import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessError, ensureDir, type ProgressSink } from '@eda-harness/core';
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
  /** How long to wait for the query API (default 60 s). */
  readyTimeoutMs?: number;
}): Promise<StartedJaeger> {
  const dir = ensureDir(join(opts.runDir, 'jaeger'), { what: "Jaeger's run folder" });
  const configFile = join(dir, 'jaeger.yaml');
  writeFileSync(configFile, jaegerConfig(opts.ports, opts.options));
  const queryUrl = `http://127.0.0.1:${opts.ports.queryHttp}`;
  const node = nativeNodeHandle(
    'jaeger',
    () => ({ name: 'jaeger', command: opts.binary, args: ['--config', configFile], logFile: join(dir, 'jaeger.log'), cwd: dir }),
    async (proc) => {
      await untilServing(proc, () => httpServes(`${queryUrl}/api/services`), `Jaeger's query API at ${queryUrl}`, opts.readyTimeoutMs ?? JAEGER_READY_TIMEOUT_MS, 100);
    },
    5_000,
  );
  opts.progress(`starting Jaeger on ${queryUrl} (OTLP/HTTP 127.0.0.1:${opts.ports.otlpHttp}, OTLP/gRPC 127.0.0.1:${opts.ports.otlpGrpc})`);
  opts.ownProcesses(() => [node.process()]);
  try {
    await node.start();
  } catch (err) {
    throw explained(err);
  }
  return {
    provider: 'native',
    version: opts.version,
    queryUrl,
    otlpHttpUrl: `http://127.0.0.1:${opts.ports.otlpHttp}`,
    otlpGrpcAddress: `127.0.0.1:${opts.ports.otlpGrpc}`,
    node,
  };
}

/**
 * Why Jaeger exited at start, from its log (pure): the last `Error: …` line it printed (with the
 * lines that continue it, e.g. a config error's detail), of its last start only; undefined when it
 * printed none.
 */
export function jaegerExitReason(log: string): string | undefined {
  const lastStart = log.lastIndexOf('\n--- ');
  const lines = log.slice(lastStart < 0 ? 0 : lastStart + 1).split('\n');
  const at = lines.map((l) => l.startsWith('Error: ')).lastIndexOf(true);
  if (at < 0) return undefined;
  const reason: string[] = [];
  for (const line of lines.slice(at)) {
    // Its own log lines (2026/12/03 08:44:53 …, 2026-12-03T08:44:53.154Z …) end the message.
    if (reason.length > 0 && /^\d{4}[-/]\d\d[-/]\d\d/.test(line)) break;
    if (line.trim() !== '') reason.push(line.trim());
  }
  return reason.join(' ').replace(/^Error: /, '').slice(0, 600);
}

/** A failed start's ProcessError with Jaeger's own reason (from its log) in the message. */
function explained(err: unknown): unknown {
  if (!(err instanceof ProcessError) || err.logFile === undefined) return err;
  let reason: string | undefined;
  try {
    reason = jaegerExitReason(readFileSync(err.logFile, 'utf8'));
  } catch {
    return err;
  }
  if (reason === undefined) return err;
  const portTaken = /address already in use/.test(reason);
  return new ProcessError(`Jaeger did not start: ${reason} (${err.message})`, {
    logFile: err.logFile,
    cause: err,
    hint: portTaken
      ? 'Another program took one of the ports allocated for this run meanwhile: start again (each run allocates new ports).'
      : `Read ${err.logFile}; EDA_HARNESS_JAEGER_BIN / EDA_HARNESS_JAEGER_VERSION choose another Jaeger, JAEGER_QUERY_URL with OTEL_EXPORTER_OTLP_ENDPOINT an existing one.`,
  });
}
