import type { BadInputCase } from '../../../support/bad-input';

/** `eda-harness docs`: the subcommand and --out. */
export const cases: readonly BadInputCase[] = [
  { name: 'no subcommand', argv: ['docs'], exit: 2, message: 'expected "build", got nothing' },
  { name: 'an unknown subcommand', argv: ['docs', 'publish'], exit: 2, message: 'expected "build", got "publish"' },
  { name: 'an unknown flag', argv: ['docs', 'build', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'an extra argument', argv: ['docs', 'build', 'now', '--out', '{dir}/out'], exit: 2, message: 'docs build takes no arguments, got "now"' },
  { name: '--out /proc/forbidden fails at once (Node 20 mkdir -p spins forever there)', argv: ['docs', 'build', '--out', '/proc/forbidden'], exit: 2, message: 'Cannot create the --out folder /proc/forbidden', deadlineMs: 10_000 },
  { name: "--out ''", argv: ['docs', 'build', '--out', ''], exit: 2, message: '--out must name a folder, got ""' },
  { name: '--out without a value', argv: ['docs', 'build', '--out'], exit: 2, message: "Option '--out <value>' argument missing" },
  { name: '--out naming a file', argv: ['docs', 'build', '--out', '{dir}/file'], files: { file: '' }, exit: 2, message: 'Cannot use {dir}/file for the --out folder' },
  { name: '--out where a page is a folder: nothing is written', argv: ['docs', 'build', '--out', '{dir}'], files: { 'docs/reference/cli.md/keep': '' }, exit: 2, message: 'Cannot write {dir}/docs/reference/cli.md: it is a folder' },
];
