import { Gauge } from 'prom-client';
import type { Registry, RegistryContentType } from 'prom-client';
import { RESOURCE_LABEL, SERVICE_INFO_METRIC } from '../shared/vocabulary';

/**
 * `eda_service_info{service_name="…"} 1` in a registry: the service name the dashboards join onto
 * the instrumentation's series by scrape target. One series, set once; no other metric of the
 * registry is touched, so a registry the application also uses keeps its metrics as they are.
 */

/** Marks the info gauge, shared by every copy of this package in a process (see shared/metrics.ts). */
const OWNED = Symbol.for('eda-harness.instrumentation.service-info.v1');

interface OwnedGauge {
  /** Whoever registered the name last; only they remove the series. */
  owner: object;
}

/**
 * The `service.name` spans carry, by OpenTelemetry's rules: what the environment detector found
 * (OTEL_SERVICE_NAME, else `service.name` in OTEL_RESOURCE_ATTRIBUTES) over the code's value.
 */
export function serviceNameFrom(codeName: string, detected: Readonly<Record<string, unknown>>): string {
  const fromEnv = detected['service.name'];
  return typeof fromEnv === 'string' && fromEnv.trim() !== '' ? fromEnv : codeName;
}

/** The detected `service.name` through the SDK's own environment detector, so metrics and spans agree. */
export function resolveServiceName(codeName: string): string {
  // Loaded on demand like the trace pipeline (see trace-pipeline.ts): @opentelemetry/sdk-node is an optional peer.
  const { resources } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const detected = resources.envDetector.detect();
  return serviceNameFrom(codeName, detected.attributes ?? {});
}

/**
 * Writes the info series for `serviceName` into `registry` and returns what removes it. A second
 * call on the same registry replaces the series (one process, one service name: two series on one
 * target would make the dashboards' join ambiguous); removing an info series another call replaced
 * since does nothing.
 */
export function registerServiceInfo(registry: Registry<RegistryContentType>, serviceName: string): () => void {
  if (serviceName.trim() === '') {
    throw new Error(`${SERVICE_INFO_METRIC.name}: the service name is empty. Pass startTelemetry a serviceName or set OTEL_SERVICE_NAME (serviceInfo: false writes no info series).`);
  }
  type InfoGauge = Gauge<string> & { [OWNED]?: OwnedGauge };
  const found = registry.getSingleMetric(SERVICE_INFO_METRIC.name) as InfoGauge | undefined;
  if (found && !found[OWNED]) {
    throw new Error(
      `${SERVICE_INFO_METRIC.name}: the registry already holds a metric of that name that eda-harness did not register. Rename that metric, or pass startTelemetry serviceInfo: false (the dashboards then name services by the scrape job).`,
    );
  }
  const gauge: InfoGauge = found ?? new Gauge({ name: SERVICE_INFO_METRIC.name, help: SERVICE_INFO_METRIC.help, labelNames: [RESOURCE_LABEL.SERVICE_NAME], registers: [registry] });
  const state: OwnedGauge = gauge[OWNED] ?? { owner: {} };
  if (!found) Object.defineProperty(gauge, OWNED, { value: state, enumerable: false });
  const owner = {};
  state.owner = owner;
  gauge.reset();
  gauge.set({ [RESOURCE_LABEL.SERVICE_NAME]: serviceName }, 1);
  return () => {
    if (state.owner === owner && registry.getSingleMetric(SERVICE_INFO_METRIC.name) === gauge) registry.removeSingleMetric(SERVICE_INFO_METRIC.name);
  };
}
