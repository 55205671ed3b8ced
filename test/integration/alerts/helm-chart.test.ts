import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { waitFor } from '../../../core/wait-for';
import { Environment, ensurePrometheus } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { ensureHelm, ensurePromtool3 } from '../../../environment/provision';

/**
 * The exporter's Helm chart (deploy/helm/eda-harness-exporter). There is no Kubernetes here, so
 * what is tested is what can be without a cluster: `helm lint`, `helm template` (with the default
 * values, the SCRAM example and bad values), the rendered resources read as Kubernetes would, the
 * rules of the rendered PrometheusRule through promtool 2 and 3 with every shipped rule test, and
 * the rendered Deployment's container (its args, environment and Secret files, as the kubelet
 * would lay them out) run against a real SCRAM-SHA-512 + TLS Kafka. A live install is not tested.
 */
const root = join(__dirname, '..', '..', '..');
const chart = join(root, 'deploy', 'helm', 'eda-harness-exporter');
const scramValues = join(chart, 'examples', 'values-scram.yaml');
const alertsDir = join(root, 'alerts');
const testFiles = readdirSync(join(alertsDir, 'tests')).filter((f) => f.endsWith('.test.yml'));
const MINIMAL = ['--set', 'config.kafka.brokers[0]=kafka-bootstrap:9092'];

let helmBin = '';
const promtools = new Map<string, string>();

beforeAll(async () => {
  helmBin = await ensureHelm();
  promtools.set('2', (await ensurePrometheus()).promtool);
  promtools.set('3', await ensurePromtool3());
}, 20 * 60_000);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  /** stderr without Helm's notes on the chart's symbolic links (files/ links to the generated pack). */
  readonly stderr: string;
}

function helm(args: string[]): Run {
  const res = spawnSync(helmBin, args, { encoding: 'utf8', cwd: root });
  const stderr = (res.stderr ?? '')
    .split('\n')
    .filter((l) => !/found symbolic link in path/.test(l))
    .join('\n')
    .trim();
  return { code: res.status, stdout: res.stdout ?? '', stderr };
}

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

