import { RESOURCE_LABEL } from './attributes';
import type { MetricDefinition } from './metrics';

/**
 * The instrumentation's info series, OpenTelemetry's `target_info` idea under a name of ours:
 * `eda_service_info{service_name="orders"} 1`, one series per process, written once when
 * telemetry starts (no cost per message, no label added to any other metric). Dashboards join it
 * on the scrape target (`* on (job, instance) group_left (service_name)`) to name the service
 * behind the instrumentation's series.
 *
 * Declared apart from METRIC because its label is a resource label (RESOURCE_LABEL), which the
 * metric label vocabulary (LABEL) does not list.
 */
export const SERVICE_INFO_METRIC = {
  name: 'eda_service_info',
  type: 'gauge',
  help: 'Always 1: the OpenTelemetry service.name of the process serving these metrics (OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES, then the serviceName option). Dashboards join it on job and instance to name the service of the instrumentation series.',
  unit: '1',
  labels: [RESOURCE_LABEL.SERVICE_NAME],
  producedBy: 'instrumentation',
} as const satisfies Omit<MetricDefinition, 'labels'> & { readonly labels: readonly string[] };

/** The scrape-target labels the info series is joined on: one process is one target. */
export const SERVICE_INFO_JOIN_LABELS = ['job', 'instance'] as const;
