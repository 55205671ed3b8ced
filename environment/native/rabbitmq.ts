import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { NotReadyError, ensureDir, errorMessage, type ProgressSink } from '@eda-harness/core';
import { ManagedProcess } from '../managed-process';
import type { RabbitMqRuntime } from '../provision';
import type { NodeHandle, ProxyFaults, RabbitMqOptions, StartedRabbitMq } from '../types';
import { httpServes, nativeNodeHandle, untilServing, type OwnProcesses } from './native-node';
import { makeRabbitTlsFiles, managementListenerConfig, type RabbitTlsFiles } from './rabbitmq-tls';

export interface NativeRabbitPorts {
  readonly amqp: number;
  readonly dist: number;
  readonly management: number;
  readonly prometheus: number;
  readonly epmd: number;
  /** What clients are given (the proxy's port when Toxiproxy is on, else `amqp`). */
  readonly advertised: number;
}

/** One AMQP connection attempt; resolves true when the broker completes the handshake. */
export async function amqpAnswers(url: string): Promise<boolean> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(url, { timeout: 2000 });
  await conn.close().catch(() => undefined);
  return true;
}

/** Readiness over https trusting `caFile` (fetch takes no CA): any 2xx; anything else is "not yet". */
function httpsServes(url: string, caFile: string, headers: Readonly<Record<string, string>>): Promise<true> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(caFile), headers: { ...headers }, signal: AbortSignal.timeout(2000) }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(true);
        else reject(new NotReadyError(`GET ${url} answered HTTP ${status}`));
      });
    });
    req.on('error', (err) => reject(new NotReadyError(`GET ${url}: ${errorMessage(err)}`, { cause: err })));
    req.end();
  });
}

/** rabbitmq.conf for `options`; `extra` lines (a cluster's settings) come last. */
export function rabbitConfig(ports: NativeRabbitPorts, options: RabbitMqOptions, tls: RabbitTlsFiles | undefined, extra: readonly string[] = []): string {
  return [
    `listeners.tcp.default = 127.0.0.1:${ports.amqp}`,
    ...managementListenerConfig(ports.management, tls),
    `prometheus.tcp.ip = 127.0.0.1`,
    `prometheus.tcp.port = ${ports.prometheus}`,
    // guest may log in from 127.0.0.1 only by default; Toxiproxy's connections come from there too.
    'loopback_users = none',
    // Tests fill queues on a small disk budget; don't block publishers at 50 MB free.
    'disk_free_limit.absolute = 10MB',
    // Statistics off, as large deployments run it: queues come without counts from the management API.
    ...(options.statistics === false ? ['management_agent.disable_metrics_collector = true'] : []),
    ...extra,
    '',
  ].join('\n');
}

/** The Erlang node name of the node listening on `ports.amqp`. */
export function rabbitNodeName(ports: NativeRabbitPorts): string {
  return `eda-${ports.amqp}@localhost`;
}

/**
 * The variables that make rabbitmq-server (and rabbitmqctl) our own node: node name, ports, epmd,
 * config files and data dirs under `dir`, the Erlang cookie in `home`.
 */
export function rabbitNodeEnv(o: { dir: string; home: string; nodeName: string; ports: NativeRabbitPorts }): NodeJS.ProcessEnv {
  const { dir, home, nodeName, ports } = o;
  return {
    ...process.env,
    HOME: home,
    ERL_EPMD_PORT: String(ports.epmd),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_LOGS: '-',
  };
}

/**
 * Debian's rabbitmq-server started as our own node: its own node name, ports, Erlang cookie
 * (HOME), data and log dirs, and its own epmd on a per-run port, so it never collides with a
 * system RabbitMQ and leaves no daemon behind (epmd otherwise daemonises and outlives us). Both
 * processes are handed to `ownProcesses` before either is spawned.
 */
