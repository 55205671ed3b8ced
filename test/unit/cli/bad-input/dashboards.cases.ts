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
  { name: '--cluster-label 9x (not a label name)', argv: ['dashboards', 'queries', '--cluster-label', '9x'], exit: 2, message: '--cluster-label must be a Prometheus label name (letters, digits, _; not starting with __) (got "9x")' },
  { name: '--cluster-label __meta (reserved)', argv: ['dashboards', 'build', '--out', '{dir}', '--cluster-label', '__meta'], exit: 2, message: '--cluster-label must be a Prometheus label name' },
  { name: '--partition-topk 0', argv: ['dashboards', 'queries', '--partition-topk', '0'], exit: 2, message: '--partition-topk must be a whole number from 1 to 1000 (got "0")' },
  { name: '--partition-topk 2.5', argv: ['dashboards', 'queries', '--partition-topk', '2.5'], exit: 2, message: '--partition-topk must be a whole number from 1 to 1000 (got "2.5")' },
  { name: '--abandoned-after 1.5h (not a Prometheus duration)', argv: ['dashboards', 'queries', '--abandoned-after', '1.5h'], exit: 2, message: '--abandoned-after must be a Prometheus duration such as 30m or 1h (got "1.5h")' },
  { name: '--abandoned-after without a value', argv: ['dashboards', 'queries', '--abandoned-after'], exit: 2, message: "Option '--abandoned-after <value>' argument missing" },
];
