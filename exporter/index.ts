export { createExporter, registerExporter, consoleLogger, silentLogger } from './exporter';
export type { Exporter, ExporterDeps, ExporterLogger } from './exporter';
export { serveMetrics, MetricsServerError, listenError } from './metrics-server';
export type { MetricsServer, MetricsServerOptions } from './metrics-server';
export {
  splitList,
  mergeSettings,
  settingsFromEnv,
  settingsFromFile,
  settingsFromFileText,
  settingsFromStrings,
  settingName,
  settingDescription,
  toExporterConfig,
  checkExporterConfig,
  checkKafkaSecurity,
  configuredTargets,
  readSecretFile,
  EXPORTER_ENV,
  EXPORTER_FLAGS,
  exporterOptionsHelp,
  HELP_SECTIONS,
  DEFAULT_PORT,
  DEFAULT_HOST,
  DEFAULT_CLUSTER_LABEL,
  DEFAULT_CLUSTER_NAME,
} from './config';
export type { NamedTarget, FlatSettings, ExporterSettings, ExporterSettingKey, ExporterFlagSpec, SettingsSource, ResolvedExporterSettings, HelpSection } from './config';
export { INTERVAL_SECONDS, STATUS_WINDOW_SECONDS, MAX_TIMER_SECONDS } from './setting-rules';
export { DEFAULT_KAFKA_DLQ_PATTERNS, createSecuredKafkaClient, kafkaSecurityOptions, explainKafkaFailure } from './kafka/collector';
export { DEFAULT_RABBITMQ_DLQ_PATTERNS } from './rabbitmq/collector';
export type { TargetHealth } from './render-samples';
export type * from './types';
