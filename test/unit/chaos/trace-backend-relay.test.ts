import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { recordingHttpServer } from '../../support/recording-http-server';
import { startServiceOtlpReceiver, type ReceivedServiceSpan } from '../../../chaos/service/otlp-receiver';

/**
 * The harness's OTLP receiver relaying a service's exports to a trace backend (relayTo): the same
 * bytes, content type and encoding reach the backend, the spans are still handed over live, and a
 * relay that fails is counted and said once, never thrown. Loopback servers only, milliseconds.
 */

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);
const span = (traceId: string, spanId: string) => ({ traceId, spanId, name: 'orders process', kind: 5, endTimeUnixNano: '1700000000000000000' });
const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'inventory' } }] }, scopeSpans: [{ spans: [span(T1, '1'.repeat(16)), span(T1, '2'.repeat(16)), span(T2, '3'.repeat(16))] }] }] });

function post(url: string, payload: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/traces`, { method: 'POST', headers: { ...headers, 'content-length': payload.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}


describe('the OTLP receiver relaying to a trace backend', () => {
  it('passes each export on as it came (gzip included), counts spans per trace, and still hands them over', async () => {
    const jaeger = await recordingHttpServer(200);
    const seen: ReceivedServiceSpan[] = [];
    const problems: string[] = [];
    const receiver = await startServiceOtlpReceiver((s) => seen.push(s), (m) => problems.push(m), { relayTo: `${jaeger.url}/` });
    const plain = Buffer.from(body);
    const zipped = gzipSync(plain);
    expect(await post(receiver.endpoint, plain, { 'content-type': 'application/json' })).toBe(200);
    expect(await post(receiver.endpoint, zipped, { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toBe(200);
    await receiver.close();
    await jaeger.close();
    expect(seen).toHaveLength(6);
    expect(jaeger.got.map((g) => g.path)).toEqual(['/v1/traces', '/v1/traces']);
    expect(jaeger.got[0]!.body.equals(plain)).toBe(true);
    expect(jaeger.got[1]!.body.equals(zipped)).toBe(true);
    expect(jaeger.got[1]!.headers['content-encoding']).toBe('gzip');
    expect(jaeger.got[0]!.headers['content-type']).toBe('application/json');
    expect(receiver.relayed()).toEqual({ perTrace: new Map([[T1, 4], [T2, 2]]), spans: 6, failed: 0, lastError: undefined });
    expect(problems).toEqual([]);
  });

  it('counts a relay the backend refuses or cannot take, says it once, and still answers the service 200', async () => {
    const refusing = await recordingHttpServer(503);
    const problems: string[] = [];
    const receiver = await startServiceOtlpReceiver(() => undefined, (m) => problems.push(m), { relayTo: refusing.url });
    expect(await post(receiver.endpoint, Buffer.from(body), { 'content-type': 'application/json' })).toBe(200);
    expect(await post(receiver.endpoint, Buffer.from(body), { 'content-type': 'application/json' })).toBe(200);
    await receiver.close();
    await refusing.close();
    expect(receiver.relayed()).toMatchObject({ spans: 6, failed: 6, lastError: 'HTTP 503' });
    expect(problems).toEqual([`relaying the service's spans to ${refusing.url}/v1/traces failed: HTTP 503`]);

    // Nothing listens there any more: a connection error, counted the same way.
    const closed = await startServiceOtlpReceiver(() => undefined, () => undefined, { relayTo: refusing.url });
    await post(closed.endpoint, Buffer.from(body), { 'content-type': 'application/json' });
    await closed.close();
    expect(closed.relayed()).toMatchObject({ spans: 3, failed: 3, lastError: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('relays nothing without relayTo', async () => {
    const receiver = await startServiceOtlpReceiver(() => undefined, () => undefined);
    await post(receiver.endpoint, Buffer.from(body), { 'content-type': 'application/json' });
    await receiver.close();
    expect(receiver.relayed()).toEqual({ perTrace: new Map(), spans: 0, failed: 0, lastError: undefined });
  });
});
