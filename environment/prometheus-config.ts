import type { PrometheusOptions } from './types';

/** prometheus.yml for the given scrape targets, rule files and intervals (native and containers providers). */
export function prometheusConfig(options: PrometheusOptions): string {
  const scrape = options.scrapeIntervalSeconds ?? 5;
  const evaluation = options.evaluationIntervalSeconds ?? scrape;
  const targets = options.scrapeTargets ?? [];
  const jobs: [string, readonly string[]][] = Array.isArray(targets)
    ? [['eda', targets as readonly string[]]]
    : Object.entries(targets as Readonly<Record<string, readonly string[]>>);
  const lines = [
    'global:',
    `  scrape_interval: ${scrape}s`,
    `  evaluation_interval: ${evaluation}s`,
  ];
  if (options.ruleFiles && options.ruleFiles.length > 0) {
    lines.push('rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`));
  }
  lines.push('scrape_configs:');
  for (const [job, list] of jobs) {
    lines.push(`  - job_name: ${JSON.stringify(job)}`, '    static_configs:', `      - targets: [${list.map((t) => JSON.stringify(t)).join(', ')}]`);
  }
  if (jobs.length === 0) lines.push('  []');
  return `${lines.join('\n')}\n`;
}
