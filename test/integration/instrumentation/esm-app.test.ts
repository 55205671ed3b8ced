import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Environment } from '../../../environment';
import type { StartedEnvironment } from '../../../environment';
import { waitFor } from '../../../core/wait-for';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { OTLP_KIND, startOtlpReceiver } from './otlp-receiver';
import type { OtlpReceiver } from './otlp-receiver';
import { sample } from './scrape';

const root = join(__dirname, '..', '..', '..');
const app = join(root, 'test', 'fixtures', 'esm-app', 'app.mjs');
const autoApp = join(root, 'test', 'fixtures', 'esm-app', 'auto-instrumented.cjs');

/** The app imports the built package (dist/): build it when the sources are newer. */
function ensureBuilt(): void {
  const built = join(root, 'instrumentation', 'dist', 'index.js');
  const newestSource = Math.max(...readdirSync(join(root, 'instrumentation')).filter((f) => f.endsWith('.ts')).map((f) => statSync(join(root, 'instrumentation', f)).mtimeMs));
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

it('an ESM (.mjs) app using the wrappers from the built package exports connected traces with the stock OTLP/HTTP exporter', async () => {
  const topic = uniqueName('esm-topic');
  const queue = uniqueName('esm-queue');
  const result = await runApp(app, {
    KAFKA_BROKERS: env.getKafkaBrokers().join(','),
    AMQP_URL: env.getAmqpUrl(),
    TOPIC: topic,
    GROUP: uniqueName('esm-group'),
    QUEUE: queue,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { kafkaValue: string; amqpValue: string; metrics: string };
  expect(out.kafkaValue).toBe('hello from esm');
  expect(out.amqpValue).toBe('hello from esm');
  expect(sample(out.metrics, `${METRIC.E2E_LATENCY.name}_count`, { messaging_system: 'kafka', messaging_destination_name: topic, stage: 'received' })).toBe(1);
  expect(sample(out.metrics, `${METRIC.E2E_LATENCY.name}_count`, { messaging_system: 'rabbitmq', messaging_destination_name: queue, stage: 'processed' })).toBe(1);

  const spans = await waitFor(() => (receiver.spans.some((s) => s.name === `process ${queue}`) && receiver.spans.some((s) => s.name === `process ${topic}`) ? receiver.spans : undefined), {
    description: 'the ESM app\'s spans at the receiver',
    timeoutMs: 10_000,
  });
  expect([...receiver.contentTypes]).toEqual(['application/json']);
  for (const [producerName, consumerName] of [[`send ${topic}`, `process ${topic}`], [`publish ${queue}`, `process ${queue}`]] as const) {
    const p = spans.find((s) => s.name === producerName)!;
    const c = spans.find((s) => s.name === consumerName)!;
    expect(p.serviceName).toBe('esm-app');
    expect(p.kind).toBe(OTLP_KIND.PRODUCER);
    expect(c.kind).toBe(OTLP_KIND.CONSUMER);
    expect(c.traceId).toBe(p.traceId);
    expect(c.parentSpanId).toBe(p.spanId);
  }
});

it('a CommonJS app using registerInstrumentations (KafkaJsInstrumentation, AmqplibInstrumentation) gets the same traces without wrapper calls', async () => {
  const topic = uniqueName('auto-topic');
  const queue = uniqueName('auto-queue');
  const result = await runApp(autoApp, {
    KAFKA_BROKERS: env.getKafkaBrokers().join(','),
    AMQP_URL: env.getAmqpUrl(),
    TOPIC: topic,
    GROUP: uniqueName('auto-group'),
    QUEUE: queue,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { kafkaValue: string; amqpValue: string; metrics: string };
  expect([out.kafkaValue, out.amqpValue]).toEqual(['auto', 'auto']);
  expect(sample(out.metrics, METRIC.CONSUMED_MESSAGES.name, { messaging_system: 'kafka', messaging_destination_name: topic })).toBe(1);
  expect(sample(out.metrics, METRIC.CONSUMED_MESSAGES.name, { messaging_system: 'rabbitmq', messaging_destination_name: queue })).toBe(1);
  const spans = await waitFor(() => (receiver.spans.some((s) => s.name === `process ${queue}`) && receiver.spans.some((s) => s.name === `process ${topic}`) ? receiver.spans : undefined), {
    description: 'the auto-instrumented app\'s spans at the receiver',
    timeoutMs: 10_000,
  });
  for (const [producerName, consumerName] of [[`send ${topic}`, `process ${topic}`], [`publish ${queue}`, `process ${queue}`]] as const) {
    const p = spans.find((s) => s.name === producerName)!;
    const c = spans.find((s) => s.name === consumerName)!;
    expect(p.serviceName).toBe('auto-app');
    expect(c.traceId).toBe(p.traceId);
    expect(c.parentSpanId).toBe(p.spanId);
  }
});
