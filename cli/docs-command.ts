import { parseArgs } from 'node:util';
import { ConfigError, writeGeneratedFiles } from '@eda-harness/core';
import { checkOutputFolder } from './output-folder';
import { referencePages } from './reference-pages';

export const DOCS_HELP = `Usage: eda-harness docs build [options]

  build    write the reference pages generated from the code:
             docs/reference/telemetry.md         spans and metrics (from @eda-harness/semconv)
             docs/reference/cli.md               every command's --help
             docs/reference/exporter-options.md  the exporter's flags, environment variables, defaults

Options:
  --out <dir>  where docs/reference/ is written (default: the current directory, meant to be the
               repository root)

A unit test (test/unit/docs/reference-pages.test.ts) fails when a committed page differs from
what the code generates; from a checkout, \`npm run docs:build\` rebuilds and rewrites them.`;

export async function docsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' } } });
  const [sub, ...extra] = positionals;
  if (sub === 'build') {
    if (extra.length > 0) throw new ConfigError(`docs build takes no arguments, got "${extra.join('" "')}"`, { hint: 'see `eda-harness docs --help`' });
    const files = referencePages();
    for (const f of writeGeneratedFiles(checkOutputFolder(values.out, files), files)) console.log(f);
    return 0;
  }
  throw new ConfigError(`expected "build", got ${sub === undefined ? 'nothing' : `"${sub}"`}`, { hint: DOCS_HELP });
}
