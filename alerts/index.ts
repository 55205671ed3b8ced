export { alertPack, duration, runbookAnchor, runbookUrl } from './alert-rules';
export type { AlertRule, RecordingRule, RuleGroup, Severity } from './alert-rules';
export { alertFiles, prometheusRuleFile, grafanaRuleFile } from './alert-files';
export type { PrometheusRuleFile } from './alert-files';
export { DEFAULT_ALERTS_CONFIG, resolveAlertsConfig, loadAlertsConfig } from './alerts-config';
export type { AlertsConfig, AlertThresholds, GrafanaAlertingConfig } from './alerts-config';
