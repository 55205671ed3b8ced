import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG } from '../../../alerts/alerts-config';
import { allDashboards } from '../../../dashboards/dashboard-files';
import { ensureDockerCompose, ensurePrometheus } from '../../../environment/index';

// docker-compose.yml is validated, never started: there is no Docker engine on these machines.
const root = resolve(__dirname, '..', '..', '..');
const composeFile = join(root, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

describe('docker-compose.yml', () => {
  let dockerCompose: string;
  beforeAll(async () => {
    dockerCompose = await ensureDockerCompose();
  });

  it('validates with `docker-compose config -q` (no engine needed)', () => {
    const res = spawnSync(dockerCompose, ['-f', composeFile, 'config', '-q'], { cwd: root, encoding: 'utf8' });
    expect({ code: res.status, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('`docker-compose config -q` does fail on a broken file (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-compose-'));
    try {
      writeFileSync(join(dir, 'docker-compose.yml'), readFileSync(composeFile, 'utf8').replace('    image: prom/prometheus:v2.55.1\n', '    image: prom/prometheus:v2.55.1\n    restart_policy_typo: always\n'));
      const res = spawnSync(dockerCompose, ['-f', join(dir, 'docker-compose.yml'), 'config', '-q'], { cwd: dir, encoding: 'utf8' });
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain('restart_policy_typo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has every service of the whole picture', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alertmanager', 'exporter', 'grafana', 'jaeger', 'kafka', 'otel-collector', 'prometheus', 'rabbitmq', 'reference-system', 'toxiproxy'].sort(),
    );
    expect(services['kafka']!.environment!['KAFKA_PROCESS_ROLES']).toBe('broker,controller'); // KRaft, no ZooKeeper
    expect(services['rabbitmq']!.image).toMatch(/-management$/);
    expect(services['exporter']!.command![0]).toBe('exporter');
    expect(services['reference-system']!.command![0]).toBe('start');
  });

  it('every file or folder it mounts or builds from exists', () => {
    const mounted: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (!host.startsWith('.') && !isAbsolute(host)) continue; // named volume
        mounted.push(host);
        expect({ service: name, mount: host, exists: existsSync(join(root, host)) }).toEqual({ service: name, mount: host, exists: true });
      }
      if (s.build) {
        expect(existsSync(join(root, s.build.context, s.build.dockerfile))).toBe(true);
      }
    }
    expect(mounted).toEqual(expect.arrayContaining(['./alerts/prometheus', './dashboards/grafana', './deploy/prometheus/prometheus.yml']));
    // One rule format only: Grafana-managed copies beside Prometheus's rules fire every alert twice.
    expect(mounted).not.toContain('./alerts/grafana');
    expect(statSync(join(root, 'alerts/prometheus')).isDirectory()).toBe(true);
  });

  it('Prometheus loads the rule files and scrapes the exporter under the job name the alerts expect (promtool check config)', async () => {
    const { promtool } = await ensurePrometheus();
    const dir = mkdtempSync(join(tmpdir(), 'eda-compose-prom-'));
    try {
      // The container paths, mapped to the repository, so promtool can open every rule file.
      const config = readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8').replace('/etc/prometheus/rules/', `${join(root, 'alerts/prometheus')}/`);
      writeFileSync(join(dir, 'prometheus.yml'), config);
      const res = spawnSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      const out = res.stdout + res.stderr;
      expect({ code: res.status, out }).toEqual({ code: 0, out: expect.stringContaining(`SUCCESS: ${alertPack(DEFAULT_ALERTS_CONFIG).length} rule files found`) });
      const rules = [...out.matchAll(/SUCCESS: (\d+) rules found/g)].reduce((n, m) => n + Number(m[1]), 0);
      expect(rules).toBe(alertPack(DEFAULT_ALERTS_CONFIG).reduce((n, g) => n + g.alertRules.length + g.recordingRules.length, 0));
      const jobs = (parse(config) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((j) => j.job_name);
      expect(jobs).toContain(DEFAULT_ALERTS_CONFIG.exporterJob);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Grafana gets the datasource uid the alert rules query, exemplar links to Jaeger, and the dashboards folder', () => {
    const ds = parse(readFileSync(join(root, 'deploy/grafana/provisioning/datasources/datasources.yml'), 'utf8')) as {
      datasources: { uid: string; type: string; jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] } }[];
    };
    const prom = ds.datasources.find((d) => d.type === 'prometheus')!;
    expect(prom.uid).toBe(DEFAULT_ALERTS_CONFIG.grafana.datasourceUid);
    const jaeger = ds.datasources.find((d) => d.type === 'jaeger')!;
    expect(prom.jsonData?.exemplarTraceIdDestinations).toEqual([{ name: 'trace_id', datasourceUid: jaeger.uid }]);
    const providers = parse(readFileSync(join(root, 'deploy/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const grafanaMounts = services['grafana']!.volumes!;
    expect(grafanaMounts).toContain(`./dashboards/grafana:${providers.providers[0]!.options.path}:ro`);
    const home = services['grafana']!.environment!['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']!;
    expect([...allDashboards().keys()].map((n) => `${providers.providers[0]!.options.path}/${n}.json`)).toContain(home);
  });
});
