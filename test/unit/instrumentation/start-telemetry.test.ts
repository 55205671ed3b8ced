import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Counter, Registry } from 'prom-client';
import { startTelemetry } from '../../../instrumentation/index';
import type { TelemetryHandle } from '../../../instrumentation/index';
import { DEFAULT_METRICS_PORT } from '../../../instrumentation/start-telemetry';
import { DEFAULT_PORT as EXPORTER_DEFAULT_PORT } from '../../../exporter/config';

const root = join(__dirname, '..', '..', '..');

/** Each test starts its own SDK; the API's globals would otherwise keep the first one registered. */
afterEach(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

/** Sets environment variables for the duration of `body`, then restores them exactly. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('startTelemetry', () => {
  it('serves the registry on /metrics, exports spans through the SDK, and shuts both down', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'probe', registers: [registry] }).inc(3);
    const exporter = new InMemorySpanExporter();
    const telemetry = await startTelemetry({ serviceName: 'unit-svc', metricsPort: 0, metricsHost: '127.0.0.1', registry, traceExporter: exporter });
    try {
      expect(telemetry.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(telemetry.metricsUrl!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(registry.contentType);
      expect(await res.text()).toContain('probe_total 3');
      expect((await fetch(telemetry.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);

      trace.getTracer('unit').startSpan('work').end();
      await telemetry.forceFlush();
      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(['work']);
      expect(spans[0]!.resource.attributes['service.name']).toBe('unit-svc');
    } finally {
      await telemetry.shutdown();
    }
    await expect(fetch(telemetry.metricsUrl!)).rejects.toThrow();
    await telemetry.shutdown(); // idempotent
  });

  it('fails loudly, without leaking the SDK, when the metrics port is taken', async () => {
    const first = await startTelemetry({ serviceName: 'a', metricsPort: 0, metricsHost: '127.0.0.1', registry: new Registry(), traceExporter: new InMemorySpanExporter() });
    try {
      await expect(startTelemetry({ serviceName: 'b', metricsPort: first.metricsPort!, metricsHost: '127.0.0.1', registry: new Registry(), traceExporter: new InMemorySpanExporter() })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.shutdown();
    }
  });

  describe('service name', () => {
    async function serviceNameOfASpan(vars: Record<string, string>): Promise<unknown> {
      return withEnv(vars, async () => {
        const exporter = new InMemorySpanExporter();
        const telemetry = await startTelemetry({ serviceName: 'from-code', metricsPort: false, traceExporter: exporter });
        try {
          trace.getTracer('unit').startSpan('work').end();
          await telemetry.forceFlush();
          return exporter.getFinishedSpans()[0]?.resource.attributes['service.name'];
        } finally {
          await telemetry.shutdown();
          trace.disable(); // lets the next call register its own provider
        }
      });
    }

    it('is `serviceName` when the environment names none', async () => {
      expect(await serviceNameOfASpan({})).toBe('from-code');
    });

    it('is OTEL_SERVICE_NAME when set: the deployment overrides the code', async () => {
      expect(await serviceNameOfASpan({ OTEL_SERVICE_NAME: 'from-env' })).toBe('from-env');
    });

    it('is service.name from OTEL_RESOURCE_ATTRIBUTES when set, and OTEL_SERVICE_NAME beats that', async () => {
      expect(await serviceNameOfASpan({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes' })).toBe('from-attributes');
      expect(await serviceNameOfASpan({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes', OTEL_SERVICE_NAME: 'from-env' })).toBe('from-env');
    });
  });

  describe('/metrics server', () => {
    // Linux routes all of 127/8 to the loopback interface: a server bound to 127.0.0.1 refuses
    // 127.0.0.2, one bound to every interface accepts it. That tells the bound address apart
    // without depending on the machine's network interfaces.
    const linux = process.platform === 'linux' ? it : it.skip;
    async function reachableOnAnotherAddress(telemetry: TelemetryHandle): Promise<boolean> {
      return fetch(`http://127.0.0.2:${telemetry.metricsPort}/metrics`).then(
        (r) => r.ok,
        () => false,
      );
    }
    async function started(options: { metricsHost?: string }, vars: Record<string, string> = {}): Promise<TelemetryHandle> {
      return withEnv(vars, () => startTelemetry({ serviceName: 'unit', metricsPort: 0, registry: new Registry(), traceExporter: new InMemorySpanExporter(), ...options }));
    }

    linux('listens on loopback only by default', async () => {
      const telemetry = await started({});
      try {
        expect(telemetry.metricsUrl).toBe(`http://127.0.0.1:${telemetry.metricsPort}/metrics`);
        expect((await fetch(telemetry.metricsUrl!)).status).toBe(200);
        expect(await reachableOnAnotherAddress(telemetry)).toBe(false);
      } finally {
        await telemetry.shutdown();
      }
    });

    linux('listens on every interface with metricsHost 0.0.0.0, or EDA_METRICS_HOST=0.0.0.0 when the option is absent', async () => {
      for (const [options, vars] of [
        [{ metricsHost: '0.0.0.0' }, {}],
        [{}, { EDA_METRICS_HOST: '0.0.0.0' }],
      ] as const) {
        const telemetry = await started(options, vars);
        try {
          expect(await reachableOnAnotherAddress(telemetry)).toBe(true);
        } finally {
          await telemetry.shutdown();
        }
      }
    });

    linux('the metricsHost option wins over EDA_METRICS_HOST', async () => {
      const telemetry = await started({ metricsHost: '127.0.0.1' }, { EDA_METRICS_HOST: '0.0.0.0' });
      try {
        expect(await reachableOnAnotherAddress(telemetry)).toBe(false);
      } finally {
        await telemetry.shutdown();
      }
    });

    it('brackets an IPv6 host in metricsUrl', async () => {
      const telemetry = await startTelemetry({ serviceName: 'unit', metricsPort: 0, metricsHost: '::1', registry: new Registry(), traceExporter: new InMemorySpanExporter() }).catch(() => undefined);
      if (telemetry === undefined) return; // no IPv6 loopback on this machine
      try {
        expect(telemetry.metricsUrl).toBe(`http://[::1]:${telemetry.metricsPort}/metrics`);
        expect((await fetch(telemetry.metricsUrl!)).status).toBe(200);
      } finally {
        await telemetry.shutdown();
      }
    });

    it('defaults to a port of its own, not the exporter\u2019s, so both run on one host', async () => {
      expect(DEFAULT_METRICS_PORT).not.toBe(EXPORTER_DEFAULT_PORT);
      const telemetry = await startTelemetry({ serviceName: 'unit', registry: new Registry(), traceExporter: new InMemorySpanExporter() });
      try {
        expect(telemetry.metricsPort).toBe(DEFAULT_METRICS_PORT);
      } finally {
        await telemetry.shutdown();
      }
    });

    it('does not keep the process alive: only the SDK\u2019s and the server\u2019s work would, and neither holds a ref', async () => {
      const servers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
      const before = servers();
      const telemetry = await started({});
      try {
        expect(servers()).toBe(before);
        // A scrape still works on the unreferenced server.
        expect((await fetch(telemetry.metricsUrl!)).status).toBe(200);
      } finally {
        await telemetry.shutdown();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The stock OTLP exporters load `http` with a dynamic import(), which Jest's CommonJS runtime
// refuses; these cases run startTelemetry in a plain Node child (its TypeScript transpiled on
// require) against a local HTTP receiver, and look at what arrives over the wire.

interface Received {
  readonly path: string;
  readonly contentType: string;
}

async function withReceiver<T>(body: (url: string, received: Received[]) => Promise<T>): Promise<T> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, received);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Starts telemetry, ends one span, calls forceFlush() and exits at once, without shutdown(): a
 * span that reached the receiver was sent by forceFlush(). The batch delay is an hour, so the
 * processor's own timer cannot have sent it.
 */
const CHILD = `
const { readFileSync } = require('node:fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, filename) => {
  const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions: options, fileName: filename }).outputText, filename);
};
const { startTelemetry } = require(process.env.START_TELEMETRY_TS);
const { trace } = require('@opentelemetry/api');
(async () => {
  if (process.env.LET_GO) {
    // Starts everything (a /metrics server included) and returns: nothing is left to do.
    await startTelemetry({ serviceName: 'child', metricsPort: 0 });
    return;
  }
  const telemetry = await startTelemetry({ serviceName: 'child', metricsPort: false });
  trace.getTracer('probe').startSpan('probe').end();
  await telemetry.forceFlush();
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

function runChild(vars: Record<string, string>, killAfterMs = 30_000): Promise<{ code: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], START_TELEMETRY_TS: join(root, 'instrumentation', 'start-telemetry.ts'), OTEL_BSP_SCHEDULE_DELAY: '3600000', ...vars };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs); // its own pid, never a name
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('startTelemetry in a process of its own', () => {
  it('a script that starts telemetry and then has nothing left to do exits by itself', async () => {
    const started = Date.now();
    const { code, stderr } = await runChild({ LET_GO: '1', OTEL_TRACES_EXPORTER: 'none' }, 15_000);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});

describe('startTelemetry follows the OpenTelemetry JS SDK\u2019s environment rules', () => {
  const PROTOBUF = 'application/x-protobuf';
  const JSON_TYPE = 'application/json';
  it.each<[string, Record<string, string>, string[]]>([
    ['nothing set: OTLP over http/protobuf, the SDK default', {}, [PROTOBUF]],
    ['OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, [PROTOBUF]],
    ['OTEL_EXPORTER_OTLP_PROTOCOL=http/json', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, [JSON_TYPE]],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins over OTEL_EXPORTER_OTLP_PROTOCOL', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, [PROTOBUF]],
    ['OTEL_TRACES_EXPORTER=otlp with http/json', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, [JSON_TYPE]],
    ['OTEL_TRACES_EXPORTER=none: nothing is sent, nothing fails', { OTEL_TRACES_EXPORTER: 'none' }, []],
  ])('%s; forceFlush() delivers it', async (_what, vars, expected) => {
    await withReceiver(async (url, received) => {
      const { code, stderr } = await runChild({ ...vars, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/v1/traces` });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(received.map((r) => r.path)).toEqual(expected.map(() => '/v1/traces'));
      expect(received.map((r) => r.contentType)).toEqual(expected);
    });
  }, 30_000);
});
