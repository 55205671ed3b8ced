import type { Registry } from 'prom-client';

/** Sum of the samples of `name` whose labels include `labels` (e.g. a counter or a histogram's _count). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}, sampleName?: string): Promise<number> {
  const all = await registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === name || m.name === name.replace(/_total$/, ''));
  if (!metric) return 0;
  let sum = 0;
  for (const v of metric.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>) {
    if (sampleName !== undefined && v.metricName !== sampleName) continue;
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
  }
  return sum;
}
