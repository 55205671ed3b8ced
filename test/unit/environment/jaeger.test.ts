import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDescription, parseUpFlags } from '../../../cli/env-command';
import { checkExternalSettings, externalSettings } from '../../../environment/external/external';
import { DEFAULT_JAEGER_MAX_TRACES, JAEGER_PORT_NAMES, jaegerConfig, jaegerConfigListens, type JaegerPorts } from '../../../environment/jaeger-config';
import { checkTraceId, parseServicesResponse, parseTracesResponse, traceShortfall, type TraceSpan } from '../../../environment/jaeger-query';
import { jaegerExitReason } from '../../../environment/native/jaeger';
import { ensureJaeger, goCommandLines, jaegerSpec, jaegerVersion, parseGoModDownload } from '../../../environment/provision';
import { selectProvider } from '../../../environment/select-provider';
import { StateFileError, readEnvironmentState, writeCurrentState } from '../../../environment/state';
import { Environment } from '../../../environment/environment';
import type { EnvironmentProvider } from '../../../environment/provider';
import type { EnvironmentDescription } from '../../../environment/types';
import { ConfigError, PrerequisiteError, ProvisionError } from '../../../core/errors';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));
const ports: JaegerPorts = { otlpGrpc: 41001, otlpHttp: 41002, queryHttp: 41003, queryGrpc: 41004, healthHttp: 41005, healthGrpc: 41006, metrics: 41007 };

describe('jaegerConfig', () => {
  it('puts every endpoint on 127.0.0.1, one allocated port each, Jaeger\u2019s own metrics (default 0.0.0.0:8888) included', () => {
    const config = jaegerConfig(ports);
    const listens = jaegerConfigListens(config);
    expect(listens.sort()).toEqual(JAEGER_PORT_NAMES.map((n) => `127.0.0.1:${ports[n]}`).sort());
    expect(config).not.toMatch(/0\.0\.0\.0|localhost|:8888|:4317|:16686/);
  });

  it('keeps traces in memory (100000 by default, or maxTraces), without Jaeger tracing itself', () => {
    expect(jaegerConfig(ports)).toContain(`max_traces: ${DEFAULT_JAEGER_MAX_TRACES}`);
    expect(jaegerConfig(ports, { maxTraces: 500 })).toContain('max_traces: 500\n');
    expect(jaegerConfig(ports)).toContain('enable_tracing: false');
    expect(jaegerConfig(ports)).toContain('receivers: [otlp]');
  });

  it('refuses a maxTraces that is not a positive integer, and withJaeger checks it before anything starts', () => {
    for (const maxTraces of [0, -1, 1.5, Number.NaN]) {
      expect(() => jaegerConfig(ports, { maxTraces })).toThrow(ConfigError);
      expect(() => new Environment().withJaeger({ maxTraces })).toThrow(`withJaeger: maxTraces must be a positive integer (got ${maxTraces})`);
    }
  });
});

