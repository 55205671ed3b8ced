import { serverProperties } from '../../../environment/native/kafka';

/**
 * The INTERNAL (replication) listener as server.properties renders it: bound on its own port,
 * advertised as the replication proxy when there is one (so followers fetch through Toxiproxy),
 * direct otherwise; the CONTROLLER listener and the voters never name a proxy.
 */
function parse(props: string): Record<string, string> {
  return Object.fromEntries(props.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

const voters = [
  { nodeId: 1, controller: 1003 },
  { nodeId: 2, controller: 1103 },
  { nodeId: 3, controller: 1203 },
];

describe('Kafka INTERNAL listener and its replication proxy', () => {
  it('advertises the replication proxy on INTERNAL, binds the real port, and keeps CONTROLLER direct', () => {
    const p = parse(serverProperties({ nodeId: 2, ports: { client: 1101, internal: 1102, controller: 1103, advertised: 2101, internalAdvertised: 2102 }, voters, logDir: '/d', clusterSize: 3 }));
    expect(p['listeners']).toBe('CLIENT://127.0.0.1:1101,INTERNAL://127.0.0.1:1102,CONTROLLER://127.0.0.1:1103');
    expect(p['advertised.listeners']).toBe('CLIENT://127.0.0.1:2101,INTERNAL://127.0.0.1:2102');
    expect(p['inter.broker.listener.name']).toBe('INTERNAL');
    expect(p['controller.quorum.voters']).toBe('1@127.0.0.1:1003,2@127.0.0.1:1103,3@127.0.0.1:1203');
    expect(p['replica.lag.time.max.ms']).toBeUndefined();
  });

  it('advertises the INTERNAL port itself without a replication proxy (no Toxiproxy)', () => {
    const p = parse(serverProperties({ nodeId: 1, ports: { client: 1001, internal: 1002, controller: 1003, advertised: 1001 }, voters, logDir: '/d', clusterSize: 3 }));
    expect(p['advertised.listeners']).toBe('CLIENT://127.0.0.1:1001,INTERNAL://127.0.0.1:1002');
  });

  it('keeps the SECURE listener after INTERNAL when Kafka is secured', () => {
    const ports = { client: 1101, internal: 1102, controller: 1103, advertised: 2101, internalAdvertised: 2102, secure: 1104, secureAdvertised: 2104 };
    const p = parse(serverProperties({ nodeId: 2, ports, voters, logDir: '/d', clusterSize: 3, secure: { 'listener.name.secure.sasl.enabled.mechanisms': 'SCRAM-SHA-512' } }));
    expect(p['advertised.listeners']).toBe('CLIENT://127.0.0.1:2101,INTERNAL://127.0.0.1:2102,SECURE://127.0.0.1:2104');
  });

  it('takes a lowered replica.lag.time.max.ms through the generic override', () => {
    const p = parse(serverProperties({ nodeId: 1, ports: { client: 1001, internal: 1002, controller: 1003, advertised: 2001 }, voters, logDir: '/d', clusterSize: 3, extra: { 'replica.lag.time.max.ms': 3000 } }));
    expect(p['replica.lag.time.max.ms']).toBe('3000');
  });
});
