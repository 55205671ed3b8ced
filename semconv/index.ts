/**
 * The telemetry vocabulary of eda-harness, declared once.
 *
 * Every span name pattern, span attribute, header name, metric name, label name and bucket list
 * used by the instrumentation, the exporter, the dashboards and the alert rules comes from this
 * package. A name that is not here does not exist: dashboards and alerts are checked against
 * {@link METRICS}, and docs/reference/telemetry.md is printed from it (`renderTelemetryTables`).
 *
 * Attribute names follow the OpenTelemetry messaging semantic conventions v1.44. They are copied
 * here rather than imported from `@opentelemetry/semantic-conventions/incubating` because the
 * messaging conventions are still "Development": a rename upstream must not silently change what
 * our dashboards query.
 */

export * from './attributes';
export * from './span-names';
export * from './headers';
export * from './metrics';
export * from './spans';
export * from './service-info';
export * from './bucket-bound';
export { renderTelemetryTables } from './telemetry-tables';