describe('parsing the query API (bodies captured from Jaeger 2.13)', () => {
  it('a trace: ids as lower-case hex, typed attributes, kinds, statuses, links, times in ms', () => {
    const [trace, ...more] = parseTracesResponse(fixture('jaeger-v3-trace.json'));
    expect(more).toEqual([]);
    const spans = trace as TraceSpan[];
    expect(spans).toHaveLength(7);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set(['5b8efff798038103d269b633813fc60c']));
    // Sorted by start time: the producer first.
    const send = spans[0] as TraceSpan;
    expect(send).toMatchObject({
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: undefined,
      name: 'send orders',
      service: 'order-service',
      kind: 'producer',
      statusCode: 'ok',
      links: [],
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders', 'messaging.operation.type': 'send', 'messaging.batch.message_count': 3, ratio: 0.5, flag: true },
    });
    expect(send.durationMs).toBeCloseTo(2.5, 6);
    expect(send.startTimeUnixMs).toBeCloseTo(1796287024888.183, 2);
    const process = spans.find((s) => s.name === 'process orders') as TraceSpan;
    expect(process).toMatchObject({
      parentSpanId: 'eee19b7ec3c1b174',
      service: 'inventory-service',
      kind: 'consumer',
      statusCode: 'error',
      links: [{ traceId: '00000000000000000000000000000abc', spanId: '00000000000000ff' }],
      attributes: { 'messaging.kafka.offset': 42 },
    });
    expect(process.durationMs).toBeCloseTo(4, 6);
    const kinds = Object.fromEntries(spans.map((s) => [s.name, s.kind]));
    expect(kinds).toMatchObject({ reserve: 'internal', 'GET mail': 'client', 'unspecified one': 'unspecified', 'server one': 'server', 'process notifications': 'consumer' });
    expect(spans.filter((s) => s.statusCode === 'unset').map((s) => s.name).sort()).toEqual(['GET mail', 'process notifications', 'reserve', 'server one', 'unspecified one']);
  });

  it('a search answer holds several traces in one list: they are grouped by trace id; arrays become JSON text', () => {
    const traces = parseTracesResponse(fixture('jaeger-v3-find.json'));
    expect(traces.map((t) => [t[0]?.traceId, t.length])).toEqual([
      ['0af7651916cd43dd8448eb211c80319c', 1],
      ['5b8efff798038103d269b633813fc60c', 7],
    ]);
    expect(traces[0]?.[0]?.attributes['tags']).toBe('{"values":[{"stringValue":"a"},{"intValue":"2"}]}');
    expect(traces[0]?.[0]?.kind).toBe('consumer');
  });

  it('services: a sorted list, and {} (what Jaeger answers before any span) is none', () => {
    expect(parseServicesResponse(fixture('jaeger-v3-services.json'))).toEqual(['inventory-service', 'notification-service', 'order-service']);
    expect(parseServicesResponse({})).toEqual([]);
    expect(() => parseServicesResponse({ services: [1] })).toThrow('not a list of names');
  });

  it('an answer that is not OTLP trace data is an error saying what came', () => {
    expect(() => parseTracesResponse({ data: [] })).toThrow("Jaeger's answer has no result");
    expect(() => parseTracesResponse({ result: { spans: [] } })).toThrow('no resourceSpans');
    expect(() => parseTracesResponse({ result: { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'x' }] }] }] } })).toThrow('without ids');
  });

  it('span kinds and status codes given by name (protojson\u2019s other spelling) read the same', () => {
    const [[span]] = parseTracesResponse({
      result: { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'AB'.repeat(16), spanId: 'CD'.repeat(8), kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_ERROR' } }] }] }] },
    }) as [[TraceSpan]];
    expect(span).toMatchObject({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), kind: 'client', statusCode: 'error', service: 'unknown' });
  });

  it('a trace id must be 32 hex digits', () => {
    expect(checkTraceId('5B8EFFF798038103D269B633813FC60C')).toBe('5b8efff798038103d269b633813fc60c');
    expect(() => checkTraceId('xyz')).toThrow('not a trace id (32 hex digits): "xyz"');
  });

  it('what a trace lacks, as the wait\u2019s message says it', () => {
    const spans = (parseTracesResponse(fixture('jaeger-v3-trace.json'))[0] ?? []).filter((s) => s.service === 'order-service');
    expect(traceShortfall(spans, { minSpans: 1, services: ['order-service'] })).toBeUndefined();
    expect(traceShortfall(spans, { minSpans: 3, services: ['order-service', 'inventory-service'] })).toBe('1 span(s), 3 wanted and no span of inventory-service (seen: order-service: send orders)');
    expect(traceShortfall([], {})).toBe('0 span(s), 1 wanted (seen: nothing)');
  });
});

describe('why Jaeger exited, from its log', () => {
  it('the last start\u2019s Error line with its continuation, up to its own log lines', () => {
    const log = [
      '--- 2026-12-03T08:00:00Z starting jaeger --config a.yaml',
      'Error: an older start',
      '',
      '--- 2026-12-03T08:44:53Z starting jaeger --config j.yaml',
      '2026/12/03 08:44:53 application version: git-commit=, git-version=, build-date=',
      'Error: failed to get config: cannot unmarshal the configuration: decoding failed due to the following error(s):',
      '',
      "'' has invalid keys: bogus",
      '2026/12/03 08:44:53 failed to get config: cannot unmarshal the configuration',
    ].join('\n');
    expect(jaegerExitReason(log)).toBe("failed to get config: cannot unmarshal the configuration: decoding failed due to the following error(s): '' has invalid keys: bogus");
    expect(jaegerExitReason('--- x starting\n2026-12-03T08:44:53.154Z\tinfo\tall well\n')).toBeUndefined();
  });
});

