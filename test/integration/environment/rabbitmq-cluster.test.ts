import * as amqp from 'amqplib';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentStartError } from '../../../core/errors';
import { Environment, type RabbitMqNodeHandle, type StartedEnvironment } from '../../../environment/index';
import { requestJson } from '../../../core/http-json';
import { waitFor } from '../../../core/wait-for';
import { uniqueName } from '../../support/names';
import { spawnedBy, survivorsOf } from '../../support/spawned-by';

/**
 * A three-node RabbitMQ cluster (native processes, one cookie, one epmd, pause_minority), each node
 * behind its own Toxiproxy proxy: the cluster forms, a quorum queue gets a member on every node, and
 * a node cut off at the Erlang distribution level is seen down by the others and comes back.
 */
let env: StartedEnvironment;
let nodes: readonly RabbitMqNodeHandle[];
const AUTH = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
const progress: string[] = [];

beforeAll(async () => {
  env = await new Environment()
    .withRabbitMq({ nodes: 3 })
    .withToxiproxy()
    .withProgress((line) => void progress.push(line))
    .start();
  nodes = env.rabbitmq?.nodes ?? [];
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

/** Sends `body` to `queue` through `url` and waits for the publisher confirm. */
async function publishConfirmed(url: string, queue: string, body: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** One message from `queue` through `url` (basic.get, polled). */
async function getOne(url: string, queue: string): Promise<string> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    return await waitFor(
      async () => {
        const m = await ch.get(queue, { noAck: true });
        return m ? m.content.toString() : undefined;
      },
      { description: `a message on ${queue}`, timeoutMs: 15_000, intervalMs: 100 },
    );
  } finally {
    await conn.close().catch(() => undefined);
  }
}

it('forms one cluster of three running nodes, each with its own name, ports and proxy', async () => {
  const r = env.rabbitmq!;
  expect(nodes).toHaveLength(3);
  expect(r.node).toBe(nodes[0]);
  expect(new Set(nodes.map((n) => n.nodeName)).size).toBe(3);
  expect(r.amqpUrls).toEqual(nodes.map((n) => n.amqpUrl));
  expect(new Set(r.amqpUrls).size).toBe(3);
  expect(r.amqpUrl).toBe(r.amqpUrls?.[0]);
  // Each node's clients cross its own proxy.
  expect(nodes.map((n) => n.proxy?.name)).toEqual(['rabbitmq', 'rabbitmq-2', 'rabbitmq-3']);
  for (const n of nodes) expect(n.amqpUrl).toContain(`:${n.proxy?.port}`);
  const status = await r.clusterStatus!();
  expect(status.unreachable).toEqual([]);
  expect(status.views).toHaveLength(3);
  for (const v of status.views) expect([...v.running].sort()).toEqual(nodes.map((n) => n.nodeName).sort());
  // Every node says so itself, through the management API of its own port.
  for (const n of nodes) {
    const overview = await requestJson<{ node: string }>(`${n.managementUrl}/api/overview`, { headers: AUTH });
    expect(overview.node).toBe(n.nodeName);
  }
  expect(progress.some((l) => /RabbitMQ cluster of 3 running/.test(l))).toBe(true);
  // env describe (and `env up`'s state file) names every node with its pid.
  const described = env.describe().rabbitmq!;
  expect(described.pid).toBe(nodes[0]!.pid);
  expect(described.nodes?.map((n) => [n.name, n.nodeName, n.pid])).toEqual(nodes.map((n) => [n.name, n.nodeName, n.pid]));
  for (const n of described.nodes ?? []) expect(n.pid).toEqual(expect.any(Number));
});

it('gives a quorum queue a member on every node, its leader where it was declared, and serves it from any node', async () => {
  const queue = uniqueName('qq');
  const conn = await amqp.connect(nodes[1]!.amqpUrl);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await conn.close();
  const q = await waitFor(
    async () => {
      const body = await requestJson<{ type: string; leader?: string; members?: string[] }>(`${nodes[0]!.managementUrl}/api/queues/%2F/${queue}`, { headers: AUTH });
      return body.members?.length === 3 ? body : undefined;
    },
    { description: `${queue} to list 3 members`, timeoutMs: 20_000, intervalMs: 200 },
  );
  expect(q.type).toBe('quorum');
  expect([...(q.members ?? [])].sort()).toEqual(nodes.map((n) => n.nodeName).sort());
  expect(q.leader).toBe(nodes[1]!.nodeName);
  expect((await env.rabbitmq!.leaderOf!(queue)).nodeName).toBe(nodes[1]!.nodeName);
  await publishConfirmed(nodes[0]!.amqpUrl, queue, 'via node 1');
  expect(await getOne(nodes[2]!.amqpUrl, queue)).toBe('via node 1');
});

it('partitions a node at the Erlang distribution level: the others see it down, it pauses (pause_minority), and it heals', async () => {
  const queue = uniqueName('qq-part');
  const setup = await amqp.connect(nodes[0]!.amqpUrl);
  await (await setup.createChannel()).assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await setup.close();
  const cut = nodes[2]!;
  // A client on the node to cut off: pause_minority closes its connection.
  const client = await amqp.connect(cut.amqpUrl);
  let clientClosed = false;
  client.on('close', () => void (clientClosed = true));
  client.on('error', () => undefined);

  await cut.partition();
  expect(cut.running).toBe(true); // the process lives on: only its distribution links are cut
  const during = await env.rabbitmq!.clusterStatus!();
  const othersViews = during.views.filter((v) => v.node !== cut.nodeName);
  expect(othersViews).toHaveLength(2);
  for (const v of othersViews) expect(v.running).not.toContain(cut.nodeName);
  await waitFor(() => clientClosed, { description: "the partitioned node to close its client's connection (pause_minority)", timeoutMs: 30_000 });
  // The majority still takes confirmed writes on the quorum queue.
  await publishConfirmed(nodes[0]!.amqpUrl, queue, 'during the partition');

  await cut.healPartition();
  const after = await env.rabbitmq!.clusterStatus!();
  expect(after.unreachable).toEqual([]);
  for (const v of after.views) expect(v.running).toHaveLength(3);
  // The healed node serves again, and the write made during the partition is there.
  expect(await getOne(cut.amqpUrl, queue)).toBe('during the partition');
}, 150_000);

it('a node that cannot join (wrong Erlang cookie) fails the start with one error naming it, and every process ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'eda-rabbit-join-'));
  const runDir = join(dir, 'run');
  // Node 3's own env file (rabbitmq-server sources it) gives it another cookie: it cannot reach node 1.
  mkdirSync(join(runDir, 'rabbitmq-cluster', 'node-3'), { recursive: true });
  writeFileSync(join(runDir, 'rabbitmq-cluster', 'node-3', 'rabbitmq-env.conf'), 'SERVER_ADDITIONAL_ERL_ARGS="-setcookie not-the-cluster-cookie"\n');
  const { error, spawned } = await spawnedBy(dir, () => new Environment().withRabbitMq({ nodes: 3 }).withRunDir(runDir).withProgress(() => undefined).start());
  const survivors = survivorsOf(spawned);
  rmSync(dir, { recursive: true, force: true });

  expect(error).toBeInstanceOf(EnvironmentStartError);
  expect((error as Error).message).toMatch(/RabbitMQ node 3 \(eda-\d+@localhost\) started but did not join the cluster/);
  expect((error as EnvironmentStartError).logFile).toMatch(/node-3[/\\]rabbitmq\.log$/);
  expect(spawned.map((e) => e.name).sort()).toEqual(['epmd', 'rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3']);
  expect(survivors).toEqual([]);
}, 150_000);