export async function startNativeRabbitMq(opts: {
  runtime: RabbitMqRuntime;
  runDir: string;
  ports: NativeRabbitPorts;
  proxy: ProxyFaults | undefined;
  progress: ProgressSink;
  ownProcesses: OwnProcesses;
  /** Management over TLS, statistics off (see {@link RabbitMqOptions}); default: neither. */
  options?: RabbitMqOptions;
}): Promise<StartedRabbitMq> {
  const dir = join(opts.runDir, 'rabbitmq');
  const home = join(dir, 'home');
  for (const d of [home, join(dir, 'mnesia'), join(dir, 'log')]) ensureDir(d, { what: "RabbitMQ's data folders" });
  const { ports } = opts;
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management,rabbitmq_prometheus].\n');
  let options: RabbitMqOptions = opts.options ?? {};
  /** Made once, on the first start that wants them; a restart with TLS again reuses them. */
  let tlsFiles: RabbitTlsFiles | undefined;
  const configure = async (next: RabbitMqOptions): Promise<RabbitTlsFiles | undefined> => {
    if (next.managementTls && !tlsFiles) tlsFiles = await makeRabbitTlsFiles(opts.runDir);
    const tls = next.managementTls ? tlsFiles : undefined;
    writeFileSync(join(dir, 'rabbitmq.conf'), rabbitConfig(ports, next, tls));
    options = next;
    return tls;
  };
  let tls = await configure(options);
  const nodeName = rabbitNodeName(ports);
  const env = rabbitNodeEnv({ dir, home, nodeName, ports });

  const epmd = new ManagedProcess({
    name: 'epmd',
    command: opts.runtime.epmd,
    args: ['-port', String(ports.epmd), '-address', '127.0.0.1'],
    logFile: join(dir, 'epmd.log'),
  });

  const amqpDirect = `amqp://guest:guest@127.0.0.1:${ports.amqp}`;
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${ports.advertised}`;
  const managementUrlOf = (secure: boolean): string => `${secure ? 'https' : 'http'}://127.0.0.1:${ports.management}`;
  const logFile = join(dir, 'rabbitmq.log');

  const node = nativeNodeHandle(
    'rabbitmq',
    () => ({ name: 'rabbitmq', command: opts.runtime.server, args: [], env, logFile, cwd: dir, terminateLeaderOnly: true }),
    async (proc) => {
      await untilServing(proc, () => amqpAnswers(amqpDirect), `RabbitMQ to accept AMQP on 127.0.0.1:${ports.amqp}`, 90_000);
      const authorization = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
      const url = managementUrlOf(tls !== undefined);
      const caFile = tls?.caFile;
      const probe = caFile === undefined ? () => httpServes(`${url}/api/overview`, { authorization }) : () => httpsServes(`${url}/api/overview`, caFile, { authorization });
      await untilServing(proc, probe, `RabbitMQ's management API at ${url}`, 60_000);
    },
    20_000,
  );

  opts.ownProcesses(() => [node.process(), epmd]);
  epmd.start();
  opts.progress(`starting RabbitMQ node ${nodeName}`);
  await node.start();

  const handle: NodeHandle = node;
  // One object, its addresses read live: after restartWith, env.rabbitmq and the environment's
  // getters give the new management URL too.
  const started: StartedRabbitMq = {
    provider: 'native',
    amqpUrl,
    get managementUrl() {
      return managementUrlOf(tls !== undefined);
    },
    get managementCaFile() {
      return tls?.caFile;
    },
    metricsUrl: `http://127.0.0.1:${ports.prometheus}/metrics`,
    node: handle,
    proxy: opts.proxy,
    get options() {
      return options;
    },
    async restartWith(next: RabbitMqOptions) {
      await node.stop();
      tls = await configure(next);
      opts.progress(`restarting RabbitMQ node ${nodeName} (management ${tls ? 'over TLS' : 'over http'}, statistics ${next.statistics === false ? 'off' : 'on'})`);
      await node.start();
      return started;
    },
  };
  return started;
}
