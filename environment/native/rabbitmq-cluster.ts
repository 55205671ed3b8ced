import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, ProcessError, ensureDir, errorMessage, requestJson, waitFor, type ProgressSink } from '@eda-harness/core';
import { ManagedProcess } from '../managed-process';
import type { RabbitMqRuntime } from '../provision';
import type { ProxyFaults, RabbitMqClusterStatus, RabbitMqNodeHandle, RabbitMqOptions, StartedRabbitMq } from '../types';
import { httpServes, nativeNodeHandle, untilServing, type OwnProcesses } from './native-node';
import { amqpAnswers, rabbitConfig, rabbitNodeEnv, rabbitNodeName, type NativeRabbitPorts } from './rabbitmq';

/**
 * A RabbitMQ cluster of native nodes on one host: own node names and ports per node, one Erlang
 * cookie (one HOME), one epmd (node 1's port), data and logs under `<runDir>/rabbitmq-cluster`.
 * Node 1 starts alone; the others start with classic-config peer discovery naming node 1, so a
 * blank node joins it on its first boot (and a restarted node rejoins from its own data).
 *
 * `cluster_partition_handling = pause_minority`: the usual production choice for three nodes. A node
 * that finds itself in the minority stops serving (closes its listeners) until it sees a majority
 * again, so clients move to the majority and no two halves accept conflicting writes; it heals on
 * its own once the network does. `autoheal` would keep the minority serving and restart the loser
 * afterwards (classic queues may lose writes), `ignore` would need a manual restart.
 */

/** The cluster sizes accepted: odd, so that a majority exists and pause_minority can decide. */
export const RABBITMQ_CLUSTER_SIZES: readonly number[] = [1, 3, 5];

/** Checks `withRabbitMq({ nodes })`; returns the node count (default 1). */
export function checkRabbitMqNodes(nodes: unknown, what = 'withRabbitMq: nodes'): number {
  if (nodes === undefined) return 1;
  if (typeof nodes !== 'number' || !RABBITMQ_CLUSTER_SIZES.includes(nodes)) {
    throw new ConfigError(`${what} must be 1, 3 or 5 (got ${String(nodes)})`, {
      hint: 'a cluster needs an odd number of nodes so that a majority exists under pause_minority; use 3 for a cluster',
    });
  }
  return nodes;
}

/** The rabbitmq.conf lines that make node `index` (from 0) a member of the cluster seeded by `seedNode`. */
export function clusterConfigLines(index: number, seedNode: string): string[] {
  const lines = ['cluster_partition_handling = pause_minority'];
  // Node 1 forms the cluster alone; the others discover it (classic config) and join it at first boot.
  if (index > 0) lines.push('cluster_formation.peer_discovery_backend = classic_config', `cluster_formation.classic_config.nodes.1 = ${seedNode}`);
  return lines;
}

