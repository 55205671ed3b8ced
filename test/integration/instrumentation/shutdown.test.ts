import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { until } from '../../support/until';
import { uniqueName } from '../../support/names';
import { OTLP_KIND, startOtlpReceiver } from './otlp-receiver';
import type { OtlpReceiver } from './otlp-receiver';

const root = join(__dirname, '..', '..', '..');
const service = join(__dirname, 'shutdown-service.cjs');

let env: StartedEnvironment;
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  env = await new Environment().withKafka().withRabbitMq().withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  await env?.stop();
  await receiver?.close();
});

/** The SIGTERM handler of the service fixture, between its `// <sigterm>` markers, one trimmed line each. */
function documentedHandler(): string[] {
  const text = readFileSync(service, 'utf8');
  const body = text.slice(text.indexOf('// <sigterm>') + '// <sigterm>'.length, text.indexOf('// </sigterm>'));
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The lines of `file` in order, trimmed, so indentation in a Markdown list does not matter. */
function trimmedLines(file: string): string {
  return readFileSync(join(root, file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .join('\n');
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly afterSigtermMs: number;
}

describe('shutting down an instrumented service on SIGTERM', () => {
  it('the README and the guide show the handler this test runs', () => {
    const handler = documentedHandler().join('\n');
    expect(handler).toContain('consumer.disconnect()');
    expect(trimmedLines('README.md')).toContain(handler);
    expect(trimmedLines('docs/instrumentation.md')).toContain(handler);
  });

  it('one SIGTERM disconnects the clients, flushes the spans and exits 0 within seconds', async () => {
    const topic = uniqueName('shutdown-topic');
    const queue = uniqueName('shutdown-queue');
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [service], {
        cwd: root,
        env: {
          ...process.env,
          KAFKA_BROKERS: env.getKafkaBrokers().join(','),
          AMQP_URL: env.getAmqpUrl(),
          TOPIC: topic,
          GROUP: uniqueName('shutdown-group'),
          QUEUE: queue,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
          // The in-test receiver decodes JSON only.
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          // An hour: the spans can only reach the receiver through the shutdown's flush.
          OTEL_BSP_SCHEDULE_DELAY: '3600000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const running = child;
      let stdout = '';
      let stderr = '';
      running.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
      running.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      let sigtermAt = 0;
      const exited = new Promise<Exit>((resolve) => running.on('exit', (code, signal) => resolve({ code, signal, afterSigtermMs: Date.now() - sigtermAt })));
      let gone: Exit | undefined;
      void exited.then((e) => (gone = e));

      await until('the service to consume a message from each broker', () => {
        if (gone) throw new Error(`the service exited early (${gone.code ?? gone.signal}):\n${stderr}`);
        return stdout.includes('ready\n');
      });
      expect(receiver.spans.filter((s) => s.serviceName === 'shutdown-svc')).toEqual([]);

      sigtermAt = Date.now();
      running.kill('SIGTERM'); // its own pid, once
      const exit = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000).unref())]);
      expect({ exit: exit && { code: exit.code, signal: exit.signal }, stderr }).toEqual({ exit: { code: 0, signal: null }, stderr: '' });
      expect(exit!.afterSigtermMs).toBeLessThan(10_000);

      // The exit came after the flush: the consumers' spans are already at the receiver.
      const consumed = receiver.spans.filter((s) => s.serviceName === 'shutdown-svc' && s.kind === OTLP_KIND.CONSUMER);
      expect(consumed.some((s) => s.name.includes(topic))).toBe(true);
      expect(consumed.some((s) => s.name.includes(queue))).toBe(true);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // its own pid, never a name
    }
  }, 120_000);
});
