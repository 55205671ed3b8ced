import { spawnSync } from 'node:child_process';
import { lstatSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusRuleLabels, prometheusRuleResource } from '../../../alerts/alert-files';
import { DEFAULT_ALERTS_CONFIG, type AlertsConfig } from '../../../alerts/alerts-config';

/**
 * The Helm chart carries the generated alert pack and dashboards through symbolic links
 * (files/prometheus-rule.yml → alerts/kubernetes/prometheus-rule.yml, files/dashboards →
 * dashboards/grafana): what `alerts build` / `dashboards build` write is what the chart ships, with
 * no copy to keep in step. `helm package` stores the linked content.
 */
const root = join(__dirname, '..', '..', '..');
const files = join(root, 'deploy', 'helm', 'eda-harness-exporter', 'files');

describe('the Helm chart files', () => {
  it.each([
    ['prometheus-rule.yml', 'alerts/kubernetes/prometheus-rule.yml'],
    ['dashboards', 'dashboards/grafana'],
  ])('files/%s is a symbolic link to the generated %s, committed as one', (name, target) => {
    const path = join(files, name);
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
    expect(realpathSync(path)).toBe(realpathSync(join(root, target)));
    // Git keeps it as a link (mode 120000), not as a copy that would go stale.
    const staged = spawnSync('git', ['ls-files', '-s', `deploy/helm/eda-harness-exporter/files/${name}`], { cwd: root, encoding: 'utf8' });
    if (staged.status === 0 && staged.stdout.trim() !== '') expect(staged.stdout).toMatch(/^120000 /);
  });
});

describe('PrometheusRule labels', () => {
  it('are the fixed ones, plus kubernetes.ruleLabels when the alerts config has them', () => {
    expect(prometheusRuleLabels(DEFAULT_ALERTS_CONFIG)).toEqual({ 'app.kubernetes.io/name': 'eda-harness', 'app.kubernetes.io/component': 'alerts' });
    const config = { ...DEFAULT_ALERTS_CONFIG, kubernetes: { ruleLabels: { release: 'kube-prometheus-stack' } } } as AlertsConfig;
    expect(prometheusRuleLabels(config)).toEqual({ 'app.kubernetes.io/name': 'eda-harness', 'app.kubernetes.io/component': 'alerts', release: 'kube-prometheus-stack' });
    expect((prometheusRuleResource(config) as { metadata: { labels: Record<string, string> } }).metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
  });
});
