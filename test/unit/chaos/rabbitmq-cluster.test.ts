import { ConfigError } from '../../../core/errors';
import { Fault, Workload, scenarioByName } from '../../../chaos/index';
import { rotateUrl } from '../../../chaos/workloads/rabbitmq-workload';

describe('rotateUrl', () => {
  const urls = ['amqp://n1', 'amqp://n2', 'amqp://n3'];

  it('tries the next node each attempt, round the list', () => {
    expect([0, 1, 2, 3, 4].map((a) => rotateUrl(urls, 0, a).index)).toEqual([0, 1, 2, 0, 1]);
    expect(rotateUrl(urls, 2, 1)).toEqual({ url: 'amqp://n1', index: 0 });
  });

  it('stays on the only URL of one node', () => {
    expect([0, 1, 7].map((a) => rotateUrl(['amqp://only'], 0, a).url)).toEqual(['amqp://only', 'amqp://only', 'amqp://only']);
  });

  it('refuses an empty list', () => {
    expect(() => rotateUrl([], 0, 0)).toThrow(ConfigError);
  });
});

describe('RabbitMQ cluster workload and faults', () => {
  it('asks for three nodes and a quorum queue on a cluster, and leaves the default workload on one classic queue', () => {
    const cluster = Workload.rabbitmq({ cluster: true });
    expect(cluster.needs).toEqual({ rabbitmq: true, rabbitmqNodes: 3 });
    expect(cluster.description).toContain('quorum queue on a three-node cluster');
    const single = Workload.rabbitmq();
    expect(single.needs).toEqual({ rabbitmq: true });
    expect(single.description).toContain('to a durable queue,');
  });

  it('refuses a non-durable quorum queue', () => {
    expect(() => Workload.rabbitmq({ queueType: 'quorum', durable: false })).toThrow(/always durable/);
  });

  it('names the faults and what they need', () => {
    const kill = Fault.rabbitmqClusterNodeKill();
    expect(kill.name).toBe('rabbitmq-cluster-node-kill');
    expect(kill.needs).toEqual({ rabbitmq: true, rabbitmqNodes: 3 });
    expect(kill.description).toContain("quorum queue's leader");
    expect(Fault.rabbitmqClusterPartition({ node: 2 }).description).toContain('node 2 of a three-node RabbitMQ cluster cut off');
    expect(() => Fault.rabbitmqClusterNodeKill({ node: 0 })).toThrow(ConfigError);
  });

  it('catalogues both scenarios on the cluster workload, without Toxiproxy', () => {
    for (const name of ['rabbitmq-cluster-node-kill', 'rabbitmq-cluster-partition']) {
      const s = scenarioByName(name);
      expect(s.system).toBe('rabbitmq');
      expect(s.needs()).toMatchObject({ rabbitmq: true, toxiproxy: false });
      expect(s.summary()).toContain('three-node cluster');
    }
  });
});
