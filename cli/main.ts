import { EdaHarnessError, errorMessage } from '@eda-harness/core';
import { packageVersion } from './package-info';

export const VERSION: string = packageVersion();

/** A CLI command: takes its own argv (after the command word) and returns an exit code. */
export type Command = (argv: string[]) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  /**
   * Loads the command's module only when it runs: each module pulls in what it needs (kafkajs,
   * Pact, testcontainers …), so `eda-harness exporter` does not pay for Pact's start-up, and a
   * refused flag answers in a fraction of a second.
   */
  readonly load: () => Promise<{ readonly run: Command; readonly help: string }>;
}

const commands: Record<string, CommandEntry> = {
  env: {
    summary: 'start, inspect and stop real Kafka / RabbitMQ / Toxiproxy / Prometheus',
    load: async () => import('./env-command').then((m) => ({ run: m.envCommand, help: m.ENV_HELP })),
  },
  contracts: {
    summary: 'verify message providers against Pact contracts; list pact files',
    load: async () => import('./contracts-command').then((m) => ({ run: m.contractsCommand, help: m.CONTRACTS_HELP })),
  },
  alerts: {
    summary: 'generate the Prometheus and Grafana alert rule files (thresholds from --config)',
    load: async () => import('./alerts-command').then((m) => ({ run: m.alertsCommand, help: m.ALERTS_HELP })),
  },
  exporter: {
    summary: 'serve Kafka lag, consumer status, DLQ and queue depth for Prometheus (/metrics)',
    load: async () => import('./exporter-command').then((m) => ({ run: m.exporterCommand, help: m.EXPORTER_HELP })),
  },
  dashboards: {
    summary: 'generate the Grafana dashboards (dashboards/grafana/*.json)',
    load: async () => import('./dashboards-command').then((m) => ({ run: m.dashboardsCommand, help: m.DASHBOARDS_HELP })),
  },
  chaos: {
    summary: 'run broker-chaos scenarios (kill, restart, pause, failover, latency, partition, poison) and write a report and a history; re-check a saved history',
    load: async () => import('./chaos-command').then((m) => ({ run: m.chaosCommand, help: m.CHAOS_HELP })),
  },
  start: {
    summary: 'the demo: brokers + reference system under traffic, live summary (npm start)',
    load: async () => import('./start-command').then((m) => ({ run: m.startCommand, help: m.START_HELP })),
  },
  docs: {
    summary: 'generate the reference pages (docs/reference/*.md: telemetry, CLI help, exporter options)',
    load: async () => import('./docs-command').then((m) => ({ run: m.docsCommand, help: m.DOCS_HELP })),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    `eda-harness ${VERSION}: observability and contract testing for event-driven services on Kafka and RabbitMQ`,
    '',
    'Usage: eda-harness <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `eda-harness <command> --help` for the options of one command.',
  ].join('\n');
}

/** `--debug` anywhere, or DEBUG set to anything but "" / "0" / "false": print stack traces. */
export function debugRequested(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const debug = env['DEBUG'];
  return argv.includes('--debug') || (debug !== undefined && debug !== '' && debug !== '0' && debug.toLowerCase() !== 'false');
}

/**
 * Runs one command and returns its exit code (see exit-codes.ts). Never throws: an error that is
 * not one of ours is printed as one line ("unexpected error: …") and exit 1; its stack trace, and
 * the cause chain of any error, only with `--debug` or DEBUG=1.
 */
export async function main(argv: string[]): Promise<number> {
  const debug = debugRequested(argv);
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(VERSION);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`eda-harness: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (debug) console.error(debugDetails(err));
    if (err instanceof EdaHarnessError) {
      console.error(`eda-harness ${name}: ${err.describe()}`);
      return err.code === 'CONFIG_INVALID' ? 2 : 1;
    }
    // By code, not `instanceof TypeError`: an error from another realm (a VM context, Jest's
    // sandbox) is not an instance of this realm's TypeError.
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`eda-harness ${name}: ${errorMessage(err)}\n\n${command.help}`);
      return 2;
    }
    console.error(`eda-harness ${name}: unexpected error: ${errorMessage(err)}${debug ? '' : '\n  → run again with --debug (or DEBUG=1) for the stack trace, and report it if it looks like a bug'}`);
    return 1;
  }
}

/** The stack of an error and of each error in its cause chain. */
function debugDetails(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    const stack = (current as { stack?: unknown }).stack;
    parts.push(`${depth === 0 ? '' : 'caused by: '}${typeof stack === 'string' ? stack : String(current)}`);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

