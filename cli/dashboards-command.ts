import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import { dashboardFiles, dashboardQueries, resolveDashboardOptions } from '@eda-harness/dashboards';
import type { DashboardOptions } from '@eda-harness/dashboards';
import { writeGeneratedFiles } from '@eda-harness/core';
import { checkOutputFolder } from './output-folder';

export const DASHBOARDS_HELP = `Usage: eda-harness dashboards <build|queries> [options]

  build    write the Grafana dashboards (<out>/dashboards/grafana/*.json) for import or file provisioning
  queries  print every panel's PromQL, one per line (dashboard, panel, query)

Options:
  --out <dir>              where dashboards/grafana/ is written (default: the current directory)
  --cluster-label <name>   the label naming the cluster on the exporter's series: the exporter's
                           --cluster-label (default cluster)
  --partition-topk <n>     per-partition panels show the n partitions with the highest value at
                           each step (1 to 1000, default 20)
  --abandoned-after <d>    a group STOP for this long (a Prometheus duration, default 1h) leaves
                           the worst-lag panels and is counted as abandoned

Import: Grafana → Dashboards → New → Import → upload a JSON file, then pick your Prometheus
datasource for the \${datasource} variable; or provision the folder (see docker-compose.yml).`;

export async function dashboardsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, 'cluster-label': { type: 'string' }, 'partition-topk': { type: 'string' }, 'abandoned-after': { type: 'string' } },
  });
  const options = dashboardOptionsFromFlags(values);
  const [sub, ...extra] = positionals;
  if ((sub === 'build' || sub === 'queries') && extra.length > 0) {
    throw new ConfigError(`dashboards ${sub} takes no arguments, got "${extra.join('" "')}"`, { hint: 'see `eda-harness dashboards --help`' });
  }
  if (sub === 'build') {
    const files = dashboardFiles(options);
    for (const f of writeGeneratedFiles(checkOutputFolder(values.out, files), files)) console.log(f);
    return 0;
  }
  if (sub === 'queries') {
    if (values.out !== undefined) throw new ConfigError('--out is for `dashboards build`; `dashboards queries` prints to stdout', { hint: 'see `eda-harness dashboards --help`' });
    for (const q of dashboardQueries(options)) console.log(`${q.dashboard}\t${q.panel}\t${q.expr}`);
    return 0;
  }
  throw new ConfigError(`expected "build" or "queries", got ${sub === undefined ? 'nothing' : `"${sub}"`}`, { hint: DASHBOARDS_HELP });
}

/** The dashboard options from the flags, each checked by the dashboards' own rules and refused naming its flag. */
function dashboardOptionsFromFlags(values: { 'cluster-label'?: string; 'partition-topk'?: string; 'abandoned-after'?: string }): DashboardOptions {
  const check = (flag: string, given: string, option: DashboardOptions): DashboardOptions => {
    try {
      resolveDashboardOptions(option);
    } catch (err) {
      const rule = (err instanceof Error ? err.message : String(err)).replace(/^dashboards: \w+ /, '').replace(/, got .*$/, '');
      throw new ConfigError(`${flag} ${rule} (got "${given}")`, { hint: 'see `eda-harness dashboards --help`' });
    }
    return option;
  };
  let options: DashboardOptions = {};
  const label = values['cluster-label'];
  if (label !== undefined) options = { ...options, ...check('--cluster-label', label, { clusterLabel: label }) };
  const topk = values['partition-topk'];
  if (topk !== undefined) options = { ...options, ...check('--partition-topk', topk, { partitionTopK: /^\d+$/.test(topk) ? Number(topk) : Number.NaN }) };
  const after = values['abandoned-after'];
  if (after !== undefined) options = { ...options, ...check('--abandoned-after', after, { abandonedAfter: after }) };
  return options;
}
