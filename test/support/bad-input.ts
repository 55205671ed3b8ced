import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Table-driven bad-input cases for the `eda-harness` command, run as a user runs it: the built
 * bin in a child process, its real exit code, stdout and stderr. Each case gets a fresh folder
 * (`{dir}` in argv, env values and file contents is replaced by it; TMPDIR points inside it, so
 * state files never touch the machine's), a deadline (a hang fails the case, and the child is
 * ended by its pid), and the rule that no stack trace is printed.
 */
export interface BadInputCase {
  /** What is tried, as a test name: "--port ''". */
  readonly name: string;
  readonly argv: readonly string[];
  /** Extra environment; `undefined` removes a variable. Broker variables are removed by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Files to create before the run (path relative to `{dir}` → content). */
  readonly files?: Readonly<Record<string, string>>;
  /** Runs before the child starts (plant state, open a port …); may return a cleanup function. */
  readonly before?: (dir: string) => void | (() => void) | Promise<void | (() => void)>;
  readonly exit: number;
  /** A fragment of stderr + stdout (a string is matched literally, after `{dir}` is replaced). */
  readonly message: string | RegExp;
  /** Default 20 s. */
  readonly deadlineMs?: number;
}

export interface BadInputResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly timedOut: boolean;
}

const root = join(__dirname, '..', '..');
export const CLI_BIN = join(root, 'cli', 'bin', 'eda-harness.js');
/** Variables a developer's shell may hold that would point a case at real brokers. */
const SCRUBBED = ['KAFKA_BROKERS', 'AMQP_URL', 'RABBITMQ_MANAGEMENT_URL', 'PROMETHEUS_URL', 'EDA_HARNESS_PROVIDER', 'DEBUG', 'PACT_BROKER_BASE_URL', 'PACT_BROKER_TOKEN', 'PACT_BROKER_USERNAME', 'PACT_BROKER_PASSWORD'];
/** A V8 stack frame line: "    at fn (file.js:1:2)" or "    at file.js:1:2". */
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

const fill = (text: string, dir: string): string => text.split('{dir}').join(dir);

export async function runCli(c: BadInputCase, dir: string): Promise<BadInputResult> {
  const env: Record<string, string | undefined> = { ...process.env, TMPDIR: join(dir, 'tmp') };
  for (const k of SCRUBBED) delete env[k];
  for (const [k, v] of Object.entries(c.env ?? {})) env[k] = v === undefined ? undefined : fill(v, dir);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...c.argv.map((a) => fill(a, dir))], { cwd: dir, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL'); // its own pid
    }, c.deadlineMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, timedOut });
    });
  });
}

/** Defines one Jest test per case. */
export function badInputCases(cases: readonly BadInputCase[]): void {
  beforeAll(() => {
    if (!existsSync(join(root, 'cli', 'dist', 'main.js'))) throw new Error('cli/dist is missing: run `npm run build` (npm test does) before these tests');
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-bad-input-'));
    let cleanup: void | (() => void) = undefined;
    try {
      for (const [rel, content] of Object.entries(c.files ?? {})) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), fill(content, dir));
      }
      cleanup = await c.before?.(dir);
      const r = await runCli(c, dir);
      const message = typeof c.message === 'string' ? fill(c.message, dir) : c.message;
      expect({ timedOut: r.timedOut, exit: r.code }).toEqual({ timedOut: false, exit: c.exit });
      if (typeof message === 'string') expect(r.output).toContain(message);
      else expect(r.output).toMatch(message);
      expect(r.output).not.toMatch(STACK_FRAME);
    } finally {
      cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    }
  }, Math.max(...cases.map((c) => c.deadlineMs ?? 20_000)) + 15_000);
}
