import { ConfigError } from '../../../core/errors';
import { PARTITION_COOKIE, checkRabbitMqNodes, clusterConfigLines, healExpression, parseNodesView, partitionExpression } from '../../../environment/native/rabbitmq-cluster';
import { rabbitConfig } from '../../../environment/native/rabbitmq';

const ports = { amqp: 41001, dist: 41002, management: 41003, prometheus: 41004, epmd: 41005, advertised: 41006 };

describe('RabbitMQ cluster configuration', () => {
  it('makes node 1 form the cluster and the others discover it, all under pause_minority', () => {
    expect(clusterConfigLines(0, 'eda-1@localhost')).toEqual(['cluster_partition_handling = pause_minority']);
    expect(clusterConfigLines(2, 'eda-1@localhost')).toEqual([
      'cluster_partition_handling = pause_minority',
      'cluster_formation.peer_discovery_backend = classic_config',
      'cluster_formation.classic_config.nodes.1 = eda-1@localhost',
    ]);
  });

  it('appends the cluster lines to the single node configuration, which stays as it was without them', () => {
    const single = rabbitConfig(ports, {}, undefined);
    expect(single).not.toContain('cluster');
    const clustered = rabbitConfig(ports, {}, undefined, clusterConfigLines(1, 'eda-1@localhost'));
    expect(clustered.startsWith(single.trimEnd())).toBe(true);
    expect(clustered).toContain('cluster_formation.classic_config.nodes.1 = eda-1@localhost\n');
  });

  it('accepts 1, 3 or 5 nodes and refuses the rest with a hint', () => {
    expect(checkRabbitMqNodes(undefined)).toBe(1);
    expect(checkRabbitMqNodes(3)).toBe(3);
    for (const bad of [0, 2, 4, 3.5, '3', 7]) {
      expect(() => checkRabbitMqNodes(bad)).toThrow(ConfigError);
      expect(() => checkRabbitMqNodes(bad)).toThrow(/must be 1, 3 or 5/);
    }
  });
});

describe('partition expressions', () => {
  it('gives the node a wrong cookie for each other node and disconnects it', () => {
    expect(partitionExpression(['a@localhost', 'b@localhost'])).toBe(
      `[begin erlang:set_cookie(N, '${PARTITION_COOKIE}'), erlang:disconnect_node(N) end || N <- ['a@localhost', 'b@localhost']].`,
    );
  });

  it('heals with the node own cookie and a connection to each', () => {
    expect(healExpression(['a@localhost'])).toBe("C = erlang:get_cookie(), [begin erlang:set_cookie(N, C), net_kernel:connect_node(N) end || N <- ['a@localhost']].");
  });

  it('quotes atoms so a name cannot break out of the expression', () => {
    expect(partitionExpression(["x'y@h"])).toContain("'x\\'y@h'");
  });
});

describe('parseNodesView', () => {
  it('lists members, running nodes and reported partitions', () => {
    const view = parseNodesView([
      { name: 'a@h', running: true, partitions: [] },
      { name: 'b@h', running: true, partitions: ['c@h'] },
      { name: 'c@h', running: false },
    ]);
    expect(view).toEqual({ members: ['a@h', 'b@h', 'c@h'], running: ['a@h', 'b@h'], partitions: ['c@h'] });
  });

  it('refuses a body that is not a list', () => {
    expect(() => parseNodesView({ error: 'x' })).toThrow(/expected a JSON array/);
  });
});