describe('building Jaeger', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('from its module\u2019s source (go install refuses it): go mod download -json, then go build of ./cmd/jaeger into the cache', () => {
    expect(goCommandLines(jaegerSpec('1.76.0'), '/cache/jaeger/1.76.0/bin')).toEqual({
      download: ['mod', 'download', '-json', 'github.com/jaegertracing/jaeger@v1.76.0'],
      build: ['build', '-trimpath', '-ldflags', '-s -w', '-o', '/cache/jaeger/1.76.0/bin/jaeger', './cmd/jaeger'],
    });
  });

  it('the other Go tools keep go install', () => {
    const spec = { ...jaegerSpec('1.0.0'), build: { kind: 'install' as const, module: (v: string) => `example.com/tool@v${v}` }, ldflags: [], tags: ['a', 'b'] };
    expect(goCommandLines(spec, '/bin')).toEqual({ build: ['install', '-tags', 'a,b', 'example.com/tool@v1.0.0'] });
  });

  it('reads the module folder from go mod download -json, and its Error as a ProvisionError naming the log', () => {
    const ok = '{\n\t"Path": "github.com/jaegertracing/jaeger",\n\t"Version": "v1.76.0",\n\t"Dir": "/root/go/pkg/mod/github.com/jaegertracing/jaeger@v1.76.0"\n}\n';
    expect(parseGoModDownload(ok, 'jaeger', '/log')).toBe('/root/go/pkg/mod/github.com/jaegertracing/jaeger@v1.76.0');
    const failed = '{\n\t"Path": "github.com/jaegertracing/jaeger",\n\t"Version": "v0.0.1",\n\t"Error": "github.com/jaegertracing/jaeger@v0.0.1: reading https://proxy.golang.org/github.com/jaegertracing/jaeger/@v/v0.0.1.info: 403 Forbidden"\n}\n';
    expect(() => parseGoModDownload(failed, 'jaeger@v0.0.1', '/log')).toThrow(ProvisionError);
    expect(() => parseGoModDownload(failed, 'jaeger@v0.0.1', '/log')).toThrow('go mod download of jaeger@v0.0.1 failed: github.com/jaegertracing/jaeger@v0.0.1: reading');
    expect(() => parseGoModDownload('go: no network', 'jaeger', '/log')).toThrow('printed no module description: go: no network');
    expect(() => parseGoModDownload('{}', 'jaeger', '/log')).toThrow('named no module folder');
  });

  it('EDA_HARNESS_JAEGER_VERSION is checked (it becomes a cache folder); default 1.76.0 (Jaeger v2.13)', () => {
    delete process.env['EDA_HARNESS_JAEGER_VERSION'];
    expect(jaegerVersion()).toBe('1.76.0');
    process.env['EDA_HARNESS_JAEGER_VERSION'] = '1.77.0';
    expect(jaegerVersion()).toBe('1.77.0');
    process.env['EDA_HARNESS_JAEGER_VERSION'] = '../1.0.0';
    expect(() => jaegerVersion()).toThrow(ConfigError);
  });

  it('a bad EDA_HARNESS_JAEGER_VERSION is refused by start() before anything is prepared', async () => {
    process.env['EDA_HARNESS_JAEGER_VERSION'] = 'latest';
    delete process.env['EDA_HARNESS_JAEGER_BIN'];
    const prepared: string[] = [];
    const never = async (): Promise<never> => {
      throw new Error('unused');
    };
    const fake = (kind: 'native' | 'containers' | 'external') => (): EnvironmentProvider => ({
      kind,
      prepare: async () => void prepared.push(kind),
      startKafka: never,
      startRabbitMq: never,
      startPrometheus: never,
      startJaeger: never,
    });
    const start = new Environment({ native: fake('native'), containers: fake('containers'), external: fake('external') }).withProvider('native').withJaeger().start();
    await expect(start).rejects.toThrow('EDA_HARNESS_JAEGER_VERSION must be a version of the Go module github.com/jaegertracing/jaeger such as 1.76.0 (got "latest")');
    expect(prepared).toEqual([]);
  });

  it('EDA_HARNESS_JAEGER_BIN: used as it is when it exists, reported when it does not', async () => {
    process.env['EDA_HARNESS_JAEGER_BIN'] = process.execPath;
    await expect(ensureJaeger({ progress: () => { throw new Error('nothing should be built'); } })).resolves.toBe(process.execPath);
    process.env['EDA_HARNESS_JAEGER_BIN'] = '/nonexistent/jaeger';
    await expect(ensureJaeger({ progress: () => undefined })).rejects.toThrow(PrerequisiteError);
  });
});

