import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistoryFile, loadServiceConfig, observationsOf, readHistoryFile, serviceScenario, serviceUnderTest, summarize, type ScenarioResult, type ScenarioTiming } from '../../../chaos/index';
import { Environment, type StartedEnvironment } from '../../../environment/index';

/**
 * The reference inventory as two members of one consumer group (a shared file-backed store): one
 * member SIGKILLed, and one member frozen longer than the group's 6 s session timeout, so the group
 * evicts it and the other member takes its partitions. Nothing may be lost or reserved twice.
 */

const SHORT = { warmupMs: 2000, faultMs: 3000, recoveryMs: 4000, drainTimeoutMs: 20_000 };
const CONFIG = join(__dirname, '..', '..', '..', 'examples', 'dist', 'chaos', 'two-members.chaos.config.js');

let env: StartedEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'chaos-members-'));

beforeAll(async () => {
  env = await new Environment().withKafka().start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(fault: string, timing: Partial<ScenarioTiming>): Promise<ScenarioResult> {
  const sut = serviceUnderTest(await loadServiceConfig(CONFIG), { logDir: join(dir, 'logs') });
  const scenario = serviceScenario(sut, `reference-inventory-x2-${fault}`).withTiming(timing);
  const historyPath = join(dir, `${scenario.name}.history.jsonl`);
  const r = await scenario.run({ env, historyPath });
  console.log(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: r.passed, scenarios: [r] }));
  expect(checkHistoryFile(historyPath).invariants).toEqual(r.invariants);
  return r;
}

it('one of two members killed with SIGKILL and restarted: nothing lost, each order reserved once', async () => {
  const r = await run('service-kill', SHORT);
  expect(r.error).toBeUndefined();
  expect(r.passed).toBe(true);
  expect(r.events.filter((e) => /started \(pid \d+\)/.test(e.message)).map((e) => e.message.split(' ')[1])).toEqual(['reference-inventory-x2#0', 'reference-inventory-x2#1', 'reference-inventory-x2#0']);
}, 90_000);

it('one of two members frozen longer than the session timeout: the other takes over, nothing lost, each order reserved once', async () => {
  const r = await run('service-pause', { ...SHORT, faultMs: 9000 });
  expect(r.error).toBeUndefined();
  expect(r.passed).toBe(true);
  // The frozen member's partitions moved: after the 6 s session timeout, and before it resumed,
  // the other member processed inputs (process spans ending inside that part of the window).
  const o = observationsOf(readHistoryFile(join(dir, 'reference-inventory-x2-service-pause.history.jsonl')));
  const pause = o.faults[0]!;
  const takenOver = o.spans.filter((s) => s.kind === 'consumer' && (s.atMs ?? 0) > pause.startMs + 7000 && (s.atMs ?? 0) < pause.endMs!);
  expect(takenOver.length).toBeGreaterThan(3);
}, 90_000);
