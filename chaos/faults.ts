import { ConfigError } from '@eda-harness/core';
import type { KafkaNodeHandle, NodeHandle, ProxyFaults, StartedEnvironment } from '@eda-harness/environment';
import { rabbitClusterNodeFault, type RabbitNodeChoice } from './rabbitmq-cluster-faults';
import type { ChaosFault, ChaosSystem, FaultContext } from './types';

/**
 * The faults a scenario can inject, behind one facade (`Fault.brokerKill()`,
 * `Fault.latency(300)`). Each is a small object with `inject` and `heal`; the environment layer
 * does the real work (signals to the broker's pid, Toxiproxy toxics), so a fault here is only the
 * choice of target and the pairing of "break" with "repair".
 */

/** Which Kafka node a node fault hits: a node id, or the leader of the workload's partition 0 when injected. */
export type KafkaNodeChoice = number | 'leader';

function kafkaOf(env: StartedEnvironment): NonNullable<StartedEnvironment['kafka']> {
  if (!env.kafka) throw new ConfigError('this fault acts on Kafka, but the environment has no Kafka', { hint: 'start the environment with withKafka()' });
  return env.kafka;
}

function rabbitOf(env: StartedEnvironment): NonNullable<StartedEnvironment['rabbitmq']> {
  if (!env.rabbitmq) throw new ConfigError('this fault acts on RabbitMQ, but the environment has no RabbitMQ', { hint: 'start the environment with withRabbitMq()' });
  return env.rabbitmq;
}

async function pickKafkaNode(ctx: FaultContext, choice: KafkaNodeChoice): Promise<KafkaNodeHandle> {
  const kafka = kafkaOf(ctx.env);
  if (choice === 'leader') return kafka.leaderOf(ctx.destination, 0);
  return kafka.node(choice);
}

type NodeAction = 'stop' | 'kill' | 'pause';
const UNDO: Record<NodeAction, 'start' | 'resume'> = { stop: 'start', kill: 'start', pause: 'resume' };
const VERB: Record<NodeAction, string> = { stop: 'stopped (SIGTERM)', kill: 'killed (SIGKILL)', pause: 'paused (SIGSTOP)' };

/** A fault on one Kafka node: the node is chosen at injection (the leader may have moved by then). */
function kafkaNodeFault(name: string, action: NodeAction, choice: KafkaNodeChoice, description: string, kafkaNodes: 1 | 3): ChaosFault {
  let target: KafkaNodeHandle | undefined;
  return {
    name,
    description,
    system: 'kafka',
    needs: { kafkaNodes },
    async inject(ctx) {
      target = await pickKafkaNode(ctx, choice);
      ctx.progress(`fault ${name}: ${target.name} ${VERB[action]}`);
      await target[action]();
    },
    async heal(ctx) {
      if (!target) return;
      ctx.progress(`fault ${name}: ${target.name} ${UNDO[action] === 'start' ? 'starting again' : 'resumed (SIGCONT)'}`);
      await target[UNDO[action]]();
    },
  };
}

function rabbitNodeFault(name: string, action: NodeAction, description: string): ChaosFault {
  let target: NodeHandle | undefined;
  return {
    name,
    description,
    system: 'rabbitmq',
    needs: { rabbitmq: true },
    async inject(ctx) {
      target = rabbitOf(ctx.env).node;
      ctx.progress(`fault ${name}: RabbitMQ ${VERB[action]}`);
      await target[action]();
    },
    async heal(ctx) {
      if (!target) return;
      ctx.progress(`fault ${name}: RabbitMQ ${UNDO[action] === 'start' ? 'starting again' : 'resumed (SIGCONT)'}`);
      await target[UNDO[action]]();
    },
  };
}

/** The proxies between the workload's clients and the system's brokers. */
function proxiesOf(env: StartedEnvironment, system: ChaosSystem): ProxyFaults[] {
  // Every node of a cluster: a network fault on RabbitMQ cuts the clients from each node.
  const rabbit = system === 'rabbitmq' ? rabbitOf(env) : undefined;
  const proxies = rabbit ? (rabbit.nodes?.map((n) => n.proxy) ?? [rabbit.proxy]) : kafkaOf(env).nodes.map((n) => n.proxy);
  const present = proxies.filter((p): p is ProxyFaults => p !== undefined);
  if (present.length === 0) throw new ConfigError(`network faults need Toxiproxy in front of ${system}`, { hint: 'start the environment with withToxiproxy()' });
  return present;
}

function networkFault(name: string, system: ChaosSystem, description: string, apply: (p: ProxyFaults) => Promise<void>): ChaosFault {
  return {
    name,
    description,
    system,
    needs: system === 'kafka' ? { kafkaNodes: 1, toxiproxy: true } : { rabbitmq: true, toxiproxy: true },
    async inject(ctx) {
      ctx.progress(`fault ${name}: ${description}`);
      await Promise.all(proxiesOf(ctx.env, system).map(apply));
    },
    async heal(ctx) {
      ctx.progress(`fault ${name}: network restored`);
      await Promise.all(proxiesOf(ctx.env, system).map((p) => p.clear()));
    },
  };
}

