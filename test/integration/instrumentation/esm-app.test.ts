import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { OTLP_KIND, receivedSpans, startOtlpReceiver } from './otlp-receiver';
import type { OtlpReceiver } from './otlp-receiver';
import { sample } from '../../support/exposition';

const root = join(__dirname, '..', '..', '..');
const app = join(root, 'test', 'fixtures', 'esm-app', 'app.mjs');
const autoApp = join(root, 'test', 'fixtures', 'esm-app', 'auto-instrumented.cjs');

/** Modification time of the newest .ts file below `dir` (dist/ and node_modules/ left out). */
function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'dist' && entry.name !== 'node_modules') newest = Math.max(newest, newestTs(path));
    } else if (entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** The app imports the built package (dist/): build it when the sources are newer. */
function ensureBuilt(): void {
  // tsc -b rewrites only the outputs whose sources changed; its build info is written every build.
  const built = join(root, 'instrumentation', 'dist', '.tsbuildinfo');
  const newestSource = newestTs(join(root, 'instrumentation'));
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return;
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  // tsc still emits when another folder has type errors; only a stale instrumentation build is fatal here.
  if (!existsSync(built) || statSync(built).mtimeMs < newestSource) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

let env: StartedEnvironment;
let receiver: OtlpReceiver;

beforeAll(async () => {
  ensureBuilt();
  receiver = await startOtlpReceiver();
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
  await receiver?.close();
});

function runApp(script: string, extraEnv: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: root, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Ended by its own pid if it hangs, never by name.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the fixture apps print last: the values they consumed and their /metrics page. */
interface AppOutput {
  readonly kafkaValue: string;
  readonly amqpValue: string;
  readonly metrics: string;
}

/** Runs a fixture app against the brokers with fresh topic, group and queue names; it must exit 0. */
async function runAgainstBrokers(script: string, prefix: string): Promise<{ topic: string; queue: string; out: AppOutput }> {
  const topic = uniqueName(`${prefix}-topic`);
  const queue = uniqueName(`${prefix}-queue`);
  const result = await runApp(script, {
    KAFKA_BROKERS: env.getKafkaBrokers().join(','),
    AMQP_URL: env.getAmqpUrl(),
    TOPIC: topic,
    GROUP: uniqueName(`${prefix}-group`),
    QUEUE: queue,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
    // The test receiver decodes OTLP JSON; the SDK's default protocol is http/protobuf.
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  return { topic, queue, out: JSON.parse(result.stdout.trim().split('\n').at(-1)!) as AppOutput };
}

/** Waits for the app's spans, then checks that each consumer span is the child of its producer span, in one trace. */
async function expectConnectedTraces(serviceName: string, topic: string, queue: string): Promise<void> {
  const spans = await receivedSpans(receiver, `the spans of ${serviceName} at the receiver`, (s) => s.some((x) => x.name === `process ${queue}`) && s.some((x) => x.name === `process ${topic}`), { timeoutMs: 10_000 });
  for (const [producerName, consumerName] of [[`send ${topic}`, `process ${topic}`], [`publish ${queue}`, `process ${queue}`]] as const) {
    const p = spans.find((s) => s.name === producerName)!;
    const c = spans.find((s) => s.name === consumerName)!;
    expect(p.serviceName).toBe(serviceName);
    expect(p.kind).toBe(OTLP_KIND.PRODUCER);
    expect(c.kind).toBe(OTLP_KIND.CONSUMER);
    expect(c.traceId).toBe(p.traceId);
    expect(c.parentSpanId).toBe(p.spanId);
  }
}

it('an ESM (.mjs) app using the wrappers from the built package exports connected traces with the stock OTLP/HTTP exporter', async () => {
  const { topic, queue, out } = await runAgainstBrokers(app, 'esm');
  expect(out.kafkaValue).toBe('hello from esm');
  expect(out.amqpValue).toBe('hello from esm');
  expect(sample(out.metrics, `${METRIC.E2E_LATENCY.name}_count`, { messaging_system: 'kafka', messaging_destination_name: topic, stage: 'received' })).toBe(1);
  expect(sample(out.metrics, `${METRIC.E2E_LATENCY.name}_count`, { messaging_system: 'rabbitmq', messaging_destination_name: queue, stage: 'processed' })).toBe(1);
  await expectConnectedTraces('esm-app', topic, queue);
  expect([...receiver.contentTypes]).toEqual(['application/json']);
});

it('a CommonJS app using registerInstrumentations (KafkaJsInstrumentation, AmqplibInstrumentation) gets the same traces without wrapper calls', async () => {
  const { topic, queue, out } = await runAgainstBrokers(autoApp, 'auto');
  expect([out.kafkaValue, out.amqpValue]).toEqual(['auto', 'auto']);
  expect(sample(out.metrics, METRIC.CONSUMED_MESSAGES.name, { messaging_system: 'kafka', messaging_destination_name: topic })).toBe(1);
  expect(sample(out.metrics, METRIC.CONSUMED_MESSAGES.name, { messaging_system: 'rabbitmq', messaging_destination_name: queue })).toBe(1);
  await expectConnectedTraces('auto-app', topic, queue);
});
