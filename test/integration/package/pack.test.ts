import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { startOtlpReceiver } from '../instrumentation/otlp-receiver';
import type { OtlpReceiver } from '../instrumentation/otlp-receiver';
import { sample } from '../../support/exposition';

/**
 * The packages as a user gets them: every workspace packed into a tarball (`npm run pack`), each
 * tarball passing @arethetypeswrong/cli (node10, node16 CJS and ESM, bundler) and publint, and the
 * instrumentation installed into an empty project that already has what a service brings (kafkajs,
 * amqplib, the OpenTelemetry SDK). What that install adds is measured and printed; a CommonJS app,
 * an ESM app and a `"module": "commonjs"` TypeScript project then run / compile against it.
 */
const root = join(__dirname, '..', '..', '..');
const execFileAsync = promisify(execFile);
const MAX_ADDED_PACKAGES = 30;
const MAX_ADDED_BYTES = 15 * 1024 * 1024;
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
const pinned = (name: string) => `${name}@${lock.packages[`node_modules/${name}`]?.version ?? 'latest'}`;
/** What the service already has before it adds the instrumentation. */
const SERVICE_BRINGS = ['kafkajs', 'amqplib', '@opentelemetry/api', '@opentelemetry/sdk-node', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/sdk-trace-base'].map(pinned);

let work: string;
let packs: string;
let app: string;
let tarballs: string[];

/** Runs npm; returns stdout and stderr together (stderr is where it warns: EBADENGINE, scripts). */
function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

interface InstalledTree {
  readonly packages: Map<string, { hasInstallScript?: boolean }>;
  readonly bytes: number;
}

function installedTree(dir: string): InstalledTree {
  const hidden = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean; link?: boolean }> };
  return { packages: new Map(Object.entries(hidden.packages)), bytes: bytesUnder(join(dir, 'node_modules')) };
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) total += bytesUnder(full);
    else if (e.isFile()) total += statSync(full).size;
  }
  return total;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'eda-pack-'));
  packs = join(work, 'packs');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'pack.mjs'), packs], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run pack failed (${r.status}):\n${r.stdout}${r.stderr}`);
  tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

it('packs every workspace package', () => {
  const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  expect(tarballs).toHaveLength(workspaces.length);
});

it('every tarball resolves its types under node10, node16 (CJS and ESM) and bundler, and passes publint', async () => {
  // 22 checks, each a node process mostly starting up: two at a time on 2 cores.
  const checks = tarballs.flatMap((t) => [
    { label: `attw ${t}`, file: bin('attw'), args: ['--format', 'ascii', join(packs, t)] },
    { label: `publint ${t}`, file: bin('publint'), args: ['run', '--strict', join(packs, t)] },
  ]);
  const problems: string[] = [];
  const worker = async (): Promise<void> => {
    for (let c = checks.shift(); c; c = checks.shift()) {
      try {
        await execFileAsync(c.file, c.args, { encoding: 'utf8' });
      } catch (err) {
        problems.push(`${c.label}:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  expect(problems.sort()).toEqual([]);
}, 120_000);

