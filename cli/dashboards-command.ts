import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import { dashboardFiles, dashboardQueries } from '@eda-harness/dashboards';
import { writeGeneratedFiles } from '@eda-harness/core';

export const DASHBOARDS_HELP = `Usage: eda-harness dashboards <build|queries> [options]

  build    write the Grafana dashboards (<out>/dashboards/grafana/*.json) for import or file provisioning
  queries  print every panel's PromQL, one per line (dashboard, panel, query)

Options:
  --out <dir>  where dashboards/grafana/ is written (default: the current directory)

Import: Grafana → Dashboards → New → Import → upload a JSON file, then pick your Prometheus
datasource for the \${datasource} variable; or provision the folder (see docker-compose.yml).`;

export async function dashboardsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' } } });
  const [sub] = positionals;
  if (sub === 'build') {
    for (const f of writeGeneratedFiles(values.out ?? process.cwd(), dashboardFiles())) console.log(f);
    return 0;
  }
  if (sub === 'queries') {
    for (const q of dashboardQueries()) console.log(`${q.dashboard}\t${q.panel}\t${q.expr}`);
    return 0;
  }
  throw new ConfigError(`dashboards: expected "build" or "queries", got ${sub === undefined ? 'nothing' : `"${sub}"`}`, { hint: DASHBOARDS_HELP });
}
