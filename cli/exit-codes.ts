/**
 * Every exit code of every command, in one place: docs/reference/cli.md prints this table and the
 * bad-input tests (test/unit/cli/bad-input) check that each case's expected code is listed here
 * for its command. The same numbers mean the same thing everywhere:
 *   0  done as asked
 *   1  ran, and what it checked failed (a broken contract, a failed invariant) or a broker/tool failed
 *   2  bad input: an unknown flag or command, an invalid value, a file that cannot be read or
 *      written, a configuration that is invalid — nothing was done, and the message says what to fix
 *   3  nothing to act on (`env status` / `env down` when no environment is up)
 */
export const EXIT_CODES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  '(any)': {
    0: '`--help`, `--version`',
    2: 'no command, an unknown command, an unknown flag, a missing or invalid flag value',
    1: 'an unexpected error (its message; the stack trace with `--debug` or `DEBUG=1`)',
  },
  env: {
    0: 'up: the environment is running (or, with `--foreground`, was stopped with Ctrl-C); down: everything it started has ended; status: an environment is up',
    1: 'a broker or tool failed to start, a prerequisite is missing and cannot be installed, or a process could not be ended',
    2: 'bad input (flags, `EDA_HARNESS_*` / broker variables), or a state file that is unreadable, stale or not safe to act on (then nothing is signalled or deleted)',
    3: 'status / down: no environment is up',
  },
  contracts: {
    0: 'every message interaction verified (HTTP and synchronous ones are skipped with a note; list: the pact files were listed)',
    1: 'a contract is broken: at least one interaction failed verification (a mismatch, or its message factory failed or did not resolve in time)',
    2: 'nothing could be verified: bad flags or PACT_BROKER_* variables, no or unreadable pact files, a pact of an unknown specification or with no message interaction, a bad provider module, no message factory produced a message, an unreachable Pact Broker, an unwritable report file',
  },
  alerts: {
    0: 'the rule files were written (or printed)',
    2: 'an invalid alerts config, or an output folder that cannot be written',
  },
  dashboards: {
    0: 'the dashboards were written (or the queries printed)',
    2: 'an output folder that cannot be written',
  },
  exporter: {
    0: 'stopped with SIGINT / SIGTERM after serving',
    1: 'the metrics port could not be opened (in use, not permitted)',
    2: 'invalid flags, environment variables or config file (unknown keys included), or no target to export',
  },
  chaos: {
    0: 'every scenario passed (list: the scenarios were listed; check: every history passed)',
    1: 'a scenario failed an invariant or could not run (check: an invariant failed on re-check, or the history has no scenario end)',
    2: 'unknown scenario, invalid flag value, or a report folder that cannot be written (check: no file given, a missing or unreadable file, a malformed line, named with its file and line, or an unknown history format version)',
  },
  start: {
    0: 'the demo ran and was stopped with Ctrl-C (or ran for `--duration`)',
    1: 'a broker or service failed',
    2: 'invalid flags or variables (`EDA_HARNESS_PROVIDER`, broker variables), a `--metrics-host` / `--metrics-port` that cannot be served, or a runs directory that is not private',
  },
  docs: {
    0: 'the reference pages were written',
    2: 'an output folder that cannot be written',
  },
};

/** The table as Markdown, for docs/reference/cli.md. */
export function renderExitCodes(): string {
  const rows = Object.entries(EXIT_CODES).flatMap(([command, codes]) =>
    Object.entries(codes)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([code, meaning]) => `| ${command === '(any)' ? 'every command' : `\`${command}\``} | ${code} | ${meaning} |`),
  );
  return ['| Command | Exit code | Meaning |', '|---|---|---|', ...rows].join('\n');
}
