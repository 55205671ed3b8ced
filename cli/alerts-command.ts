import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import { alertFiles } from '@eda-harness/alerts';
import { DEFAULT_ALERTS_CONFIG, loadAlertsConfig } from '@eda-harness/alerts';
import { alertPack } from '@eda-harness/alerts';
import { writeGeneratedFiles } from '@eda-harness/core';

export const ALERTS_HELP = `Usage: eda-harness alerts <build|list> [options]

  build   write the Prometheus rule files (<out>/alerts/prometheus/*.yml) and the Grafana alert
          provisioning files (<out>/alerts/grafana/*.yml, apiVersion 1)
  list    print every alert with its severity, for: and expression

Options:
  --config <file.json>  thresholds, for: overrides, extra labels, runbook URL, exporter job name,
                        Grafana datasource uid / folder (any subset; the rest keeps its default)
  --out <dir>           where alerts/ is written (default: the current directory)
  --defaults            print the default configuration as JSON and exit

Example:
  echo '{"thresholds":{"kafkaLagSecondsWarning":120},"labels":{"team":"orders"}}' > alerts.json
  eda-harness alerts build --config alerts.json --out ./monitoring`;

export async function alertsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, out: { type: 'string' }, defaults: { type: 'boolean' } },
  });
  if (values.defaults) {
    console.log(JSON.stringify(DEFAULT_ALERTS_CONFIG, null, 2));
    return 0;
  }
  const config = values.config ? loadAlertsConfig(values.config) : DEFAULT_ALERTS_CONFIG;
  const [sub] = positionals;
  if (sub === 'build') {
    const written = writeGeneratedFiles(values.out ?? process.cwd(), alertFiles(config));
    for (const f of written) console.log(f);
    return 0;
  }
  if (sub === 'list') {
    for (const group of alertPack(config)) {
      for (const r of group.alertRules) console.log(`${r.alert} [${r.severity}, for ${r.for}] ${r.expr}`);
      for (const r of group.recordingRules) console.log(`${r.record} (recording) ${r.expr}`);
    }
    return 0;
  }
  throw new ConfigError(`alerts: expected "build" or "list", got ${sub === undefined ? 'nothing' : `"${sub}"`}`, { hint: ALERTS_HELP });
}

