import { newClusterId, serverProperties } from '../../../environment/native/kafka';
import { prometheusConfig } from '../../../environment/prometheus-config';
import { externalSettings } from '../../../environment/external/external';
import { Environment } from '../../../environment/index';
import { ConfigError } from '../../../core/errors';

function parse(props: string): Record<string, string> {
  return Object.fromEntries(props.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

describe('Kafka server.properties', () => {
  const ports = [
    { client: 1001, internal: 1002, controller: 1003, advertised: 2001 },
    { client: 1101, internal: 1102, controller: 1103, advertised: 2101 },
    { client: 1201, internal: 1202, controller: 1203, advertised: 2201 },
  ];
  const voters = ports.map((p, i) => ({ nodeId: i + 1, controller: p.controller }));

  it('advertises the proxy port to clients and keeps replication on the direct listener', () => {
    const p = parse(serverProperties({ nodeId: 2, ports: ports[1]!, voters, logDir: '/d', clusterSize: 3 }));
    expect(p['advertised.listeners']).toBe('CLIENT://127.0.0.1:2101,INTERNAL://127.0.0.1:1102');
    expect(p['listeners']).toBe('CLIENT://127.0.0.1:1101,INTERNAL://127.0.0.1:1102,CONTROLLER://127.0.0.1:1103');
    expect(p['inter.broker.listener.name']).toBe('INTERNAL');
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:1003,2@127.0.0.1:1103,3@127.0.0.1:1203');
    expect(p['node.id']).toBe('2');
  });

  it('uses replication factor 3 and min.insync.replicas 2 for a three-node cluster, 1/1 for one node', () => {
    const three = parse(serverProperties({ nodeId: 1, ports: ports[0]!, voters, logDir: '/d', clusterSize: 3 }));
    expect([three['default.replication.factor'], three['min.insync.replicas'], three['offsets.topic.replication.factor'], three['transaction.state.log.min.isr']]).toEqual(['3', '2', '3', '2']);
    const one = parse(serverProperties({ nodeId: 1, ports: ports[0]!, voters: voters.slice(0, 1), logDir: '/d', clusterSize: 1 }));
    expect([one['default.replication.factor'], one['min.insync.replicas'], one['offsets.topic.replication.factor']]).toEqual(['1', '1', '1']);
  });

  it('lets the caller override any property', () => {
    const p = parse(serverProperties({ nodeId: 1, ports: ports[0]!, voters, logDir: '/d', clusterSize: 1, extra: { 'num.partitions': 6 } }));
    expect(p['num.partitions']).toBe('6');
  });

  it('makes cluster ids Kafka accepts: 22 URL-safe base64 characters, never starting with "-"', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});

describe('Prometheus config', () => {
  it('writes jobs, rule files and intervals', () => {
    const yml = prometheusConfig({ scrapeTargets: { app: ['127.0.0.1:9464'] }, ruleFiles: ['/r/a.yml'], scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 2 });
    expect(yml).toContain('scrape_interval: 1s');
    expect(yml).toContain('evaluation_interval: 2s');
    expect(yml).toContain('- "/r/a.yml"');
    expect(yml).toContain('job_name: "app"');
    expect(yml).toContain('targets: ["127.0.0.1:9464"]');
  });
});

describe('external settings', () => {
  it('reads KAFKA_BROKERS as a trimmed list and ignores empty values', () => {
    expect(externalSettings({ KAFKA_BROKERS: ' a:1, b:2 ,', AMQP_URL: '' })).toEqual({
      kafkaBrokers: ['a:1', 'b:2'],
      amqpUrl: undefined,
      managementUrl: undefined,
      prometheusUrl: undefined,
    });
  });
});

describe('Environment builder', () => {
  it('rejects impossible configuration with a ConfigError before starting anything', async () => {
    expect(() => new Environment().withKafka({ nodes: 0 })).toThrow(ConfigError);
    expect(() => new Environment().withProvider('docker' as 'native')).toThrow(/withProvider: provider must be one of auto, external, containers, native \(got "docker"\)/);
    await expect(new Environment().start()).rejects.toThrow(/nothing to start/);
  });

  it('names the missing variable when the external provider is forced', async () => {
    const saved = process.env['KAFKA_BROKERS'];
    delete process.env['KAFKA_BROKERS'];
    try {
      await expect(new Environment().withKafka().withProvider('external').start()).rejects.toThrow(/KAFKA_BROKERS/);
    } finally {
      if (saved !== undefined) process.env['KAFKA_BROKERS'] = saved;
    }
  });
});
