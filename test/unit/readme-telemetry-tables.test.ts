import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTelemetryTables } from '../../semconv/telemetry-tables';

/** The README's "Spans emitted" and "Metrics emitted" tables are what semconv.ts declares, verbatim. */
it('README.md carries the telemetry tables generated from instrumentation/semconv.ts', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(readme).toContain(renderTelemetryTables().trim());
});
