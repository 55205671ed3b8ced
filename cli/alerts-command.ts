import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import { alertFiles } from '@eda-harness/alerts';
import { DEFAULT_ALERTS_CONFIG, loadAlertsConfig } from '@eda-harness/alerts';
import { alertPack } from '@eda-harness/alerts';
import { writeGeneratedFiles } from '@eda-harness/core';
import { checkOutputFolder } from './output-folder';

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
  const [sub, ...extra] = positionals;
  if (sub !== 'build' && sub !== 'list') {
    throw new ConfigError(`expected "build" or "list", got ${sub === undefined ? 'nothing' : `"${sub}"`}`, { hint: ALERTS_HELP });
  }
  if (extra.length > 0) throw new ConfigError(`alerts ${sub} takes no arguments, got "${extra.join('" "')}"`, { hint: 'see `eda-harness alerts --help`' });
  if (values.config?.trim() === '') throw new ConfigError('--config must name a JSON file, got ""', { hint: '`eda-harness alerts --defaults` prints every key and its default' });
  const config = values.config === undefined ? DEFAULT_ALERTS_CONFIG : loadAlertsConfig(values.config);
  if (sub === 'build') {
    const files = alertFiles(config);
    const written = writeGeneratedFiles(checkOutputFolder(values.out, files), files);
    for (const f of written) console.log(f);
    return 0;
  }
  if (values.out !== undefined) throw new ConfigError('--out is for `alerts build`; `alerts list` prints to stdout', { hint: 'see `eda-harness alerts --help`' });
  for (const group of alertPack(config)) {
    for (const r of group.alertRules) console.log(`${r.alert} [${r.severity}, for ${r.for}] ${r.expr}`);
    for (const r of group.recordingRules) console.log(`${r.record} (recording) ${r.expr}`);
  }
  return 0;
}