function template(args: string[]): Resource[] {
  const res = helm(['template', 'eda-exporter', chart, '--namespace', 'monitoring', ...args]);
  if (res.code !== 0) throw new Error(`helm template failed (${res.code}): ${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as Resource | null)
    .filter((r): r is Resource => r !== null);
}

const only = (resources: Resource[], kind: string): Resource => {
  const found = resources.filter((r) => r.kind === kind);
  expect(found.map((r) => r.kind)).toEqual([kind]);
  return found[0]!;
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  args: string[];
  env: EnvVar[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: Record<string, unknown>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items: { key: string; path: string }[] };
  emptyDir?: unknown;
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: Volume[];
}
const podSpec = (deployment: Resource): PodSpec => (deployment['spec'] as { template: { spec: PodSpec } }).template.spec;

describe('helm lint', () => {
  it.each([
    ['the default values', []],
    ['the SCRAM example', ['-f', scramValues]],
  ])('passes, also --strict, with %s', (_what, args) => {
    for (const strict of [[], ['--strict']]) {
      const res = helm(['lint', chart, ...strict, ...args]);
      expect({ code: res.code, out: res.stdout }).toEqual({ code: 0, out: expect.stringContaining('0 chart(s) failed') });
    }
  });
});

describe('helm template', () => {
  it('the default values name what is missing instead of rendering an exporter with no target', () => {
    const res = helm(['template', 'x', chart]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('no target: set config.kafka.brokers');
    // One broker address is all the chart needs.
    expect(template(MINIMAL).map((r) => r.kind).sort()).toEqual(
      ['ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'Deployment', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
    );
  });

  it('the SCRAM example: a non-root, read-only exporter with probes on /healthz and its secrets from Secrets', () => {
    const resources = template(['-f', scramValues]);
    const spec = podSpec(only(resources, 'Deployment'));
    const [container] = spec.containers;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container!.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container!.args).toEqual(['exporter']);
    const metricsPort = container!.ports.find((p) => p.name === 'metrics');
    expect(metricsPort?.containerPort).toBe(9464);
    for (const probe of [container!.livenessProbe, container!.readinessProbe]) expect(probe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container!.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } });

    const env = new Map(container!.env.map((e) => [e.name, e]));
    expect(env.get('KAFKA_SASL_MECHANISM')?.value).toBe('scram-sha-512');
    expect(env.get('KAFKA_SASL_USERNAME')?.valueFrom?.secretKeyRef).toEqual({ name: 'eda-exporter-kafka', key: 'username' });
    expect(env.get('KAFKA_SECURITY_PROTOCOL')?.value).toBe('sasl_ssl');
    // The password is a file of a Secret volume holding only the password key.
    const passwordFile = env.get('KAFKA_SASL_PASSWORD_FILE')?.value ?? '';
    const mount = container!.volumeMounts.find((m) => passwordFile.startsWith(`${m.mountPath}/`));
    const volume = spec.volumes.find((v) => v.name === mount?.name);
    expect(volume?.secret).toMatchObject({ secretName: 'eda-exporter-kafka', items: [{ key: 'password', path: passwordFile.slice(mount!.mountPath.length + 1) }] });
    const caFile = env.get('KAFKA_TLS_CA_FILE')?.value ?? '';
    const caMount = container!.volumeMounts.find((m) => caFile.startsWith(`${m.mountPath}/`));
    expect(spec.volumes.find((v) => v.name === caMount?.name)?.secret).toMatchObject({ secretName: 'eda-exporter-kafka-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    // No password anywhere: no variable carries one as a value, the config file has none.
    expect(container!.env.filter((e) => /PASSWORD$/.test(e.name))).toEqual([]);
    const config = resources.find((r) => r.kind === 'ConfigMap' && r.metadata.name === 'eda-exporter-eda-harness-exporter')!;
    const file = JSON.parse((config['data'] as Record<string, string>)['exporter.json']!) as { kafka: Record<string, unknown> };
    expect(file.kafka).toMatchObject({ brokers: ['prod-kafka-bootstrap.kafka.svc:9093'], name: 'prod-eu' });
    expect(JSON.stringify(file)).not.toMatch(/password/i);
  });

  it('ServiceMonitor and PrometheusRule carry the selector labels from values; the scrape job is the one the rules read', () => {
    const resources = template(['-f', scramValues]);
    const monitor = only(resources, 'ServiceMonitor');
    const rule = only(resources, 'PrometheusRule');
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const endpoint = (monitor['spec'] as { endpoints: { port: string; path: string; relabelings: { targetLabel: string; replacement: string }[] }[] }).endpoints[0]!;
    expect(endpoint).toMatchObject({ port: 'metrics', path: '/metrics' });
    const job = endpoint.relabelings.find((r) => r.targetLabel === 'job')?.replacement;
    const rulesText = JSON.stringify(rule['spec']);
    expect(rulesText).toContain(`up{job=\\"${job}\\"}`);
    // The selector targets the Deployment's pods through the Service.
    const service = only(resources, 'Service');
    expect((service['spec'] as { ports: { name: string }[] }).ports.map((p) => p.name)).toEqual(['metrics']);
    const other = template([...MINIMAL, '--set', 'serviceMonitor.labels.prometheus=team-a', '--set', 'prometheusRule.labels.role=alert-rules']);
    expect(only(other, 'ServiceMonitor').metadata.labels).toMatchObject({ prometheus: 'team-a' });
    expect(only(other, 'PrometheusRule').metadata.labels).toMatchObject({ role: 'alert-rules' });
  });

  it('the PrometheusRule holds the generated pack unchanged', () => {
    const rule = only(template(MINIMAL), 'PrometheusRule');
    const generated = parse(readFileSync(join(alertsDir, 'kubernetes', 'prometheus-rule.yml'), 'utf8')) as { spec: unknown };
    expect(rule['spec']).toEqual(generated.spec);
  });

  it('dashboards are ConfigMaps labelled for the Grafana sidecar, each holding a generated dashboard as valid JSON', () => {
    const maps = template(['-f', scramValues]).filter((r) => r.kind === 'ConfigMap' && r.metadata.labels?.['grafana_dashboard'] === '1');
    const generated = readdirSync(join(root, 'dashboards', 'grafana')).filter((f) => f.endsWith('.json'));
    expect(maps.length).toBe(generated.length);
    for (const m of maps) {
      expect(m.metadata.annotations).toEqual({ grafana_folder: 'Messaging' });
      const [[name, text]] = Object.entries(m['data'] as Record<string, string>) as [[string, string]];
      expect(generated).toContain(name);
      expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(join(root, 'dashboards', 'grafana', name), 'utf8')));
    }
    const relabelled = template([...MINIMAL, '--set', 'dashboards.label=my_dashboards', '--set', 'dashboards.labelValue=yes']).filter((r) => r.metadata.labels?.['my_dashboards'] === 'yes');
    expect(relabelled.length).toBe(generated.length);
    expect(relabelled.every((r) => r.metadata.annotations === undefined)).toBe(true);
  });

  it('helm package stores the linked pack and dashboards: the .tgz renders the same as the checkout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-helm-package-'));
    try {
      const res = helm(['package', chart, '--destination', dir]);
      expect({ code: res.code, err: res.stderr }).toEqual({ code: 0, err: '' });
      const [tgz] = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
      const fromPackage = helm(['template', 'eda-exporter', join(dir, tgz!), '--namespace', 'monitoring', '-f', scramValues]);
      expect(fromPackage.code).toBe(0);
      expect(parseAllDocuments(fromPackage.stdout).map((d) => d.toJS() as unknown)).toEqual(template(['-f', scramValues]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the toggles remove what they turn off', () => {
    const kinds = template([...MINIMAL, '--set', 'serviceMonitor.enabled=false', '--set', 'prometheusRule.enabled=false', '--set', 'dashboards.enabled=false', '--set', 'serviceAccount.create=false'])
      .map((r) => r.kind)
      .sort();
    expect(kinds).toEqual(['ConfigMap', 'Deployment', 'Service']);
  });

  it.each([
    ['SASL without its Secret', ['--set', 'kafka.sasl.enabled=true'], 'kafka.sasl.enabled is true but kafka.sasl.existingSecret is empty'],
    ['a password in the config file', ['--set', 'config.kafka.sasl.password=hunter2'], 'config.kafka.sasl.password would put the Kafka password in a ConfigMap'],
    ['a password in a RabbitMQ URL', ['--set', 'config.rabbitmq.managementUrl=http://admin:hunter2@rabbit:15672'], 'config.rabbitmq.managementUrl holds a password'],
    ['a mechanism the exporter cannot speak this way', ['--set', 'kafka.sasl.enabled=true', '--set', 'kafka.sasl.existingSecret=s', '--set', 'kafka.sasl.mechanism=gssapi'], 'kafka.sasl.mechanism "gssapi" is not one of'],
    ['a client certificate without TLS', ['--set', 'kafka.tls.clientSecret=c'], 'kafka.tls.clientSecret is set but kafka.tls.enabled is false'],
    ['two replicas', ['--set', 'replicaCount=2'], 'replicaCount is 2: two exporters reading the same brokers'],
    // values.schema.json: a misspelt key or a wrong type is refused before any template runs.
    ['a misspelt key', ['--set', 'serviceMonitors.enabled=false'], "additional properties 'serviceMonitors' not allowed"],
    ['a port that is not a number', ['--set', 'port=metrics'], "at '/port': got string, want integer"],
    ['labels that are not strings', ['--set-json', 'prometheusRule.labels={"release":true}'], "at '/prometheusRule/labels/release': got boolean, want string"],
  ])('refuses %s with a message saying what to do', (_what, args, message) => {
    const res = helm(['template', 'x', chart, ...MINIMAL, ...args]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(message);
    expect(res.stdout).not.toContain('hunter2');
  });
});

describe.each(['2', '3'])('the rendered PrometheusRule on promtool of Prometheus %s', (major) => {
  it('passes check rules and every shipped promtool test', () => {
    const promtool = promtools.get(major)!;
    const dir = mkdtempSync(join(tmpdir(), 'eda-helm-rules-'));
    try {
      const rule = only(template(['-f', scramValues]), 'PrometheusRule');
      writeFileSync(join(dir, 'rendered.yml'), stringify({ groups: (rule['spec'] as { groups: unknown[] }).groups }, { lineWidth: 0 }));
      const check = spawnSync(promtool, ['check', 'rules', 'rendered.yml'], { cwd: dir, encoding: 'utf8' });
      expect({ code: check.status, out: `${check.stdout}${check.stderr}` }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
      for (const file of testFiles) {
        const text = readFileSync(join(alertsDir, 'tests', file), 'utf8').replace(/rule_files:\n(\s+- \.\.\/prometheus\/[a-z-]+\.yml\n)+/, 'rule_files:\n  - rendered.yml\n');
        expect(text).toContain('- rendered.yml');
        writeFileSync(join(dir, file), text);
        const res = spawnSync(promtool, ['test', 'rules', file], { cwd: dir, encoding: 'utf8' });
        expect({ file, code: res.status, out: `${res.stdout}${res.stderr}` }).toEqual({ file, code: 0, out: expect.stringContaining('SUCCESS') });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the rendered container against a SCRAM-SHA-512 + TLS Kafka', () => {
  let env: StartedEnvironment | undefined;
  let child: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'eda-helm-pod-'));

  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await waitFor(() => child!.exitCode !== null || child!.signalCode !== null, { description: 'the exporter to stop', timeoutMs: 15_000 }).catch(() => child!.kill('SIGKILL'));
    }
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs as rendered (args, variables, Secret files at their mount paths) and collects', async () => {
    env = await new Environment().withKafka({ security: 'sasl_ssl' }).withToxiproxy(false).start();
    const security = env.getKafkaSecurity();
    const port = await freePort();
    // The example, with the test broker's address and a free port: nothing else changes.
    const resources = template(['-f', scramValues, '--set-json', `config.kafka.brokers=${JSON.stringify(security.brokers)}`, '--set', `port=${port}`]);
    const spec = podSpec(only(resources, 'Deployment'));
    const container = spec.containers[0]!;
    // The Secrets the example's README has you create, and the ConfigMaps of the render.
    const secrets: Record<string, Record<string, string>> = {
      'eda-exporter-kafka': { username: security.sasl.username, password: `${security.sasl.password}\n` },
      'eda-exporter-kafka-ca': { 'ca.crt': security.ssl.caPem },
    };
    const configMaps = new Map(resources.filter((r) => r.kind === 'ConfigMap').map((r) => [r.metadata.name, r['data'] as Record<string, string>]));
    // Lay the volumes out as the kubelet would, under dir instead of /.
    const local = (path: string): string => {
      const m = container.volumeMounts.find((v) => path === v.mountPath || path.startsWith(`${v.mountPath}/`));
      return m ? join(dir, path) : path;
    };
    for (const m of container.volumeMounts) {
      const volume = spec.volumes.find((v) => v.name === m.name)!;
      mkdirSync(join(dir, m.mountPath), { recursive: true });
      const files: Record<string, string> = volume.configMap
        ? configMaps.get(volume.configMap.name)!
        : volume.secret
          ? Object.fromEntries(volume.secret.items.map((i) => [i.path, secrets[volume.secret!.secretName]![i.key]!]))
          : {};
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, m.mountPath, name)), { recursive: true });
        writeFileSync(join(dir, m.mountPath, name), content, { mode: 0o600 });
      }
    }
    const vars: Record<string, string> = {};
    for (const e of container.env) {
      const ref = e.valueFrom?.secretKeyRef;
      vars[e.name] = ref ? secrets[ref.name]![ref.key]! : local(e.value ?? '');
    }
    expect(Object.keys(vars).sort()).toEqual(['EDA_EXPORTER_CONFIG', 'EDA_EXPORTER_PORT', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_PASSWORD_FILE', 'KAFKA_SASL_USERNAME', 'KAFKA_SECURITY_PROTOCOL', 'KAFKA_TLS_CA_FILE']);
    // The image's entrypoint, then the rendered args.
    child = spawn(process.execPath, [join(root, 'cli', 'bin', 'eda-harness.js'), ...container.args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const probe = container.readinessProbe.httpGet;
    const probePort = container.ports.find((p) => p.name === probe.port)!.containerPort;
    const health = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${probePort}${probe.path}`).catch(() => undefined);
        if (res?.status !== 200) return undefined;
        const body = (await res.json()) as { targets: { target: string; cluster?: string; up: boolean }[] };
        return body.targets.find((t) => t.target === 'kafka' && t.up);
      },
      {
        description: 'the exporter started from the rendered Deployment to collect from the secured Kafka',
        timeoutMs: 60_000,
        intervalMs: 500,
        abortIf: () => {
          if (child!.exitCode !== null) throw new Error(`the exporter exited with ${child!.exitCode}: ${output}`);
        },
      },
    );
    expect(health).toMatchObject({ target: 'kafka', cluster: 'prod-eu', up: true });
    const metrics = await (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();
    expect(metrics).toMatch(/^eda_exporter_up\{[^}]*target="kafka"[^}]*\} 1$/m);
    // The rendered memory limit leaves room over what this exporter uses (one small cluster here;
    // the values' comment has the figures at 200 and 2,000 groups).
    const rssBytes = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024;
    const limit = /^(\d+)Mi$/.exec(container.resources.limits['memory'] ?? '');
    expect(rssBytes).toBeGreaterThan(0);
    expect(rssBytes).toBeLessThan(Number(limit?.[1]) * 1024 * 1024);
  }, 240_000);
});
