import { Kafka, logLevel, type Admin } from 'kafkajs';
import { errorMessage } from '../../../core/errors';
import { waitFor } from '../../../core/wait-for';
import { Environment, type StartedEnvironment } from '../../../environment/index';
import type { KafkaNodeHandle } from '../../../environment/types';
import { uniqueName } from '../../support/names';
import { createTopicsWithLeaders } from '../../support/topics';

/**
 * A three-node cluster whose replication (the INTERNAL listener, which followers fetch from)
 * crosses a Toxiproxy proxy per node, apart from the client proxies, with replica.lag.time.max.ms
 * lowered to 3 s. Cutting the leader's replication proxy must shrink its partition's ISR to the
 * leader alone while clients stay connected (acks -1 sends then fail: min.insync.replicas 2), and
 * healing must bring the ISR back to 3. Cutting a follower's proxy must not shrink it: the follower
 * still fetches from the leader's proxy.
 */
const LAG_MS = 3000;
let env: StartedEnvironment;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  env = await new Environment()
    .withProvider('native')
    .withKafka({ nodes: 3, serverProperties: { 'replica.lag.time.max.ms': LAG_MS } })
    .withToxiproxy()
    .start();
  kafka = new Kafka({ clientId: 'replication-proxy-test', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 10_000, retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 } });
  admin = kafka.admin();
  await admin.connect();
}, 240_000);

afterAll(async () => {
  await admin?.disconnect();
  await env?.stop();
});

async function isrOf(topic: string): Promise<{ leader: number; isr: number[] }> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0]!.partitions.find((x) => x.partitionId === 0)!;
  return { leader: p.leader, isr: [...p.isr].sort() };
}

it('gives every node a replication proxy in front of its INTERNAL listener, and advertises it there', async () => {
  const nodes = env.kafka!.nodes;
  for (const n of nodes) {
    const r = n.replicationProxy;
    expect(r).toBeDefined();
    expect(r!.name).toBe(`${n.name}-replication`);
    expect(`${r!.host}:${r!.port}`).not.toBe(n.address);
    expect(r!.upstream).not.toBe(n.proxy!.upstream);
  }
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: nodes.map((n) => ({ type: 4, name: String(n.nodeId), configNames: ['advertised.listeners'] })) });
  for (const n of nodes) {
    const value = described.resources.find((r) => r.resourceName === String(n.nodeId))!.configEntries[0]!.configValue;
    expect(value).toContain(`INTERNAL://${n.replicationProxy!.host}:${n.replicationProxy!.port}`);
    expect(value).toContain(`CLIENT://${n.address}`);
  }
});

it('cut the leader’s replication proxy: ISR shrinks to the leader, acks -1 sends fail; healed: ISR back to 3', async () => {
  const topic = uniqueName('repl');
  await createTopicsWithLeaders(admin, [{ topic, numPartitions: 1, replicationFactor: 3 }]);
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await waitFor(async () => (await isrOf(topic)).isr.length === 3, { description: 'a full ISR before the fault', timeoutMs: 30_000, intervalMs: 250 });
    const leader: KafkaNodeHandle = await env.kafka!.leaderOf(topic, 0);
    const follower = env.kafka!.nodes.find((n) => n.nodeId !== leader.nodeId)!;

    // Direction: a follower's proxy carries fetches FROM it, not its fetches from the leader.
    await follower.replicationProxy!.down();
    const followerCutAt = Date.now();
    let sentDuringFollowerCut = 0;
    while (Date.now() - followerCutAt < LAG_MS * 1.5 + 1000) {
      await producer.send({ topic, acks: -1, messages: [{ value: `f${sentDuringFollowerCut++}` }] });
      expect((await isrOf(topic)).isr).toHaveLength(3);
    }
    await follower.replicationProxy!.clear();

    // The leader's proxy cut: no follower can fetch the partition any more. A follower leaves the
    // ISR only once it is behind (Kafka keeps a caught-up follower of an idle partition), so one
    // record is written with acks 1, which only the leader needs.
    const cutAt = Date.now();
    await leader.replicationProxy!.down();
    await producer.send({ topic, acks: 1, messages: [{ value: 'leader-only' }] });
    const shrunk = await waitFor(
      async () => {
        const s = await isrOf(topic);
        return s.isr.length === 1 ? s : undefined;
      },
      { description: `partition 0's ISR to shrink to its leader ${leader.nodeId}`, timeoutMs: 30_000, intervalMs: 250 },
    );
    const shrinkMs = Date.now() - cutAt;
    expect(shrunk).toEqual({ leader: leader.nodeId, isr: [leader.nodeId] });
    // Clients still reach every node (their proxies are untouched) and the controller kept all three.
    expect((await admin.describeCluster()).brokers).toHaveLength(3);
    const refused = await producer.send({ topic, acks: -1, messages: [{ value: 'during-cut' }] }).then(
      () => 'acknowledged',
      (err: unknown) => errorMessage(err),
    );
    expect(refused).toMatch(/fewer in-sync replicas than required/);

    const healedAt = Date.now();
    await leader.replicationProxy!.clear();
    const back = await waitFor(
      async () => {
        const s = await isrOf(topic);
        return s.isr.length === 3 ? s : undefined;
      },
      { description: "partition 0's ISR to be 3 again after healing", timeoutMs: 30_000, intervalMs: 250 },
    );
    const recoverMs = Date.now() - healedAt;
    expect(back.leader).toBe(leader.nodeId);
    await producer.send({ topic, acks: -1, messages: [{ value: 'after-heal' }] });
    console.log(`replication proxy: follower cut kept ISR 3 over ${sentDuringFollowerCut} acks -1 sends; leader cut shrank ISR to [${leader.nodeId}] in ${shrinkMs} ms, send refused; healed: ISR 3 in ${recoverMs} ms`);
  } finally {
    await producer.disconnect();
    await env.toxiproxy?.clearAll();
  }
}, 120_000);
