import { Environment, type StartedEnvironment } from '../../../environment/index';
import { ChaosScenario, Fault, Workload, scenarioByName, summarize } from '../../../chaos/index';
import type { ScenarioResult } from '../../../chaos/index';

/**
 * The catalogue's RabbitMQ cluster scenarios on one three-node cluster (quorum queues,
 * pause_minority), started once for the file to keep it short: the node hosting the quorum queue's
 * leader is killed, then partitioned at the Erlang distribution level. Both must lose nothing
 * confirmed and keep per-key order, and both must bite: the leader moves off that node and the
 * consumer, which started on it, reconnects to another node.
 */
let env: StartedEnvironment;
const TIMING = { warmupMs: 2500, faultMs: 5000, recoveryMs: 2500, drainTimeoutMs: 60_000 };
/** The kill runs hold the fault longer, so that confirms can be counted while the node is down. */
const KILL_TIMING = { ...TIMING, faultMs: 8000 };

beforeAll(async () => {
  env = await new Environment().withRabbitMq({ nodes: 3 }).start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

function mustPass(r: ScenarioResult): void {
  if (!r.passed) throw new Error(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: false, scenarios: [r] }));
}

/** The node numbers the consumer connected to, in order, from the scenario's client events. */
function consumerNodes(r: ScenarioResult): number[] {
  return r.events.flatMap((e) => {
    const m = /^consumer: connected to node (\d)/.exec(e.message);
    return m ? [Number(m[1])] : [];
  });
}

/** The leader's node number before the fault and while it holds, from the fault's progress lines. */
function leaderMoves(lines: readonly string[]): { before: number | undefined; during: number | undefined } {
  const at = (re: RegExp): number | undefined => {
    for (const l of lines) {
      const m = re.exec(l);
      if (m) return Number(m[1]);
    }
    return undefined;
  };
  return { before: at(/leader of \S+ on node (\d)/), during: at(/leader of \S+ now on node (\d)/) };
}

async function runBiting(name: string, timing = TIMING): Promise<{ r: ScenarioResult; lines: string[] }> {
  const scenario = scenarioByName(name).withTiming(timing);
  // `chaos run` starts a three-node cluster for it (the runner reads rabbitmqNodes off the workload and fault).
  expect(scenario.needs().rabbitmq).toBe(true);
  const lines: string[] = [];
  const r = await scenario.run({ env, progress: (l) => void lines.push(l) });
  mustPass(r);
  expect(r.faults[0]?.error).toBeUndefined();
  expect(r.counts.acked).toBeGreaterThan(200);
  // It bit: the leader was on the node hit, then elsewhere; the consumer left that node.
  const leader = leaderMoves(lines);
  expect(leader.before).toBeDefined();
  expect(leader.during).toBeDefined();
  expect(leader.during).not.toBe(leader.before);
  const nodes = consumerNodes(r);
  if (nodes[0] !== leader.before) {
    const connections = r.events.filter((e) => /^(consumer|publisher):/.test(e.message)).map((e) => e.message);
    throw new Error(`the consumer started on node ${String(nodes[0])}, not beside the leader (node ${String(leader.before)}):\n${connections.join('\n')}\n${lines.join('\n')}`);
  }
  expect(nodes.slice(1).some((n) => n !== leader.before)).toBe(true);
  return { r, lines };
}

/**
 * Publisher confirms from the fault's third second until healing began (the fault's start plus
 * `faultMs`): while the killed node was surely down and the clients had had time to move.
 */
function ackedWhileDown(r: ScenarioResult): number {
  const f = r.faults[0];
  if (!f) throw new Error(`${r.name}: no fault window`);
  const from = Date.parse(r.startedAt);
  const window = r.timeline.filter((p) => from + p.second * 1000 >= f.startMs + 3000 && from + (p.second + 1) * 1000 <= f.startMs + KILL_TIMING.faultMs);
  console.log(`${r.name}: confirms per second while down: ${window.map((p) => p.acked).join(' ')}; around the fault: ${r.timeline.map((p) => `${p.second}:${p.acked}`).join(' ')} (fault at ${Math.round((f.startMs - from) / 1000)} s)`);
  return window.reduce((n, p) => n + p.acked, 0);
}

let quorumAckedDuringKill = 0;

it('rabbitmq-cluster-node-kill: the quorum queue leader node killed, nothing confirmed lost, consumers move', async () => {
  const { r } = await runBiting('rabbitmq-cluster-node-kill', KILL_TIMING);
  // The kill cut the clients off: connections closed and were made again.
  expect(r.events.some((e) => /consumer: connection closed, reconnecting/.test(e.message))).toBe(true);
  // The quorum queue kept taking confirmed writes while its old leader's node was down.
  quorumAckedDuringKill = ackedWhileDown(r);
  expect(quorumAckedDuringKill).toBeGreaterThan(20);
}, 150_000);

it('rabbitmq-cluster-partition: the leader node partitioned from the others, nothing confirmed lost, consumers move', async () => {
  const { lines } = await runBiting('rabbitmq-cluster-partition');
  // The partition was observed: the fault's injection waits until the other nodes report the node down.
  expect(lines.some((l) => /partitioned; the other nodes see it down/.test(l))).toBe(true);
  const status = await env.rabbitmq!.clusterStatus!();
  for (const v of status.views) expect(v.running).toHaveLength(3);
}, 150_000);

it('negative control: a classic queue on the killed node takes no confirmed write for the fault, where the quorum queue kept taking them', async () => {
  const classicRun = await new ChaosScenario('classic-control')
    .withWorkload(Workload.rabbitmq({ cluster: true, queueType: 'classic' }))
    .withFault(Fault.rabbitmqClusterNodeKill({ node: 1 }))
    .withTiming(KILL_TIMING)
    .run({ env });
  expect(quorumAckedDuringKill).toBeGreaterThan(20);
  expect(ackedWhileDown(classicRun)).toBe(0);
  // Durable and persistent, it loses nothing once its node is back: unavailable, not lossy.
  expect(classicRun.invariants.find((i) => i.name === 'no acknowledged message lost')?.passed).toBe(true);
}, 150_000);
