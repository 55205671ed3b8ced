import { ConfigError, errorMessage } from '@eda-harness/core';
import type { RabbitMqNodeHandle, StartedEnvironment } from '@eda-harness/environment';
import type { ChaosFault, FaultContext } from './types';

/**
 * Faults on one node of a three-node RabbitMQ cluster (`withRabbitMq({ nodes: 3 })`): a crash
 * (SIGKILL, started again at healing) or a partition at the Erlang distribution level (the node
 * loses its links to the other nodes while its AMQP port stays reachable; under pause_minority it
 * then pauses itself). By default the node hosting the leader of the workload's quorum queue is
 * chosen when the fault is injected, so that the fault bites: the leader must move and the clients
 * on that node must reconnect elsewhere.
 */

/** Which cluster node a fault hits: a node number from 1, or the quorum queue leader's node when injected. */
export type RabbitNodeChoice = number | 'leader';

function clusterOf(env: StartedEnvironment): { nodes: readonly RabbitMqNodeHandle[]; leaderOf: (queue: string) => Promise<RabbitMqNodeHandle> } {
  const r = env.rabbitmq;
  if (!r?.nodes || r.nodes.length < 3 || !r.leaderOf) {
    throw new ConfigError('this fault acts on a node of a RabbitMQ cluster, but the environment has no RabbitMQ cluster', { hint: 'start the environment with withRabbitMq({ nodes: 3 }) (native provider)' });
  }
  const leaderOf = r.leaderOf.bind(r);
  return { nodes: r.nodes, leaderOf: (queue) => leaderOf(queue) };
}

async function pickNode(ctx: FaultContext, choice: RabbitNodeChoice): Promise<RabbitMqNodeHandle> {
  const cluster = clusterOf(ctx.env);
  if (choice === 'leader') return cluster.leaderOf(ctx.destination);
  const node = cluster.nodes[choice - 1];
  if (!node) throw new ConfigError(`RabbitMQ node ${choice} does not exist (the cluster has ${cluster.nodes.length})`);
  return node;
}

/** "node 2 (eda-4123@localhost)". */
const label = (nodes: readonly RabbitMqNodeHandle[], n: RabbitMqNodeHandle): string => `node ${nodes.indexOf(n) + 1} (${n.nodeName})`;

/** Where the leader is after the fault, for the progress lines: evidence that the fault bit. */
async function leaderNow(ctx: FaultContext): Promise<string> {
  try {
    const cluster = clusterOf(ctx.env);
    return label(cluster.nodes, await cluster.leaderOf(ctx.destination));
  } catch (err) {
    return `unknown (${errorMessage(err)})`;
  }
}

export type RabbitClusterAction = 'kill' | 'partition';

export function rabbitClusterNodeFault(action: RabbitClusterAction, choice: RabbitNodeChoice = 'leader'): ChaosFault {
  if (choice !== 'leader' && (!Number.isInteger(choice) || choice < 1)) throw new ConfigError(`a RabbitMQ cluster node is 'leader' or a node number from 1, got ${String(choice)}`);
  const which = choice === 'leader' ? "the node hosting the quorum queue's leader" : `node ${choice}`;
  const name = action === 'kill' ? 'rabbitmq-cluster-node-kill' : 'rabbitmq-cluster-partition';
  const description =
    action === 'kill'
      ? `${which} of a three-node RabbitMQ cluster killed with SIGKILL, then started again`
      : `${which} of a three-node RabbitMQ cluster cut off from the other nodes at the Erlang distribution level (wrong cookie, links dropped; its AMQP port stays reachable, pause_minority pauses it), then reconnected`;
  let target: RabbitMqNodeHandle | undefined;
  return {
    name,
    description,
    system: 'rabbitmq',
    needs: { rabbitmq: true, rabbitmqNodes: 3 },
    async inject(ctx) {
      const nodes = clusterOf(ctx.env).nodes;
      target = await pickNode(ctx, choice);
      ctx.progress(`fault ${name}: leader of ${ctx.destination} on ${label(nodes, target)}`);
      if (action === 'kill') {
        await target.kill();
        ctx.progress(`fault ${name}: ${label(nodes, target)} killed (SIGKILL)`);
      } else {
        await target.partition();
        ctx.progress(`fault ${name}: ${label(nodes, target)} partitioned; the other nodes see it down`);
      }
    },
    async heal(ctx) {
      if (!target) return;
      const nodes = clusterOf(ctx.env).nodes;
      ctx.progress(`fault ${name}: leader of ${ctx.destination} now on ${await leaderNow(ctx)}`);
      if (action === 'kill') {
        ctx.progress(`fault ${name}: ${label(nodes, target)} starting again`);
        await target.start();
      } else {
        ctx.progress(`fault ${name}: ${label(nodes, target)} reconnecting`);
        await target.healPartition();
      }
      ctx.progress(`fault ${name}: ${label(nodes, target)} back in the cluster`);
    },
  };
}
