import { parseArgs } from 'node:util';
import { mergeSettings, settingsFromEnv, settingsFromFile, splitList, toExporterConfig } from '@eda-harness/exporter';
import type { ExporterSettings } from '@eda-harness/exporter';
import { consoleLogger, createExporter } from '@eda-harness/exporter';
import { serveMetrics } from '@eda-harness/exporter';
import type { Granularity } from '@eda-harness/exporter';
import { untilSignal } from './env-command';

export const EXPORTER_HELP = `Usage: eda-harness exporter [options]

Polls Kafka and RabbitMQ for consumer lag, dead-letter queues and queue depth, and serves the
result for Prometheus on /metrics (health on /healthz). Collections run on their own interval;
a scrape returns the last result at once.

Targets (at least one):
  --kafka-brokers <list>            host:port,… (env KAFKA_BROKERS)
  --rabbitmq-management-url <url>   http://user:pass@host:15672 (env RABBITMQ_MANAGEMENT_URL)
  --amqp-url <url>                  amqp://… used when the management API is unavailable (env AMQP_URL)

Options:
  --config <file>                   JSON settings file (env EDA_EXPORTER_CONFIG)
  --port <n>                        HTTP port (default 9464; env EDA_EXPORTER_PORT)
  --host <addr>                     listen address (default 0.0.0.0; env EDA_EXPORTER_HOST)
  --interval <s>                    seconds between collections (default 15)
  --granularity <partition|topic>   series per partition (default) or per topic
  --status-window <s>               consumer status window in seconds (default 600)
  --group-allow / --group-deny <glob>   consumer groups to include / exclude (repeatable, * wildcard)
  --topic-allow / --topic-deny <glob>   topics
  --queue-allow / --queue-deny <glob>   RabbitMQ queues (literal allow names are also what AMQP checks)
  --kafka-dlq-pattern <glob>        dead-letter topic pattern (repeatable; default *.dlq *-dlq dlq.* *.DLT)
  --rabbitmq-dlq-pattern <glob>     dead-letter queue name pattern (besides x-dead-letter-exchange topology)
  --vhost <name>                    only this RabbitMQ vhost
  --once                            collect once, print the metrics and exit (0 when every target is up)

Precedence: flags, then environment variables (EDA_EXPORTER_*), then the config file, then defaults.

Example:
  eda-harness exporter --kafka-brokers localhost:9092 --rabbitmq-management-url http://guest:guest@localhost:15672 --port 9464`;

const repeatable = { type: 'string', multiple: true } as const;

export function settingsFromFlags(argv: string[]): { settings: ExporterSettings; config: string | undefined; once: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'kafka-brokers': { type: 'string' },
      'amqp-url': { type: 'string' },
      'rabbitmq-management-url': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      interval: { type: 'string' },
      granularity: { type: 'string' },
      'status-window': { type: 'string' },
      'group-allow': repeatable,
      'group-deny': repeatable,
      'topic-allow': repeatable,
      'topic-deny': repeatable,
      'queue-allow': repeatable,
      'queue-deny': repeatable,
      'kafka-dlq-pattern': repeatable,
      'rabbitmq-dlq-pattern': repeatable,
      vhost: { type: 'string' },
      once: { type: 'boolean' },
    },
    strict: true,
  });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const list = (v: string[] | undefined): string[] | undefined => (v === undefined ? undefined : v.flatMap(splitList));
  const raw: Record<string, unknown> = {
    kafkaBrokers: values['kafka-brokers'] === undefined ? undefined : splitList(values['kafka-brokers']),
    amqpUrl: values['amqp-url'],
    managementUrl: values['rabbitmq-management-url'],
    port: num(values.port),
    host: values.host,
    intervalSeconds: num(values.interval),
    granularity: values.granularity as Granularity | undefined,
    statusWindowSeconds: num(values['status-window']),
    groupAllow: list(values['group-allow']),
    groupDeny: list(values['group-deny']),
    topicAllow: list(values['topic-allow']),
    topicDeny: list(values['topic-deny']),
    queueAllow: list(values['queue-allow']),
    queueDeny: list(values['queue-deny']),
    kafkaDlqPatterns: list(values['kafka-dlq-pattern']),
    rabbitmqDlqPatterns: list(values['rabbitmq-dlq-pattern']),
    vhost: values.vhost,
  };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  return { settings: raw as ExporterSettings, config: values.config, once: values.once ?? false };
}

export async function exporterCommand(argv: string[]): Promise<number> {
  const flags = settingsFromFlags(argv);
  const file = flags.config ?? process.env['EDA_EXPORTER_CONFIG'];
  const merged = mergeSettings(flags.settings, settingsFromEnv(process.env), file ? settingsFromFile(file) : {});
  const { config, port, host } = toExporterConfig(merged);
  const exporter = createExporter({ config, logger: consoleLogger });

  if (flags.once) {
    await exporter.collectNow();
    process.stdout.write(await exporter.registry.metrics());
    await exporter.stop();
    return exporter.health().every((h) => h.up) ? 0 : 1;
  }

  const server = await serveMetrics({ exporter, port, host });
  exporter.start();
  const targets = [config.kafka ? `Kafka ${config.kafka.brokers.join(',')}` : undefined, config.rabbitmq ? 'RabbitMQ' : undefined]
    .filter(Boolean)
    .join(' and ');
  consoleLogger.info(`exporting ${targets} on ${server.url}/metrics (every ${config.intervalSeconds ?? 15} s)`);
  const signal = await untilSignal();
  consoleLogger.info(`${signal}: stopping`);
  await server.close();
  await exporter.stop();
  return 0;
}
