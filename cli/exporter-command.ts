import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import { EXPORTER_FLAGS, exporterOptionsHelp, mergeSettings, settingName, settingsFromEnv, settingsFromFile, settingsFromStrings, splitList, toExporterConfig } from '@eda-harness/exporter';
import type { ExporterSettingKey, ExporterSettings, MetricsServer, SettingsSource } from '@eda-harness/exporter';
import { configuredTargets, consoleLogger, createExporter } from '@eda-harness/exporter';
import { serveMetrics } from '@eda-harness/exporter';
import { untilSignal } from './env-command';

export const EXPORTER_HELP = `Usage: eda-harness exporter [options]

Polls Kafka and RabbitMQ for consumer lag, dead-letter queues and queue depth, and serves the
result for Prometheus on /metrics (health on /healthz). Collections run on their own interval;
a scrape returns the last result at once.

${exporterOptionsHelp({
  Options: [
    '  --config <file>                   JSON settings file (env EDA_EXPORTER_CONFIG)',
    '  --once                            collect once, print the metrics and exit (0 when every target is up)',
  ],
})}

Precedence: flags, then environment variables (EDA_EXPORTER_*), then the config file, then defaults.

Example:
  eda-harness exporter --kafka-brokers localhost:9092 --rabbitmq-management-url http://guest:guest@localhost:15672 --port 9464`;

/**
 * Flags that exist only to be refused with a useful message: a secret on the command line is
 * readable by every user of the machine (ps, /proc) and lands in shell history.
 */
const REFUSED_FLAGS: Readonly<Record<string, { readonly message: string; readonly hint: string }>> = {
  'kafka-sasl-password': {
    message: '--kafka-sasl-password is refused: a password on the command line is visible to every user of the machine (ps) and kept in shell history',
    hint: 'Put the password in a file readable only by the exporter and pass --kafka-sasl-password-file <file> (or KAFKA_SASL_PASSWORD_FILE), or set KAFKA_SASL_PASSWORD.',
  },
};

type FlagValues = Partial<Record<ExporterSettingKey, string | string[]>>;

/** parseArgs over the flags EXPORTER_FLAGS knows, plus --config and --once; unknown flags throw. */
function parseFlags(argv: string[]): { values: FlagValues; config: string | undefined; once: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { config: { type: 'string' }, once: { type: 'boolean' } };
  for (const [flag, spec] of Object.entries(EXPORTER_FLAGS)) options[flag] = spec.repeatable ? { type: 'string', multiple: true } : { type: 'string' };
  for (const flag of Object.keys(REFUSED_FLAGS)) options[flag] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true });
  for (const [flag, refusal] of Object.entries(REFUSED_FLAGS)) if (values[flag] !== undefined) throw new ConfigError(refusal.message, { hint: refusal.hint });
  const bySetting: FlagValues = {};
  for (const [flag, spec] of Object.entries(EXPORTER_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string' || Array.isArray(value)) bySetting[spec.setting] = value as string | string[];
  }
  return { values: bySetting, config: values['config'] as string | undefined, once: values['once'] === true };
}

/**
 * Which setting each flag sets, values converted but not checked (`--port x` gives port NaN): the
 * reference page maps flags to settings with it. The command reads its flags with
 * {@link readExporterFlags}, which refuses bad values.
 */
export function settingsFromFlags(argv: string[]): { settings: ExporterSettings; config: string | undefined; once: boolean } {
  const { values, config, once } = parseFlags(argv);
  const kinds = new Map(Object.values(EXPORTER_FLAGS).map((f) => [f.setting, f.kind]));
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values) as [ExporterSettingKey, string | string[]][]) {
    const kind = kinds.get(key);
    if (kind === 'list') settings[key] = (Array.isArray(value) ? value : [value]).flatMap(splitList);
    else settings[key] = kind === 'number' ? Number(value) : value;
  }
  return { settings: settings as ExporterSettings, config, once };
}

/** The flags, each value checked: a bad one is a ConfigError naming the flag (`--port must be …`). */
export function readExporterFlags(argv: string[]): { settings: ExporterSettings; config: string | undefined; once: boolean } {
  const { values, config, once } = parseFlags(argv);
  if (config !== undefined && config.trim() === '') throw new ConfigError(`--config must be a file name (got ${JSON.stringify(config)})`);
  return { settings: settingsFromStrings(values, 'flags'), config, once };
}

interface Layer {
  readonly source: SettingsSource;
  readonly settings: ExporterSettings;
}

export async function exporterCommand(argv: string[]): Promise<number> {
  const flags = readExporterFlags(argv);
  const envFile = process.env['EDA_EXPORTER_CONFIG'];
  const file = flags.config !== undefined ? { path: flags.config, via: '--config' } : envFile ? { path: envFile, via: 'EDA_EXPORTER_CONFIG' } : undefined;
  const layers: Layer[] = [
    { source: 'flags', settings: flags.settings },
    { source: 'env', settings: settingsFromEnv(process.env) },
    ...(file ? [{ source: { file: file.path }, settings: settingsFromFile(file.path, file.via) }] : []),
  ];
  const { config, port, host } = toExporterConfig(mergeSettings(...layers.map((l) => l.settings)));
  /** Where the value in use came from, in the user's words (for the messages of a failed listen). */
  const nameOf = (key: ExporterSettingKey): string => {
    const layer = layers.find((l) => l.settings[key] !== undefined);
    return layer ? settingName(key, layer.source) : `the default ${key}`;
  };
  const exporter = createExporter({ config, logger: consoleLogger });

  if (flags.once) {
    await exporter.collectNow();
    process.stdout.write(await exporter.metrics());
    await exporter.stop();
    return exporter.health().every((h) => h.up) ? 0 : 1;
  }

  let server: MetricsServer;
  try {
    server = await serveMetrics({ exporter, port, host, settingNames: { port: nameOf('port'), host: nameOf('host') } });
  } catch (err) {
    await exporter.stop();
    throw err;
  }
  exporter.start();
  const named = configuredTargets(config);
  const targets = [
    ...named.kafka.map((t) => `Kafka ${t.name} (${t.config.brokers.join(',')})`),
    ...named.rabbitmq.map((t) => `RabbitMQ ${t.name}`),
  ].join(', ');
  consoleLogger.info(`exporting ${targets} on ${server.url}/metrics (every ${config.intervalSeconds ?? 15} s)`);
  const signal = await untilSignal();
  consoleLogger.info(`${signal}: stopping`);
  await server.close();
  await exporter.stop();
  return 0;
}
