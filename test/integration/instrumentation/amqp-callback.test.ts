import { SpanKind } from '@opentelemetry/api';
import * as callbackApi from 'amqplib/callback_api';
import type { Channel, ConfirmChannel, Connection, Message, Replies } from 'amqplib/callback_api';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { instrumentAmqp } from '../../../instrumentation/index';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { until } from '../../support/until';
import { installOtel } from '../../unit/instrumentation/otel-fixture';
import type { OtelFixture } from '../../unit/instrumentation/otel-fixture';
import { metricValue } from '../../unit/instrumentation/metric-values';

// amqplib's callback API (amqplib/callback_api) against a real RabbitMQ: every method answers
// through a callback and returns the channel, and must go on doing so once instrumented.

let env: StartedEnvironment;
let otel: OtelFixture;
let connection: Connection;
const registry = new Registry();

/** `fn(cb)` as a promise of what the callback gets. */
function answer<T>(fn: (cb: (err: unknown, value?: T) => void) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    fn((err, value) => (err ? reject(err as Error) : resolve(value as T)));
  });
}

beforeAll(async () => {
  otel = installOtel();
  env = await new Environment().withRabbitMq().withToxiproxy(false).start();
  connection = instrumentAmqp(await answer<Connection>((cb) => callbackApi.connect(env.getAmqpUrl(), cb)), { registry });
  connection.on('error', () => undefined);
}, 180_000);

afterAll(async () => {
  if (connection) await answer((cb) => connection.close(cb)).catch(() => undefined);
  await env?.stop();
  await otel?.close();
});

describe('amqplib callback API, instrumented (real RabbitMQ)', () => {
  it('createChannel(cb) and createConfirmChannel(cb) return the channel and call back with it, instrumented', async () => {
    let returned: unknown;
    const ch = await answer<Channel>((cb) => {
      returned = connection.createChannel(cb);
    });
    expect(returned).toBe(ch);
    let returnedConfirm: unknown;
    const confirm = await answer<ConfirmChannel>((cb) => {
      returnedConfirm = connection.createConfirmChannel(cb);
    });
    expect(returnedConfirm).toBe(confirm);
    const queue = uniqueName('cb-q');
    await answer<Replies.AssertQueue>((cb) => confirm.assertQueue(queue, { durable: false }, cb));
    await answer((cb) => confirm.sendToQueue(queue, Buffer.from('x'), {}, cb));
    expect(otel.spans(`publish ${queue}`).map((s) => s.kind)).toEqual([SpanKind.PRODUCER]);
    await answer((cb) => confirm.deleteQueue(queue, {}, cb));
    await answer((cb) => ch.close(cb));
    await answer((cb) => confirm.close(cb));
  });

  it('publish, consume, ack and get: traced, counted, and every method still returns the channel', async () => {
    const queue = uniqueName('cb-work');
    const ch = await answer<Channel>((cb) => connection.createChannel(cb));
    let declareReturned: unknown;
    const declared = await answer<Replies.AssertQueue>((cb) => {
      declareReturned = ch.assertQueue(queue, { durable: false }, cb);
    });
    expect(declareReturned).toBe(ch);
    expect(declared.queue).toBe(queue);
    ch.sendToQueue(queue, Buffer.from('pushed'));
    const seen: Message[] = [];
    let consumeReturned: unknown;
    await answer<Replies.Consume>((cb) => {
      consumeReturned = ch.consume(queue, (msg) => {
        if (!msg) return;
        seen.push(msg);
        expect(ch.ack(msg)).toBe(ch);
      }, {}, cb);
    });
    expect(consumeReturned).toBe(ch);
    await until('the delivery', () => seen.length === 1, { timeoutMs: 30_000 });
    const publish = otel.spans(`publish ${queue}`)[0]!;
    const processSpan = await until('the process span', () => otel.spans(`process ${queue}`)[0], { timeoutMs: 10_000 });
    expect(processSpan.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(processSpan.attributes['eda.amqp.settlement']).toBe('ack');

    const pullQueue = uniqueName('cb-pull');
    await answer((cb) => ch.assertQueue(pullQueue, { durable: false }, cb));
    ch.sendToQueue(pullQueue, Buffer.from('pulled'));
    const got = await until('a message to get', () => answer<Message | false>((cb) => ch.get(pullQueue, {}, cb)), { timeoutMs: 30_000 });
    ch.ack(got);
    const receive = otel.spans(`receive ${pullQueue}`).find((s) => s.links.length === 1)!;
    expect(receive.kind).toBe(SpanKind.CLIENT);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: queue, messaging_operation_name: 'process' })).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: pullQueue, messaging_operation_name: 'receive' })).toBe(1);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name, { messaging_destination_name: queue })).toBe(0);
    await answer((cb) => ch.deleteQueue(queue, {}, cb));
    await answer((cb) => ch.deleteQueue(pullQueue, {}, cb));
    await answer((cb) => ch.close(cb));
  });
});
