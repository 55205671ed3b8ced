import { spawn } from 'node:child_process';
import { startServiceOtlpReceiver, type ReceivedServiceSpan, type ServiceOtlpReceiver } from '../../../chaos/service/otlp-receiver';

/**
 * A service set up the common way (NodeSDK with its defaults, only OTEL_EXPORTER_OTLP_ENDPOINT
 * set) exports http/protobuf, the spec's default protocol: its spans reach the harness's receiver.
 * The service is a child process, so the SDK reads its configuration from the environment exactly
 * as a team's service would.
 */

const SERVICE = `
const { NodeSDK } = require('@opentelemetry/sdk-node');
const api = require('@opentelemetry/api');
const sdk = new NodeSDK();
sdk.start();
const tracer = api.trace.getTracer('orders-service');
const producer = tracer.startSpan('orders publish', { kind: api.SpanKind.PRODUCER });
const ctx = api.trace.setSpan(api.context.active(), producer);
tracer.startSpan('orders process', { kind: api.SpanKind.CONSUMER }, ctx).end();
producer.end();
process.stdout.write(JSON.stringify({ traceId: producer.spanContext().traceId, spanId: producer.spanContext().spanId }));
sdk.shutdown().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
`;

function runService(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SERVICE], { cwd: process.cwd(), env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a NodeSDK service with the default exporter', () => {
  let receiver: ServiceOtlpReceiver | undefined;
  afterEach(() => receiver?.close());

  it('exports http/protobuf, and its spans arrive with their names, kinds and parent', async () => {
    const spans: ReceivedServiceSpan[] = [];
    const problems: string[] = [];
    receiver = await startServiceOtlpReceiver(
      (s) => spans.push(s),
      (m) => problems.push(m),
    );
    const out = await runService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: 'orders-service', OTEL_RESOURCE_ATTRIBUTES: 'service.version=3.1.0', OTEL_TRACES_SAMPLER: 'always_on' });
    expect(out).toMatchObject({ code: 0 });
    expect(out.stderr).not.toMatch(/error/i);
    const producer = JSON.parse(out.stdout) as { traceId: string; spanId: string };
    expect(problems).toEqual([]);
    expect(receiver.stats()).toMatchObject({ accepted: 1, protobuf: 1, rejected: 0, spans: 2 });
    expect(spans.map((s) => [s.serviceName, s.serviceVersion, s.name, s.kind, s.traceId, s.parentSpanId]).sort()).toEqual([
      ['orders-service', '3.1.0', 'orders process', 'consumer', producer.traceId, producer.spanId],
      ['orders-service', '3.1.0', 'orders publish', 'producer', producer.traceId, undefined],
    ]);
    expect(spans.every((s) => Math.abs(s.endMs - Date.now()) < 60_000)).toBe(true);
  });
});
