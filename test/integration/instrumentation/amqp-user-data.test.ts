import { propagation } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { connect } from 'amqplib';
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { instrumentAmqp } from '../../../instrumentation/index';
import { HEADER } from '../../../semconv/index';
import { uniqueName } from '../../support/names';
import { until } from '../../support/until';
import { installOtel } from '../../unit/instrumentation/otel-fixture';
import type { OtelFixture } from '../../unit/instrumentation/otel-fixture';

// What the application sends must reach the broker as it was sent: its own trace headers and
// baggage, and every publish option, whatever object carries them. Real RabbitMQ, because
// "persistent" only means something to a broker that restarts.

let env: StartedEnvironment;
const opened: ChannelModel[] = [];

beforeAll(async () => {
  env = await new Environment().withRabbitMq().withToxiproxy(false).start();
}, 180_000);

afterAll(async () => {
  for (const c of opened) await c.close().catch(() => undefined);
  await env?.stop();
});

async function open(instrumented: boolean): Promise<ChannelModel> {
  const c = await connect(env.getAmqpUrl());
  c.on('error', () => undefined); // a broker restart closes connections with an error event
  opened.push(c);
  return instrumented ? instrumentAmqp(c, { registry: new Registry() }) : c;
}

async function confirmed(ch: ConfirmChannel, send: (cb: (err: unknown) => void) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => send((err) => (err ? reject(err as Error) : resolve())));
}

/** One message from `queue` through an uninstrumented connection: what the broker really holds. */
async function fetchOne(model: ChannelModel, queue: string): Promise<GetMessage> {
  const ch = await model.createChannel();
  try {
    const msg = await until(`a message on ${queue}`, () => ch.get(queue, { noAck: true }), { timeoutMs: 30_000 });
    return msg;
  } finally {
    await ch.close();
  }
}

const USER_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const USER_HEADERS = { traceparent: USER_TRACEPARENT, tracestate: 'vendor=abc', baggage: 'tenant=acme,plan=gold', 'x-app': 'kept' };

/** Publish options as an options class writes them: accessors over private state, nothing own and enumerable. */
class DurableOrderOptions {
  readonly #orderId: string;
  constructor(orderId: string) {
    this.#orderId = orderId;
  }
  get persistent(): boolean {
    return true;
  }
  get messageId(): string {
    return `order-${this.#orderId}`;
  }
  get replyTo(): string {
    return 'order-replies';
  }
  get expiration(): string {
    return '3600000';
  }
}

describe('amqplib: what the application sends arrives as sent (real RabbitMQ)', () => {
  it.each([
    ['nothing registered at all', false],
    ['W3C propagators registered but no tracer provider (spans do not record)', true],
  ])('with no SDK (%s), the caller\'s traceparent, tracestate and baggage arrive intact', async (_name, withPropagator) => {
    if (withPropagator) propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    try {
      const queue = uniqueName('ud-nosdk');
      const model = await open(true);
      const plain = await open(false);
      const ch = await model.createConfirmChannel();
      await ch.assertQueue(queue, { durable: false });
      await confirmed(ch, (cb) => ch.sendToQueue(queue, Buffer.from('x'), { headers: { ...USER_HEADERS } }, cb));
      const msg = await fetchOne(plain, queue);
      expect(msg.properties.headers).toMatchObject(USER_HEADERS);
      expect(msg.properties.headers?.[HEADER.PRODUCED_AT]).toMatch(/^\d+$/);
      await ch.deleteQueue(queue);
      await ch.close();
    } finally {
      propagation.disable();
    }
  });

  it('a persistent message published with class-instance options survives a RabbitMQ restart, its options intact', async () => {
    const queue = uniqueName('ud-durable');
    const model = await open(true);
    const ch = await model.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    await confirmed(ch, (cb) => ch.sendToQueue(queue, Buffer.from('{"order":42}'), new DurableOrderOptions('42'), cb));
    for (const c of opened.splice(0)) await c.close().catch(() => undefined);
    await env.rabbitmq!.node.restart();
    const after = await open(false);
    const msg = await fetchOne(after, queue);
    expect(msg.content.toString()).toBe('{"order":42}');
    expect(msg.properties).toMatchObject({ deliveryMode: 2, messageId: 'order-42', replyTo: 'order-replies', expiration: '3600000' });
    const cleanup = await after.createChannel();
    await cleanup.deleteQueue(queue);
    await cleanup.close();
  });

  describe('with an SDK registered', () => {
    let otel: OtelFixture;
    beforeAll(() => {
      otel = installOtel();
    });
    afterAll(async () => {
      await otel.close();
    });

    it('the caller\'s traceparent and baggage arrive intact, and the publish span links to that creation context', async () => {
      const queue = uniqueName('ud-sdk');
      const model = await open(true);
      const plain = await open(false);
      const ch = await model.createConfirmChannel();
      await ch.assertQueue(queue, { durable: false });
      await confirmed(ch, (cb) => ch.sendToQueue(queue, Buffer.from('x'), { headers: { ...USER_HEADERS } }, cb));
      const msg = await fetchOne(plain, queue);
      expect(msg.properties.headers).toMatchObject(USER_HEADERS);
      const publish = otel.spans(`publish ${queue}`)[0]!;
      expect(publish.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7']]);
      // Without a caller context the message carries the publish span's own.
      await confirmed(ch, (cb) => ch.sendToQueue(queue, Buffer.from('y'), { headers: { 'x-app': 'kept' } }, cb));
      const second = await fetchOne(plain, queue);
      const ours = otel.spans(`publish ${queue}`)[1]!;
      expect(second.properties.headers?.['traceparent']).toBe(`00-${ours.spanContext().traceId}-${ours.spanContext().spanId}-01`);
      await ch.deleteQueue(queue);
      await ch.close();
    });
  });
});
