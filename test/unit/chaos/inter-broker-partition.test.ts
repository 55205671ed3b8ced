import { scenarioByName } from '../../../chaos/catalog';
import { Fault } from '../../../chaos/faults';
import type { FaultContext } from '../../../chaos/types';
import { ConfigError } from '../../../core/errors';
import type { ProxyFaults, StartedEnvironment } from '../../../environment/types';

/**
 * Fault.interBrokerPartition over plain objects: which node's replication proxy it cuts (the
 * leader of the workload's partition 0 at injection, or a node named), that client proxies are
 * left alone, what healing restores, what it needs from the environment, and its errors.
 */
type Call = [proxy: string, method: string];

function fakeProxy(name: string, calls: Call[]): ProxyFaults {
  const rec = (method: string) => async (): Promise<void> => void calls.push([name, method]);
  return { name, host: '127.0.0.1', port: 1, upstream: 'x', latency: rec('latency'), bandwidth: rec('bandwidth'), timeout: rec('timeout'), resetPeer: rec('resetPeer'), down: rec('down'), up: rec('up'), clear: rec('clear') };
}

function context(options: { leader?: number; replicationProxies?: boolean } = {}) {
  const calls: Call[] = [];
  const asked: [string, number][] = [];
  const nodes = [1, 2, 3].map((nodeId) => ({
    nodeId,
    name: `kafka-${nodeId}`,
    proxy: fakeProxy(`kafka-${nodeId}`, calls),
    ...(options.replicationProxies === false ? {} : { replicationProxy: fakeProxy(`kafka-${nodeId}-replication`, calls) }),
  }));
  const kafka = {
    nodes,
    node: (id: number) => nodes.find((n) => n.nodeId === id)!,
    leaderOf: async (topic: string, partition: number) => {
      asked.push([topic, partition]);
      return nodes.find((n) => n.nodeId === (options.leader ?? 2))!;
    },
  };
  const env = { kafka } as unknown as StartedEnvironment;
  const progress: string[] = [];
  const ctx: FaultContext = { env, destination: 'orders', progress: (m: string) => void progress.push(m), sendPoison: () => Promise.reject(new Error('not used')) };
  return { ctx, calls, asked, progress };
}

describe('Fault.interBrokerPartition', () => {
  it("cuts the replication proxy of partition 0's leader at injection, nothing else, and healing clears it", async () => {
    const { ctx, calls, asked, progress } = context({ leader: 2 });
    const f = Fault.interBrokerPartition();
    expect({ name: f.name, system: f.system, needs: f.needs }).toEqual({ name: 'inter-broker-partition', system: 'kafka', needs: { kafkaNodes: 3, toxiproxy: true, kafkaReplicaLagTimeMaxMs: 3000 } });
    expect(f.description).toContain("replication from the leader of the workload's partition 0 cut");
    expect(f.description).toContain('KRaft controller quorum stay connected');
    await f.inject(ctx);
    expect(asked).toEqual([['orders', 0]]);
    expect(calls).toEqual([['kafka-2-replication', 'down']]);
    await f.heal(ctx);
    expect(calls).toEqual([
      ['kafka-2-replication', 'down'],
      ['kafka-2-replication', 'clear'],
    ]);
    expect(progress).toEqual([
      "fault inter-broker-partition: kafka-2's replication proxy down (followers of its partitions stop fetching)",
      "fault inter-broker-partition: kafka-2's replication proxy up again",
    ]);
  });

  it('cuts a named node and passes a chosen replica lag time to the environment', async () => {
    const { ctx, calls, asked } = context();
    const f = Fault.interBrokerPartition({ node: 3, replicaLagTimeMaxMs: 5000 });
    expect(f.needs.kafkaReplicaLagTimeMaxMs).toBe(5000);
    expect(f.description).toContain('replication from Kafka node 3 cut');
    await f.inject(ctx);
    expect(asked).toEqual([]);
    expect(calls).toEqual([['kafka-3-replication', 'down']]);
  });

  it('says what is missing when the nodes have no replication proxy, and heals nothing then', async () => {
    const { ctx, calls } = context({ replicationProxies: false });
    const f = Fault.interBrokerPartition();
    await expect(f.inject(ctx)).rejects.toThrow(ConfigError);
    await expect(f.inject(ctx)).rejects.toThrow("the inter-broker partition needs a Toxiproxy proxy in front of kafka-2's replication (INTERNAL) listener, and it has none");
    await f.heal(ctx);
    expect(calls).toEqual([]);
  });

  it.each([0, 999, 2.5, Number.NaN])('refuses replicaLagTimeMaxMs %p', (ms) => {
    expect(() => Fault.interBrokerPartition({ replicaLagTimeMaxMs: ms })).toThrow(`Fault.interBrokerPartition needs replicaLagTimeMaxMs, a whole number of milliseconds ≥ 1000, got ${ms}`);
  });

  it('refuses a node id that is not a positive whole number', () => {
    expect(() => Fault.interBrokerPartition({ node: 0 })).toThrow("Fault.interBrokerPartition needs node 'leader' or a node id ≥ 1, got 0");
  });

  it('is the catalogue scenario kafka-inter-broker-partition: three nodes, Toxiproxy, a 10 s cut', () => {
    const s = scenarioByName('kafka-inter-broker-partition');
    expect(s.needs()).toMatchObject({ kafkaNodes: 3, toxiproxy: true });
    expect(s.summary()).toContain('inter-broker');
  });
});
