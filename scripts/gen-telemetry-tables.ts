/**
 * Prints the README's "Spans emitted" and "Metrics emitted" tables from instrumentation/semconv.ts.
 *   node scripts/run-ts.js scripts/gen-telemetry-tables.ts > /tmp/tables.md
 */
import { renderTelemetryTables } from '../instrumentation/telemetry-tables';

process.stdout.write(renderTelemetryTables());