/** An Erlang atom literal. */
function atom(name: string): string {
  return `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The cookie a partitioned node holds for the others: it cannot authenticate, either way. */
export const PARTITION_COOKIE = 'eda-harness-partitioned';

/**
 * The Erlang expression (for `rabbitmqctl eval` on the node to cut off) that gives it a wrong cookie
 * for each of `others` and drops its connections to them: every reconnection, from either side,
 * then fails the distribution handshake.
 */
export function partitionExpression(others: readonly string[]): string {
  return `[begin erlang:set_cookie(N, ${atom(PARTITION_COOKIE)}), erlang:disconnect_node(N) end || N <- [${others.map(atom).join(', ')}]].`;
}

/** The expression that undoes {@link partitionExpression}: the node's own cookie again, then a connection to each. */
export function healExpression(others: readonly string[]): string {
  return `C = erlang:get_cookie(), [begin erlang:set_cookie(N, C), net_kernel:connect_node(N) end || N <- [${others.map(atom).join(', ')}]].`;
}

/** What one node's `GET /api/nodes` says: the members it sees running and the partitions it reports. */
export function parseNodesView(body: unknown): { running: string[]; members: string[]; partitions: string[] } {
  if (!Array.isArray(body)) throw new Error(`GET /api/nodes: expected a JSON array, got ${typeof body}`);
  const running: string[] = [];
  const members: string[] = [];
  const partitions = new Set<string>();
  for (const n of body as { name?: unknown; running?: unknown; partitions?: unknown }[]) {
    if (typeof n.name !== 'string') continue;
    members.push(n.name);
    if (n.running === true) running.push(n.name);
    if (Array.isArray(n.partitions)) for (const p of n.partitions) if (typeof p === 'string') partitions.add(p);
  }
  return { running, members, partitions: [...partitions] };
}

const AUTH = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };

/** Runs `rabbitmqctl` against one node with that node's variables (cookie, epmd port). */
function rabbitmqctl(ctl: string, env: NodeJS.ProcessEnv, nodeName: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ctl, ['-n', nodeName, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`rabbitmqctl -n ${nodeName} ${args[0] ?? ''} failed: ${(stderr || stdout || errorMessage(err)).trim().slice(0, 400)}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

export interface NativeRabbitClusterNode {
  readonly ports: NativeRabbitPorts;
  readonly proxy: ProxyFaults | undefined;
}

export async function startNativeRabbitMqCluster(opts: {
  runtime: RabbitMqRuntime;
  runDir: string;
  nodes: readonly NativeRabbitClusterNode[];
  progress: ProgressSink;
  ownProcesses: OwnProcesses;
  options?: RabbitMqOptions;
}): Promise<StartedRabbitMq> {
  const options = opts.options ?? {};
  if (options.managementTls) throw new ConfigError('withRabbitMq({ nodes, managementTls }): the management API over TLS is only made for a single node', { hint: 'drop managementTls, or use one node' });
  const ctl = join(dirname(opts.runtime.server), 'rabbitmqctl');
  if (!existsSync(ctl)) throw new ConfigError(`a RabbitMQ cluster needs rabbitmqctl beside rabbitmq-server, but ${ctl} does not exist`, { hint: 'reinstall the rabbitmq-server package' });
  const base = join(opts.runDir, 'rabbitmq-cluster');
  const home = ensureDir(join(base, 'home'), { what: "the RabbitMQ cluster's home (Erlang cookie)" });
  // One cookie for every node and for rabbitmqctl: Erlang reads it from $HOME/.erlang.cookie (mode 400).
  writeFileSync(join(home, '.erlang.cookie'), randomBytes(24).toString('hex'), { mode: 0o400 });
  const first = opts.nodes[0];
  if (!first) throw new ConfigError('internal: a RabbitMQ cluster without nodes');
  const epmdPort = first.ports.epmd;
  const names = opts.nodes.map((n) => rabbitNodeName(n.ports));
  const seed = names[0] as string;

  const epmd = new ManagedProcess({ name: 'epmd', command: opts.runtime.epmd, args: ['-port', String(epmdPort), '-address', '127.0.0.1'], logFile: join(base, 'epmd.log') });

  const managementUrls = opts.nodes.map((n) => `http://127.0.0.1:${n.ports.management}`);
  /** GET /api/nodes on node `i`. */
  const viewOf = async (i: number) => parseNodesView(await requestJson(`${managementUrls[i]}/api/nodes`, { headers: AUTH, timeoutMs: 3000 }));
  /**
   * {@link viewOf} for a wait: any failure means "not yet". Around a partition a node may pause
   * (pause_minority) and restart its management listener: for a while it refuses connections or
   * answers 404, which requestJson reports as final; while polling it is only a node not back yet.
   */
  const pollViewOf = (i: number) =>
    viewOf(i).catch((err: unknown) => {
      throw new Error(`node ${i + 1}: ${errorMessage(err)}`, { cause: err });
    });

  const members = opts.nodes.map((n, i) => {
    const dir = join(base, `node-${i + 1}`);
    for (const d of [dir, join(dir, 'mnesia'), join(dir, 'log')]) ensureDir(d, { what: "a RabbitMQ node's data folders" });
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management,rabbitmq_prometheus].\n');
    writeFileSync(join(dir, 'rabbitmq.conf'), rabbitConfig(n.ports, options, undefined, clusterConfigLines(i, seed)));
    // Every node on node 1's epmd, so that they find each other.
    const env = rabbitNodeEnv({ dir, home, nodeName: names[i] as string, ports: { ...n.ports, epmd: epmdPort } });
    const logFile = join(dir, 'rabbitmq.log');
    const name = `rabbitmq-${i + 1}`;
    const handle = nativeNodeHandle(
      name,
      () => ({ name, command: opts.runtime.server, args: [], env, logFile, cwd: dir, terminateLeaderOnly: true }),
      async (proc) => {
        await untilServing(proc, () => amqpAnswers(`amqp://guest:guest@127.0.0.1:${n.ports.amqp}`), `RabbitMQ node ${i + 1} to accept AMQP on 127.0.0.1:${n.ports.amqp}`, 90_000);
        await untilServing(proc, () => httpServes(`${managementUrls[i]}/api/overview`, AUTH), `RabbitMQ node ${i + 1}'s management API at ${managementUrls[i]}`, 60_000);
      },
      20_000,
    );
    return { index: i, dir, env, logFile, handle, nodeName: names[i] as string };
  });

  /** Resolves once every node in `which` (indexes) sees exactly all nodes running. */
  const untilAllRunning = (which: readonly number[], what: string, timeoutMs: number): Promise<true> =>
    waitFor(
      async () => {
        for (const i of which) {
          const view = await pollViewOf(i);
          if (names.some((nm) => !view.running.includes(nm))) throw new Error(`node ${i + 1} sees ${view.running.length} of ${names.length} nodes running (${view.running.join(', ') || 'none'})`);
        }
        return true as const;
      },
      { description: what, timeoutMs, intervalMs: 250 },
    );

  const others = (i: number): string[] => names.filter((_, j) => j !== i);

  const nodes: RabbitMqNodeHandle[] = members.map((m) => {
    const n = opts.nodes[m.index] as NativeRabbitClusterNode;
    const eval_ = async (expression: string): Promise<string> => rabbitmqctl(ctl, m.env, m.nodeName, ['eval', expression]);
    return {
      get name() {
        return m.handle.name;
      },
      get pid() {
        return m.handle.pid;
      },
      get running() {
        return m.handle.running;
      },
      nodeName: m.nodeName,
      amqpUrl: `amqp://guest:guest@127.0.0.1:${n.proxy ? n.proxy.port : n.ports.amqp}`,
      managementUrl: managementUrls[m.index] as string,
      proxy: n.proxy,
      stop: () => m.handle.stop(),
      start: () => m.handle.start(),
      kill: () => m.handle.kill(),
      pause: () => m.handle.pause(),
      resume: () => m.handle.resume(),
      restart: () => m.handle.restart(),
      async partition() {
        await eval_(partitionExpression(others(m.index)));
        const rest = members.filter((o) => o !== m).map((o) => o.index);
        await waitFor(
          async () => {
            for (const i of rest) {
              const view = await pollViewOf(i);
              if (view.running.includes(m.nodeName)) throw new Error(`node ${i + 1} still sees ${m.nodeName} running`);
            }
            return true as const;
          },
          // Up to 60 s: the majority's nodes can pause for a moment too while the partition settles.
          { description: `the other nodes to see ${m.nodeName} down after its partition`, timeoutMs: 60_000, intervalMs: 250 },
        );
      },
      async healPartition() {
        await waitFor(
          async () => {
            const out = await eval_(healExpression(others(m.index)));
            // net_kernel:connect_node answers false while a connection cannot be made yet.
            if (out.includes('false')) throw new Error(`${m.nodeName} could not reconnect yet: ${out.trim()}`);
            return true as const;
          },
          { description: `${m.nodeName} to reconnect to the other nodes`, timeoutMs: 30_000, intervalMs: 500 },
        );
        await untilAllRunning(
          members.map((o) => o.index),
          `every RabbitMQ node to see the ${names.length} nodes running after healing ${m.nodeName}'s partition`,
          90_000,
        );
      },
    };
  });

  opts.ownProcesses(() => [...members.map((m) => m.handle.process()), epmd]);
  epmd.start();
  const [head, ...rest] = members;
  if (!head) throw new ConfigError('internal: a RabbitMQ cluster without nodes');
  opts.progress(`starting RabbitMQ cluster node 1 of ${members.length} (${head.nodeName})`);
  await head.handle.start();
  opts.progress(`starting RabbitMQ cluster nodes ${rest.map((m) => m.index + 1).join(', ')} (joining ${head.nodeName})`);
  await Promise.all(
    rest.map(async (m) => {
      await m.handle.start();
      // Peer discovery runs during boot: a node that serves without node 1 among its members did not join.
      const view = await viewOf(m.index);
      if (!view.members.includes(head.nodeName)) {
        throw new ProcessError(`RabbitMQ node ${m.index + 1} (${m.nodeName}) started but did not join the cluster of ${head.nodeName}: it sees only ${view.members.join(', ')}`, { logFile: m.logFile });
      }
    }),
  );
  await untilAllRunning(
    members.map((m) => m.index),
    `every RabbitMQ node to see the ${members.length} nodes running (logs: ${members.map((m) => m.logFile).join(', ')})`,
    60_000,
  );
  opts.progress(`RabbitMQ cluster of ${members.length} running: ${names.join(', ')}`);

  const firstNode = nodes[0] as RabbitMqNodeHandle;
  /** The first node whose management API answers `path`. */
  const fromAnyNode = async <T>(path: string): Promise<T> => {
    const errors: string[] = [];
    for (const url of managementUrls) {
      try {
        return await requestJson<T>(`${url}${path}`, { headers: AUTH, timeoutMs: 3000 });
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    throw new Error(`no RabbitMQ node answered GET ${path}: ${errors.join('; ')}`);
  };

  return {
    provider: 'native',
    amqpUrl: firstNode.amqpUrl,
    managementUrl: firstNode.managementUrl,
    managementCaFile: undefined,
    metricsUrl: `http://127.0.0.1:${first.ports.prometheus}/metrics`,
    node: firstNode,
    proxy: first.proxy,
    options,
    nodes,
    amqpUrls: nodes.map((n) => n.amqpUrl),
    async leaderOf(queue: string, vhost = '/') {
      const q = await fromAnyNode<{ leader?: unknown; type?: unknown }>(`/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`);
      const leader = nodes.find((n) => n.nodeName === q.leader);
      if (!leader) throw new Error(`queue ${queue} has no leader among the cluster's nodes (type ${String(q.type)}, leader ${String(q.leader)}): is it a quorum queue?`);
      return leader;
    },
    async clusterStatus(): Promise<RabbitMqClusterStatus> {
      const views: { node: string; running: string[]; partitions: string[] }[] = [];
      const unreachable: string[] = [];
      for (const m of members) {
        try {
          const v = await viewOf(m.index);
          views.push({ node: m.nodeName, running: v.running, partitions: v.partitions });
        } catch {
          unreachable.push(m.nodeName);
        }
      }
      return { views, unreachable };
    },
  };
}
