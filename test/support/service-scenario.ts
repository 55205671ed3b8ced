import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHistoryFile, loadServiceConfig, serviceScenario, serviceUnderTest, summarize, type ScenarioResult, type ScenarioTiming } from '../../chaos/index';
import type { InvariantResult } from '../../chaos/types';
import type { StartedEnvironment } from '../../environment/index';

/** The built example chaos configs (`examples/dist/chaos`). */
export const EXAMPLE_CONFIGS = join(__dirname, '..', '..', 'examples', 'dist', 'chaos');

export interface ServiceRun {
  readonly env: StartedEnvironment;
  /** Where the history and the service's logs go. */
  readonly dir: string;
  /** A config file under EXAMPLE_CONFIGS. */
  readonly file: string;
  /** Which service of a config that describes several. */
  readonly service?: string | undefined;
  readonly fault: string;
  readonly timing: Partial<ScenarioTiming>;
}

/**
 * Runs one service scenario (`<service>-<fault>`) in `env`, prints its summary, and checks that its
 * saved history re-checks to the run's own verdicts, as `chaos check` would.
 */
export async function runServiceScenario(o: ServiceRun): Promise<ScenarioResult> {
  const config = await loadServiceConfig(join(EXAMPLE_CONFIGS, o.file), o.service);
  const sut = serviceUnderTest(config, { logDir: join(o.dir, 'logs') });
  const scenario = serviceScenario(sut, `${config.name}-${o.fault}`).withTiming(o.timing);
  const historyPath = join(o.dir, `${scenario.name}.history.jsonl`);
  const r = await scenario.run({ env: o.env, historyPath });
  console.log(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: r.passed, scenarios: [r] }));
  // A run that failed: the service's own words (the folder goes with the test's), and what the harness saw happen.
  if (!r.passed || r.error !== undefined) console.log(`${scenario.name} did not pass; ${serviceLogTails(join(o.dir, 'logs'))}\nevents:\n${r.events.map((e) => `  ${e.message}`).join('\n')}`);
  const check = checkHistoryFile(historyPath);
  expect(check.invariants).toEqual(r.invariants);
  expect(check.passed).toBe(r.passed);
  return r;
}

/** The result's invariant whose name starts with `prefix`; throws, naming the ones there are, when none does. */
export function invariantOf(r: ScenarioResult, prefix: string): InvariantResult {
  const found = r.invariants.find((i) => i.name.startsWith(prefix));
  if (!found) throw new Error(`no invariant "${prefix}…" in ${r.invariants.map((i) => i.name).join(', ')}`);
  return found;
}

/** The last lines of each service log in `dir`, for a failed run's output. */
function serviceLogTails(dir: string, lines = 15): string {
  if (!existsSync(dir)) return `no service logs in ${dir}`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8').trimEnd();
      return `${f}:\n${text === '' ? '  (empty)' : text.split('\n').slice(-lines).map((l) => `  ${l}`).join('\n')}`;
    })
    .join('\n');
}
