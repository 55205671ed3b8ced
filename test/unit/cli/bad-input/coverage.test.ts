import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES } from '../../../../cli/exit-codes';
import { listedCommands } from '../../../../cli/reference-pages';
import { main } from '../../../../cli/main';
import { captureConsole } from '../../../support/console-capture';
import type { BadInputCase } from '../../../support/bad-input';

/**
 * The bad-input suite grows with the CLI: every command has a cases file, every flag its help
 * names is tried by at least one case, and every expected exit code is one the command documents
 * (cli/exit-codes.ts, printed in docs/reference/cli.md).
 */
const casesByCommand = new Map<string, readonly BadInputCase[]>(
  readdirSync(__dirname)
    .filter((f) => f.endsWith('.cases.ts'))
    .map((f) => [f.replace(/\.cases\.ts$/, ''), (require(join(__dirname, f)) as { cases: readonly BadInputCase[] }).cases]),
);

async function help(command: string): Promise<string> {
  const c = captureConsole();
  try {
    await main([command, '--help']);
    return c.out.join('\n');
  } finally {
    c.restore();
  }
}

it('every command has a bad-input cases file', () => {
  expect(listedCommands().filter((c) => !casesByCommand.has(c))).toEqual([]);
});

it.each(listedCommands())('every flag of `%s --help` is tried by a bad-input case', async (command) => {
  const flags = new Set([...(await help(command)).matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => `--${m[1]}`));
  flags.delete('--help');
  const tried = new Set((casesByCommand.get(command) ?? []).flatMap((c) => c.argv.map((a) => a.split('=')[0] as string)));
  expect([...flags].filter((f) => !tried.has(f))).toEqual([]);
});

it('every expected exit code is documented for its command', () => {
  const undocumented: string[] = [];
  for (const [command, cases] of casesByCommand) {
    const documented = { ...EXIT_CODES['(any)'], ...(command === 'main' ? {} : EXIT_CODES[command]) };
    for (const c of cases) if (!(c.exit in documented)) undocumented.push(`${command}: "${c.name}" expects exit ${c.exit}`);
  }
  expect(undocumented).toEqual([]);
});