describe('an external Jaeger', () => {
  it('is chosen by JAEGER_QUERY_URL, not by OTEL_EXPORTER_OTLP_ENDPOINT alone (set for many other reasons)', () => {
    const both = { JAEGER_QUERY_URL: 'http://j:16686/', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://j:4318' };
    expect(selectProvider('jaeger', { choice: undefined, env: both, dockerAnswers: undefined })).toBe('external');
    expect(selectProvider('jaeger', { choice: undefined, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://j:4318' }, dockerAnswers: false })).toBe('native');
    expect(externalSettings(both)).toMatchObject({ jaegerQueryUrl: 'http://j:16686', otlpEndpoint: 'http://j:4318' });
  });

  it('needs both variables, as URLs', () => {
    expect(() => checkExternalSettings('jaeger', { JAEGER_QUERY_URL: 'http://j:16686' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT: it is not set');
    expect(() => selectProvider('jaeger', { choice: undefined, env: { JAEGER_QUERY_URL: 'http://j:16686' }, dockerAnswers: false })).toThrow(ConfigError);
    expect(() => checkExternalSettings('jaeger', { JAEGER_QUERY_URL: 'j:16686', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://j:4318' })).toThrow('JAEGER_QUERY_URL "j:16686"');
    expect(() => selectProvider('jaeger', { choice: 'external', env: {}, dockerAnswers: false })).toThrow('needs JAEGER_QUERY_URL (with OTEL_EXPORTER_OTLP_ENDPOINT)');
  });
});

describe('env up --jaeger', () => {
  it('alone starts Jaeger only; with other services, beside them', () => {
    expect(parseUpFlags(['--jaeger'])).toMatchObject({ jaeger: true, kafka: 0, rabbitmq: false });
    expect(parseUpFlags(['--kafka', '1', '--jaeger'])).toMatchObject({ jaeger: true, kafka: 1 });
    expect(parseUpFlags([])).toMatchObject({ jaeger: false });
  });

  it('prints what to export to use it', () => {
    const d: EnvironmentDescription = {
      runDir: '/r',
      startedAt: '',
      ownerPid: 1,
      jaeger: { provider: 'native', version: '1.76.0', queryUrl: 'http://127.0.0.1:1', otlpHttpUrl: 'http://127.0.0.1:2', otlpGrpcAddress: '127.0.0.1:3', pid: 9 },
      processes: [],
    };
    expect(formatDescription(d)).toContain('Jaeger (native, 1.76.0) (pid 9)\n  JAEGER_QUERY_URL=http://127.0.0.1:1  (query API, e.g. /api/v3/services)\n  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:2\n  OTLP/gRPC: 127.0.0.1:3');
  });
});

describe('env up\u2019s state file with Jaeger', () => {
  const saved = process.env['EDA_HARNESS_RUNS'];
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eda-jaeger-state-'));
    process.env['EDA_HARNESS_RUNS'] = join(dir, 'runs');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['EDA_HARNESS_RUNS'];
    else process.env['EDA_HARNESS_RUNS'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  const described = (jaeger: unknown): EnvironmentDescription =>
    ({ runDir: join(dir, 'run'), startedAt: '', ownerPid: process.pid, processes: [], jaeger }) as EnvironmentDescription;

  it('reads back its jaeger entry', () => {
    const jaeger = { provider: 'native', version: '1.76.0', queryUrl: 'http://127.0.0.1:1', otlpHttpUrl: 'http://127.0.0.1:2', otlpGrpcAddress: '127.0.0.1:3', pid: 9 };
    writeCurrentState(described(jaeger), { ownsRunDir: false });
    expect(readEnvironmentState()?.description.jaeger).toEqual(jaeger);
  });

  it('refuses a malformed jaeger entry', () => {
    writeCurrentState(described({ provider: 'native', queryUrl: 7 }), { ownsRunDir: false });
    expect(() => readEnvironmentState()).toThrow(StateFileError);
    expect(() => readEnvironmentState()).toThrow('its jaeger entry is malformed');
  });
});
