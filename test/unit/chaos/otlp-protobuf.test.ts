import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OtlpProtobufError, spansOfOtlpProtobuf, wireFields } from '../../../chaos/service/otlp-protobuf';
import { otlpEncodingOf, spansOfOtlpJson, startServiceOtlpReceiver, type ReceivedServiceSpan, type ServiceOtlpReceiver } from '../../../chaos/service/otlp-receiver';

/** Spans from the SDK itself: two resources, a producer, its consumer child (with a link and attributes), an internal span. */
async function sdkSpans(): Promise<ReadableSpan[]> {
  const spans: ReadableSpan[] = [];
  for (const [name, version] of [
    ['inventory', '2.4.1'],
    ['billing', undefined],
  ] as const) {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': name, ...(version ? { 'service.version': version } : {}), 'host.cores': 2 }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('orders', '1.0.0');
    const producer = tracer.startSpan('orders publish', { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': 3 } }, context.active());
    const consumer = tracer.startSpan(
      `orders process é ${name}`,
      { kind: SpanKind.CONSUMER, links: [{ context: producer.spanContext(), attributes: { why: 'batch' } }], startTime: [1_700_000_000, 5] },
      trace.setSpan(context.active(), producer),
    );
    consumer.addEvent('retry', { attempt: 2 });
    consumer.end([1_700_000_000, 123_456_789]);
    producer.end();
    tracer.startSpan('internal').end();
    await provider.forceFlush();
    spans.push(...exporter.getFinishedSpans());
    await provider.shutdown();
  }
  return spans;
}

const post = (url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; type: string | undefined; body: Buffer }> =>
  new Promise((resolve, reject) => {
    const req = request(`${url}/v1/traces`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });

describe('OTLP/protobuf spans', () => {
  it('decodes the SDK serializer’s request into the same facts as its JSON request', async () => {
    const spans = await sdkSpans();
    const proto = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const json = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8')) as unknown;
    const fromProto = spansOfOtlpProtobuf(proto);
    expect(fromProto).toEqual(spansOfOtlpJson(json));
    expect(fromProto).toHaveLength(6);
    const consumer = fromProto.find((s) => s.name === 'orders process é inventory')!;
    const producer = fromProto.find((s) => s.name === 'orders publish' && s.serviceName === 'inventory')!;
    expect(consumer).toEqual<ReceivedServiceSpan>({
      serviceName: 'inventory',
      serviceVersion: '2.4.1',
      name: 'orders process é inventory',
      kind: 'consumer',
      traceId: producer.traceId,
      spanId: consumer.spanId,
      parentSpanId: producer.spanId,
      endMs: 1_700_000_000_123,
    });
    expect(producer).toMatchObject({ kind: 'producer', parentSpanId: undefined });
    expect(producer.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fromProto.filter((s) => s.serviceName === 'billing').map((s) => [s.kind, 'serviceVersion' in s])).toEqual([
      ['consumer', false],
      ['producer', false],
      ['other', false],
    ]);
  });

  it('refuses every truncation of a request with an error saying where, and a JSON body as not protobuf', async () => {
    const proto = Buffer.from(ProtobufTraceSerializer.serializeRequest(await sdkSpans())!);
    expect(() => spansOfOtlpProtobuf(proto.subarray(0, proto.length - 1))).toThrow(OtlpProtobufError);
    let refused = 0;
    for (let n = 1; n < proto.length; n++) {
      try {
        spansOfOtlpProtobuf(proto.subarray(0, n));
      } catch (err) {
        expect(err).toBeInstanceOf(OtlpProtobufError);
        refused++;
      }
    }
    // A cut between two top-level ResourceSpans is a valid shorter request; every other cut is refused.
    expect(refused).toBe(proto.length - 2);
    expect(() => spansOfOtlpProtobuf(Buffer.from('{"resourceSpans":[]}'))).toThrow(/ExportTraceServiceRequest: wire type 3 \(field 15\) at byte 0 is not one OTLP uses/);
    expect(() => wireFields(Buffer.from([0x0a, 0x05, 0x01]), 'M')).toThrow('M: truncated length-delimited field 1 at byte 0: 5 bytes announced, 1 left');
    expect(() => wireFields(Buffer.from([0x08, 0xff]), 'M')).toThrow('M: truncated varint at byte 2 of 2');
    expect(() => wireFields(Buffer.from([0x00, 0x00]), 'M')).toThrow(/field number 0/);
    expect(spansOfOtlpProtobuf(Buffer.alloc(0))).toEqual([]);
  });

  it('names the encoding of a content type', () => {
    expect(otlpEncodingOf('application/x-protobuf')).toBe('protobuf');
    expect(otlpEncodingOf('application/json; charset=utf-8')).toBe('json');
    expect(otlpEncodingOf('text/plain')).toBeUndefined();
    expect(otlpEncodingOf(undefined)).toBeUndefined();
  });
});

describe('the OTLP receiver', () => {
  let receiver: ServiceOtlpReceiver;
  const received: ReceivedServiceSpan[] = [];
  const problems: string[] = [];
  beforeEach(async () => {
    received.length = 0;
    problems.length = 0;
    receiver = await startServiceOtlpReceiver(
      (s) => received.push(s),
      (m) => problems.push(m),
    );
  });
  afterEach(() => receiver.close());

  it('takes protobuf and JSON, plain or gzip, and answers an empty response in the same encoding', async () => {
    const spans = await sdkSpans();
    const proto = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const json = Buffer.from(JsonTraceSerializer.serializeRequest(spans)!);
    const p = await post(receiver.endpoint, proto, { 'content-type': 'application/x-protobuf' });
    expect([p.status, p.type, p.body.length]).toEqual([200, 'application/x-protobuf', 0]);
    const pz = await post(receiver.endpoint, gzipSync(proto), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(pz.status).toBe(200);
    const jz = await post(receiver.endpoint, gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect([jz.status, jz.type, jz.body.toString()]).toEqual([200, 'application/json', '{}']);
    expect(received).toHaveLength(18);
    expect(received.slice(12)).toEqual(received.slice(0, 6));
    expect(receiver.stats()).toEqual({ accepted: 3, protobuf: 2, spans: 18, rejected: 0, ignored: 0 });
    expect(problems).toEqual([]);
  });

  it('answers 400 to a body it cannot read, 415 to another encoding, says why, and keeps receiving', async () => {
    const proto = Buffer.from(ProtobufTraceSerializer.serializeRequest(await sdkSpans())!);
    const cut = await post(receiver.endpoint, proto.subarray(0, 40), { 'content-type': 'application/x-protobuf' });
    expect(cut.status).toBe(400);
    expect(cut.body.toString()).toMatch(/^an OTLP\/HTTP protobuf export \(40 bytes\) could not be read: .*truncated/);
    const badGzip = await post(receiver.endpoint, proto, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
    expect(badGzip.body.toString()).toContain('the gzip body could not be decompressed');
    const badJson = await post(receiver.endpoint, '{"resourceSpans":', { 'content-type': 'application/json' });
    expect(badJson.body.toString()).toContain('the body is not JSON');
    const text = await post(receiver.endpoint, 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body.toString()).toContain('set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL to http/protobuf or http/json');
    const brotli = await post(receiver.endpoint, proto, { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' });
    expect(brotli.status).toBe(415);
    expect(await post(receiver.endpoint, proto, { 'content-type': 'application/x-protobuf' })).toMatchObject({ status: 200 });
    expect(receiver.stats()).toEqual({ accepted: 1, protobuf: 1, spans: 6, rejected: 5, ignored: 0 });
    expect(problems).toHaveLength(5);
  });
});
