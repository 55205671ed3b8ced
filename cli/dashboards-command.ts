import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import { dashboardFiles, dashboardQueries } from '@eda-harness/dashboards';
import { writeGeneratedFiles } from '@eda-harness/core';
import { checkOutputFolder } from './output-folder';

export const DASHBOARDS_HELP = `Usage: eda-harness dashboards <build|queries> [options]

  build    write the Grafana dashboards (<out>/dashboards/grafana/*.json) for import or file provisioning
  queries  print every panel's PromQL, one per line (dashboard, panel, query)

Options:
  --out <dir>  where dashboards/grafana/ is written (default: the current directory)

Import: Grafana → Dashboards → New → Import → upload a JSON file, then pick your Prometheus
datasource for the \${datasource} variable; or provision the folder (see docker-compose.yml).`;

export async function dashboardsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' } } });
  const [sub, ...extra] = positionals;
  if ((sub === 'build' || sub === 'queries') && extra.length > 0) {
    throw new ConfigError(`dashboards ${sub} takes no arguments, got "${extra.join('" "')}"`, { hint: 'see `eda-harness dashboards --help`' });
  }
  if (sub === 'build') {
    const files = dashboardFiles();
    for (const f of writeGeneratedFiles(checkOutputFolder(values.out, files), files)) console.log(f);
    return 0;
  }
  if (sub === 'queries') {
    if (values.out !== undefined) throw new ConfigError('--out is for `dashboards build`; `dashboards queries` prints to stdout', { hint: 'see `eda-harness dashboards --help`' });
    for (const q of dashboardQueries()) console.log(`${q.dashboard}\t${q.panel}\t${q.expr}`);
    return 0;
  }
  throw new ConfigError(`expected "build" or "queries", got ${sub === undefined ? 'nothing' : `"${sub}"`}`, { hint: DASHBOARDS_HELP });
}
