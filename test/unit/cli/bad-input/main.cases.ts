import type { BadInputCase } from '../../../support/bad-input';

/** The top level: no command, unknown commands and flags, --debug. */
export const cases: readonly BadInputCase[] = [
  { name: 'no command prints usage, exit 2', argv: [], exit: 2, message: 'Usage: eda-harness <command>' },
  { name: 'an unknown command', argv: ['bogus'], exit: 2, message: 'unknown command "bogus"' },
  { name: 'an unknown top-level flag', argv: ['--bogus'], exit: 2, message: 'unknown command "--bogus"' },
  { name: '--version prints the version', argv: ['--version'], exit: 0, message: /^\d+\.\d+\.\d+/ },
  { name: '--help prints usage, exit 0', argv: ['--help'], exit: 0, message: 'Commands:' },
  { name: '--debug with an unknown command still says what is wrong', argv: ['--debug', 'bogus'], exit: 2, message: 'unknown command "bogus"' },
];
