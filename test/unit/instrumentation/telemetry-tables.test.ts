import { METRICS, SPANS, renderTelemetryTables } from '../../../semconv/index';

describe('README telemetry tables', () => {
  it('list every declared metric with its labels and every span, straight from @eda-harness/semconv', () => {
    const text = renderTelemetryTables();
    for (const m of METRICS) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
      expect(row).toBeDefined();
      for (const label of m.labels) expect(row).toContain(`\`${label}\``);
    }
    for (const s of SPANS) expect(text).toContain(`| \`${s.name}\` | ${s.kind} |`);
    expect(text).toContain('### Spans emitted');
    expect(text).toContain('### Metrics emitted');
  });
});