export interface SystemOption {
  /** Which broker the fault acts on (default kafka). */
  readonly system?: ChaosSystem;
}

export const Fault = {
  /** SIGTERM to a broker (an orderly shutdown), started again at healing. */
  brokerRestart(options: SystemOption & { node?: KafkaNodeChoice } = {}): ChaosFault {
    if (options.system === 'rabbitmq') return rabbitNodeFault('rabbitmq-restart', 'stop', 'RabbitMQ stopped with SIGTERM, then started again');
    return kafkaNodeFault('broker-restart', 'stop', options.node ?? 1, 'a Kafka broker stopped with SIGTERM, then started again', 1);
  },
  /** SIGKILL to a broker (a crash: nothing flushed, no leadership handed over), started again at healing. */
  brokerKill(options: SystemOption & { node?: KafkaNodeChoice } = {}): ChaosFault {
    if (options.system === 'rabbitmq') return rabbitNodeFault('rabbitmq-kill', 'kill', 'RabbitMQ killed with SIGKILL, then started again');
    return kafkaNodeFault('broker-kill', 'kill', options.node ?? 1, 'a Kafka broker killed with SIGKILL, then started again', 1);
  },
  /** SIGSTOP to a broker (a GC pause or a frozen VM: sockets stay open, nothing answers), SIGCONT at healing. */
  brokerPause(options: SystemOption & { node?: KafkaNodeChoice } = {}): ChaosFault {
    if (options.system === 'rabbitmq') return rabbitNodeFault('rabbitmq-pause', 'pause', 'RabbitMQ frozen with SIGSTOP, then resumed');
    return kafkaNodeFault('broker-pause', 'pause', options.node ?? 1, 'a Kafka broker frozen with SIGSTOP, then resumed', 1);
  },
  /** SIGKILL to the leader of the workload's partition 0 in a three-node cluster: a follower must take over. */
  leaderFailover(): ChaosFault {
    return kafkaNodeFault('leader-failover', 'kill', 'leader', 'the partition leader of a three-node cluster killed with SIGKILL, then started again', 3);
  },
  /** Latency on every client connection to the system's brokers (both directions). */
  latency(ms: number, options: SystemOption = {}): ChaosFault {
    if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError(`Fault.latency needs a positive number of milliseconds, got ${ms}`);
    const system = options.system ?? 'kafka';
    return networkFault(`${system}-latency-${ms}ms`, system, `${ms} ms latency each way between clients and ${system}`, (p) => p.latency(ms, { direction: 'both' }));
  },
  /**
   * Throughput between the clients and the system's brokers limited to `kbPerSecond` KB/s, each
   * way and per connection (Toxiproxy's `bandwidth` toxic): a congested or metered link. Requests
   * still get through, only slower; a limit below the workload's traffic builds a backlog.
   */
  bandwidth(kbPerSecond: number, options: SystemOption = {}): ChaosFault {
    if (!Number.isInteger(kbPerSecond) || kbPerSecond <= 0) throw new ConfigError(`Fault.bandwidth needs a positive whole number of KB per second, got ${kbPerSecond}`);
    const system = options.system ?? 'kafka';
    return networkFault(`${system}-bandwidth-${kbPerSecond}kbps`, system, `${kbPerSecond} KB/s each way per connection between clients and ${system}`, (p) => p.bandwidth(kbPerSecond, { direction: 'both' }));
  },
  /**
   * Connections between the clients and the system's brokers reset (TCP RST, Toxiproxy's
   * `reset_peer` toxic): while the fault holds, each connection is reset `afterMs` after data
   * first crosses it (default 0: at once), so clients see "connection reset by peer" rather than
   * a refused or silent connection, and must reconnect and retry.
   */
  resetPeer(options: SystemOption & { afterMs?: number } = {}): ChaosFault {
    const afterMs = options.afterMs ?? 0;
    if (!Number.isInteger(afterMs) || afterMs < 0) throw new ConfigError(`Fault.resetPeer needs afterMs, a whole number of milliseconds ≥ 0, got ${afterMs}`);
    const system = options.system ?? 'kafka';
    const when = afterMs === 0 ? 'as soon as data crosses them' : `${afterMs} ms after data first crosses them`;
    return networkFault(`${system}-reset-peer`, system, `connections between clients and ${system} reset (TCP RST) ${when}`, (p) => p.resetPeer(afterMs, { direction: 'both' }));
  },
  /** A network partition between the clients and the system's brokers: connections cut, new ones refused. */
  networkPartition(options: SystemOption = {}): ChaosFault {
    const system = options.system ?? 'kafka';
    return networkFault(`${system}-network-partition`, system, `clients cut off from ${system} (proxy down)`, (p) => p.down());
  },
  /**
   * An inter-broker partition: the replication traffic of one Kafka node cut (its replication
   * proxy, in front of its INTERNAL listener, down), while clients and the KRaft controller quorum
   * stay connected. A follower fetches from its leader's INTERNAL listener, so cutting the
   * leader's proxy stops every follower of the partitions it leads: after
   * `replica.lag.time.max.ms` (lowered to `replicaLagTimeMaxMs`, default 3 000 ms, for the
   * scenario's environment) the leader drops them from the ISR, which is then itself alone, below
   * min.insync.replicas 2, so acks -1 sends to those partitions fail (NOT_ENOUGH_REPLICAS) instead
   * of being acknowledged. The node keeps its leadership (its controller link is direct) and its own
   * fetches from other leaders. Transaction markers sent to it are cut too. Cutting a node that
   * leads nothing only stops fetches from it, which is why the default target is the leader of
   * the workload's partition 0 at injection. Healing re-enables the proxy: followers catch up and
   * rejoin the ISR. Needs the native provider with Toxiproxy (the replication proxies).
   */
  interBrokerPartition(options: { node?: KafkaNodeChoice; replicaLagTimeMaxMs?: number } = {}): ChaosFault {
    const choice = options.node ?? 'leader';
    const lagMs = options.replicaLagTimeMaxMs ?? 3000;
    if (!Number.isInteger(lagMs) || lagMs < 1000) throw new ConfigError(`Fault.interBrokerPartition needs replicaLagTimeMaxMs, a whole number of milliseconds ≥ 1000, got ${lagMs}`);
    if (choice !== 'leader' && (!Number.isInteger(choice) || choice < 1)) throw new ConfigError(`Fault.interBrokerPartition needs node 'leader' or a node id ≥ 1, got ${String(choice)}`);
    const which = choice === 'leader' ? "the leader of the workload's partition 0" : `Kafka node ${choice}`;
    const name = 'inter-broker-partition';
    let target: KafkaNodeHandle | undefined;
    return {
      name,
      description: `replication from ${which} cut (its inter-broker proxy down; clients and the KRaft controller quorum stay connected): its partitions' followers leave the ISR after ${lagMs} ms and acks -1 sends to them must fail, not be acknowledged and lost`,
      system: 'kafka',
      needs: { kafkaNodes: 3, toxiproxy: true, kafkaReplicaLagTimeMaxMs: lagMs },
      async inject(ctx) {
        const node = await pickKafkaNode(ctx, choice);
        if (!node.replicationProxy) {
          throw new ConfigError(`the inter-broker partition needs a Toxiproxy proxy in front of ${node.name}'s replication (INTERNAL) listener, and it has none`, {
            hint: 'run it on an environment the native provider started with withToxiproxy(): it puts a replication proxy in front of every Kafka node',
          });
        }
        target = node;
        ctx.progress(`fault ${name}: ${node.name}'s replication proxy down (followers of its partitions stop fetching)`);
        await node.replicationProxy.down();
      },
      async heal(ctx) {
        if (!target) return;
        ctx.progress(`fault ${name}: ${target.name}'s replication proxy up again`);
        await target.replicationProxy?.clear();
      },
    };
  },
  /**
   * SIGKILL to a node of a three-node RabbitMQ cluster (default: the node hosting the workload's
   * quorum queue leader, chosen at injection), started again at healing: the leader must move to a
   * surviving node and the clients on the killed node must reconnect to another.
   */
  rabbitmqClusterNodeKill(options: { node?: RabbitNodeChoice } = {}): ChaosFault {
    return rabbitClusterNodeFault('kill', options.node ?? 'leader');
  },
  /**
   * A node of a three-node RabbitMQ cluster (default: the quorum queue leader's) cut off from the
   * other nodes at the Erlang distribution level, its AMQP port still reachable; under
   * pause_minority it pauses itself, so its clients move. Reconnected at healing.
   */
  rabbitmqClusterPartition(options: { node?: RabbitNodeChoice } = {}): ChaosFault {
    return rabbitClusterNodeFault('partition', options.node ?? 'leader');
  },
  /** `count` malformed messages sent among the good ones: the consumer must dead-letter them and carry on. */
  poisonMessages(count: number, options: SystemOption = {}): ChaosFault {
    if (!Number.isInteger(count) || count <= 0) throw new ConfigError(`Fault.poisonMessages needs a positive whole count, got ${count}`);
    const system = options.system ?? 'kafka';
    return {
      name: `${system}-poison-messages`,
      description: `${count} malformed messages sent to the ${system === 'kafka' ? 'topic' : 'queue'}`,
      system,
      needs: system === 'kafka' ? { kafkaNodes: 1 } : { rabbitmq: true },
      async inject(ctx) {
        ctx.progress(`fault ${system}-poison-messages: sending ${count} malformed messages`);
        await ctx.sendPoison(count);
      },
      async heal() {
        // Nothing to repair: the messages are out; the consumer's handling is what is checked.
      },
    };
  },
} as const;
