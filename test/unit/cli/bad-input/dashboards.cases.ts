import type { BadInputCase } from '../../../support/bad-input';

/** `eda-harness dashboards`: subcommands and --out. */
export const cases: readonly BadInputCase[] = [
  { name: 'no subcommand', argv: ['dashboards'], exit: 2, message: 'expected "build" or "queries", got nothing' },
  { name: 'an unknown subcommand', argv: ['dashboards', 'import'], exit: 2, message: 'expected "build" or "queries", got "import"' },
  { name: 'an unknown flag', argv: ['dashboards', 'queries', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'an extra argument', argv: ['dashboards', 'queries', 'all'], exit: 2, message: 'dashboards queries takes no arguments, got "all"' },
  { name: 'queries --out (queries prints, it writes nothing)', argv: ['dashboards', 'queries', '--out', '{dir}/out'], exit: 2, message: '--out is for `dashboards build`' },
  { name: '--out /proc/forbidden fails at once (Node 20 mkdir -p spins forever there)', argv: ['dashboards', 'build', '--out', '/proc/forbidden'], exit: 2, message: 'Cannot create the --out folder /proc/forbidden', deadlineMs: 10_000 },
  { name: '--out /proc/forbidden/deeper', argv: ['dashboards', 'build', '--out', '/proc/forbidden/deeper'], exit: 2, message: 'Cannot create the --out folder /proc/forbidden/deeper', deadlineMs: 10_000 },
  { name: '--out /sys (a folder that takes no new folders)', argv: ['dashboards', 'build', '--out', '/sys'], exit: 2, message: 'Cannot create the output folder /sys/dashboards/grafana', deadlineMs: 10_000 },
  { name: "--out ''", argv: ['dashboards', 'build', '--out', ''], exit: 2, message: '--out must name a folder, got ""' },
  { name: '--out without a value', argv: ['dashboards', 'build', '--out'], exit: 2, message: "Option '--out <value>' argument missing" },
  { name: '--out naming a file', argv: ['dashboards', 'build', '--out', '{dir}/file'], files: { file: '' }, exit: 2, message: 'Cannot use {dir}/file for the --out folder' },
  { name: '--out below a file', argv: ['dashboards', 'build', '--out', '{dir}/file/out'], files: { file: '' }, exit: 2, message: 'Cannot use {dir}/file for the --out folder ({dir}/file/out): it exists and is not a folder' },
];
