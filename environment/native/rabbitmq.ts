import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, type ProgressSink } from '@eda-harness/core';
import { ManagedProcess } from '../managed-process';
import type { RabbitMqRuntime } from '../provision';
import type { NodeHandle, ProxyFaults, StartedRabbitMq } from '../types';
import { httpServes, nativeNodeHandle, untilServing, type OwnProcesses } from './native-node';

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
async function amqpAnswers(url: string): Promise<boolean> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(url, { timeout: 2000 });
  await conn.close().catch(() => undefined);
  return true;
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
}): Promise<StartedRabbitMq> {
  const dir = join(opts.runDir, 'rabbitmq');
  const home = join(dir, 'home');
  for (const d of [home, join(dir, 'mnesia'), join(dir, 'log')]) ensureDir(d, { what: "RabbitMQ's data folders" });
  const { ports } = opts;
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management,rabbitmq_prometheus].\n');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${ports.amqp}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${ports.management}`,
      `prometheus.tcp.ip = 127.0.0.1`,
      `prometheus.tcp.port = ${ports.prometheus}`,
      // guest may log in from 127.0.0.1 only by default; Toxiproxy's connections come from there too.
      'loopback_users = none',
      // Tests fill queues on a small disk budget; don't block publishers at 50 MB free.
      'disk_free_limit.absolute = 10MB',
      '',
    ].join('\n'),
  );
  const nodeName = `eda-${ports.amqp}@localhost`;
  const env: NodeJS.ProcessEnv = {
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

  const epmd = new ManagedProcess({
    name: 'epmd',
    command: opts.runtime.epmd,
    args: ['-port', String(ports.epmd), '-address', '127.0.0.1'],
    logFile: join(dir, 'epmd.log'),
  });

  const amqpDirect = `amqp://guest:guest@127.0.0.1:${ports.amqp}`;
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${ports.advertised}`;
  const managementUrl = `http://127.0.0.1:${ports.management}`;
  const logFile = join(dir, 'rabbitmq.log');

  const node = nativeNodeHandle(
    'rabbitmq',
    () => ({ name: 'rabbitmq', command: opts.runtime.server, args: [], env, logFile, cwd: dir, terminateLeaderOnly: true }),
    async (proc) => {
      await untilServing(proc, () => amqpAnswers(amqpDirect), `RabbitMQ to accept AMQP on 127.0.0.1:${ports.amqp}`, 90_000);
      const authorization = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
      await untilServing(proc, () => httpServes(`${managementUrl}/api/overview`, { authorization }), `RabbitMQ's management API at ${managementUrl}`, 60_000);
    },
    20_000,
  );

  opts.ownProcesses(() => [node.process(), epmd]);
  epmd.start();
  opts.progress(`starting RabbitMQ node ${nodeName}`);
  await node.start();

  const handle: NodeHandle = node;
  return {
    provider: 'native',
    amqpUrl,
    managementUrl,
    metricsUrl: `http://127.0.0.1:${ports.prometheus}/metrics`,
    node: handle,
    proxy: opts.proxy,
  };
}