describe('the instrumentation installed alone into a service', () => {
  let added: string[];
  let addedBytes: number;
  let installOutput: string;
  let after: InstalledTree;

  beforeAll(() => {
    app = join(work, 'service');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'service', version: '1.0.0', private: true }));
    npm(['install', ...SERVICE_BRINGS], app);
    const before = installedTree(app);
    const mine = ['semconv', 'instrumentation'].map((n) => join(packs, `eda-harness-${n}-0.2.0.tgz`));
    installOutput = npm(['install', ...mine], app);
    after = installedTree(app);
    added = [...after.packages.keys()].filter((k) => k !== '' && !before.packages.has(k));
    addedBytes = after.bytes - before.bytes;
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(
      `instrumentation install: service brings ${before.packages.size - 1} packages (${mb(before.bytes)} MB); ` +
        `@eda-harness/semconv + @eda-harness/instrumentation add ${added.length} packages, ${mb(addedBytes)} MB on Node ${process.version}:\n  ${added.map((k) => k.replace(/^node_modules\//, '')).join('\n  ')}`,
    );
  }, 240_000);

  it(`adds at most ${MAX_ADDED_PACKAGES} packages and 15 MB, none with an install script, and no engine warning`, () => {
    expect(added.length).toBeLessThanOrEqual(MAX_ADDED_PACKAGES);
    expect(addedBytes).toBeLessThanOrEqual(MAX_ADDED_BYTES);
    expect(added.filter((k) => after.packages.get(k)?.hasInstallScript)).toEqual([]);
    expect(installOutput).not.toMatch(/EBADENGINE/);
    // None of the other pillars' dependencies came along.
    expect(added.filter((k) => /testcontainers|pact-foundation|grafana|ssh2|cpu-features/.test(k))).toEqual([]);
  });

  it('a "module": "commonjs" TypeScript project (node10 resolution) compiles against it', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node10', target: 'ES2022', strict: true, noEmit: true, esModuleInterop: true, typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] }, files: ['index.ts'] }),
    );
    writeFileSync(
      join(app, 'index.ts'),
      [
        "import { Kafka } from 'kafkajs';",
        "import { connect } from 'amqplib';",
        "import { instrumentKafka, instrumentAmqp, startTelemetry, KafkaJsInstrumentation } from '@eda-harness/instrumentation';",
        "import type { TelemetryOptions } from '@eda-harness/instrumentation';",
        "const options: TelemetryOptions = { serviceName: 'typed', metricsPort: 0, instrumentations: [new KafkaJsInstrumentation()] };",
        "export async function main(): Promise<void> {",
        '  const telemetry = await startTelemetry(options);',
        "  const kafka = instrumentKafka(new Kafka({ brokers: ['localhost:9092'] }));",
        '  const producer = kafka.producer();',
        "  const connection = instrumentAmqp(await connect('amqp://localhost'));",
        '  void producer; void connection; await telemetry.shutdown();',
        '}',
      ].join('\n'),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { encoding: 'utf8' });
    expect({ status: r.status, errors: r.stdout }).toEqual({ status: 0, errors: '' });
  }, 60_000);

  describe('apps run from it against real brokers', () => {
    let env: StartedEnvironment;
    let receiver: OtlpReceiver;

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      env = await new Environment().withKafka().withRabbitMq().withToxiproxy(false).start();
      for (const f of ['app.mjs', 'auto-instrumented.cjs']) copyFileSync(join(root, 'test', 'fixtures', 'esm-app', f), join(app, f));
    }, 180_000);

    afterAll(async () => {
      await env?.stop();
      await receiver?.close();
    });

    function runApp(script: string, topic: string, queue: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [join(app, script)], {
          cwd: app,
          env: { ...process.env, KAFKA_BROKERS: env.getKafkaBrokers().join(','), AMQP_URL: env.getAmqpUrl(), TOPIC: topic, GROUP: uniqueName('pack-group'), QUEUE: queue, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000); // its own pid, never a name
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    }

    it.each([
      ['an ESM app with the explicit wrappers', 'app.mjs'],
      ['a CommonJS app with the Instrumentation classes', 'auto-instrumented.cjs'],
    ])('%s: messages cross both brokers, metrics count them, traces connect', async (_what, script) => {
      const topic = uniqueName('pack-topic');
      const queue = uniqueName('pack-queue');
      const result = await runApp(script, topic, queue);
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      const out = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as { kafkaValue: string; amqpValue: string; metrics: string };
      expect(sample(out.metrics, METRIC.CONSUMED_MESSAGES.name, { messaging_system: 'kafka', messaging_destination_name: topic })).toBe(1);
      expect(sample(out.metrics, METRIC.CONSUMED_MESSAGES.name, { messaging_system: 'rabbitmq', messaging_destination_name: queue })).toBe(1);
      const spans = await waitFor(() => (receiver.spans.some((s) => s.name === `process ${queue}`) && receiver.spans.some((s) => s.name === `process ${topic}`) ? receiver.spans : undefined), {
        description: `${script}'s spans at the receiver`,
        timeoutMs: 10_000,
      });
      for (const [producerName, consumerName] of [[`send ${topic}`, `process ${topic}`], [`publish ${queue}`, `process ${queue}`]] as const) {
        const p = spans.find((s) => s.name === producerName);
        const c = spans.find((s) => s.name === consumerName);
        expect(c?.traceId).toBe(p?.traceId);
        expect(c?.parentSpanId).toBe(p?.spanId);
      }
    }, 150_000);
  });
});
