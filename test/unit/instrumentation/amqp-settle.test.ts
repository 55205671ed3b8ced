import { EventEmitter } from 'node:events';
import { runInThisContext } from 'node:vm';
import { ROOT_CONTEXT, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { waitFor } from '../../../core/wait-for';
import { instrumentAmqp } from '../../../instrumentation/index';
import { ATTR, METRIC } from '../../../semconv/index';
import { metricValue } from './metric-values';
import { useOtel } from './otel-fixture';

/** An amqplib-shaped channel; as in amqplib, its own 'close' listener fails every unconfirmed publish. */
class FakeChannel extends EventEmitter {
  handlers = new Map<string, (msg: ConsumeMessage | null) => unknown>();
  confirms: Array<((err: unknown) => void) | false> = [];
  constructor() {
    super();
    this.on('close', () => {
      for (const cb of this.confirms) if (cb) cb(new Error('channel closed'));
      this.confirms = [];
    });
  }
  publish(_exchange: string, _routingKey: string, _content: Buffer, _options: unknown, cb?: (err: unknown) => void): boolean {
    this.confirms.push(cb ?? false);
    return true;
  }
  sendToQueue(queue: string, content: Buffer, options: unknown, cb?: (err: unknown) => void): boolean {
    return this.publish('', queue, content, options, cb);
  }
  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => unknown): Promise<{ consumerTag: string }> {
    this.handlers.set(queue, onMessage);
    return { consumerTag: 'ctag' };
  }
  async get(): Promise<false> {
    return false;
  }
  async assertQueue(queue: string): Promise<{ queue: string; messageCount: number; consumerCount: number }> {
    return { queue, messageCount: 0, consumerCount: 0 };
  }
  ack(..._args: unknown[]): void {}
  nack(..._args: unknown[]): void {}
  reject(..._args: unknown[]): void {}
  ackAll(..._args: unknown[]): void {}
  nackAll(..._args: unknown[]): void {}
  message(queue: string, tag: number): ConsumeMessage {
    return { content: Buffer.from('x'), fields: { deliveryTag: tag, redelivered: false, exchange: '', routingKey: queue, consumerTag: 'ctag' }, properties: { headers: {} } } as unknown as ConsumeMessage;
  }
  deliver(queue: string, tag: number): unknown {
    return this.handlers.get(queue)!(this.message(queue, tag));
  }
}

class FakeConfirmChannel extends FakeChannel {
  async waitForConfirms(): Promise<void> {}
  /** The broker confirms (or nacks) the oldest unconfirmed publish, from the socket: no context of the caller's. */
  confirm(err: Error | null): void {
    const cb = this.confirms.shift();
    context.with(ROOT_CONTEXT, () => cb && cb(err));
  }
}

const otel = useOtel();
let registry: Registry;
beforeEach(() => {
  registry = new Registry();
});

const processed = (labels: Record<string, string> = {}) => metricValue(registry, METRIC.MESSAGES_PROCESSED.name, labels);
const inFlight = () => metricValue(registry, METRIC.IN_FLIGHT.name);

describe('long jobs: the settle timeout', () => {
  it('a delivery settled after the timeout: its span ends with error.type=timeout, and the late ack is counted once, as a success', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry, settleTimeoutMs: 60 });
    await ch.consume('jobs', () => undefined);
    ch.deliver('jobs', 1);
    const [span] = await waitFor(() => (otel.spans('process jobs').length === 1 ? otel.spans('process jobs') : undefined), { description: 'the span to time out', timeoutMs: 5_000, intervalMs: 20 });
    expect(span!.attributes[ATTR.ERROR_TYPE]).toBe('timeout');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    // Still unacknowledged at the broker: in flight, and no outcome counted yet.
    expect(await inFlight()).toBe(1);
    expect(await processed()).toBe(0);
    ch.ack(ch.message('jobs', 1));
    expect(await inFlight()).toBe(0);
    expect(await processed()).toBe(1);
    expect(await processed({ error_type: 'undefined' })).toBe(1); // no error_type label: success
    expect(await metricValue(registry, METRIC.PROCESS_DURATION.name, { error_type: 'undefined' }, `${METRIC.PROCESS_DURATION.name}_count`)).toBe(1);
    expect(otel.spans()).toHaveLength(1);
  });

  it('a late nack is counted with its real outcome, not as a timeout', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry, settleTimeoutMs: 60 });
    await ch.consume('jobs', () => undefined);
    ch.deliver('jobs', 1);
    await waitFor(() => otel.spans('process jobs').length === 1, { description: 'the span to time out', timeoutMs: 5_000, intervalMs: 20 });
    ch.nack(ch.message('jobs', 1), false, false);
    expect(await processed({ error_type: 'nacked' })).toBe(1);
    expect(await processed({ error_type: 'timeout' })).toBe(0);
  });

  it('the default timeout is RabbitMQ\'s consumer_timeout, 30 minutes: a 10-minute job is not a timeout', async () => {
    jest.useFakeTimers({ now: Date.now() });
    try {
      const ch = instrumentAmqp(new FakeChannel(), { registry });
      await ch.consume('jobs', () => undefined);
      ch.deliver('jobs', 1);
      jest.advanceTimersByTime(10 * 60_000);
      expect(otel.spans()).toHaveLength(0);
      ch.ack(ch.message('jobs', 1));
      expect(otel.spans('process jobs')[0]!.attributes[ATTR.ERROR_TYPE]).toBeUndefined();
      ch.deliver('jobs', 2);
      jest.advanceTimersByTime(31 * 60_000);
      expect(otel.spans('process jobs')[1]!.attributes[ATTR.ERROR_TYPE]).toBe('timeout');
    } finally {
      jest.useRealTimers();
    }
  });

  it('a channel that closes before the settle: counted once, as channel_closed', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry, settleTimeoutMs: 60 });
    await ch.consume('jobs', () => undefined);
    ch.deliver('jobs', 1);
    await waitFor(() => otel.spans('process jobs').length === 1, { description: 'the span to time out', timeoutMs: 5_000, intervalMs: 20 });
    ch.emit('close');
    expect(await processed()).toBe(1);
    expect(await processed({ error_type: 'channel_closed' })).toBe(1);
    expect(await inFlight()).toBe(0);
    expect(ch.listenerCount('close')).toBe(1); // amqplib's (the fake's) own; ours is gone
  });
});

describe('confirm channels', () => {
  it('the caller\'s confirm callback runs in the publish span\'s context, not the socket\'s', async () => {
    const ch = instrumentAmqp(new FakeConfirmChannel(), { registry });
    const seen: Array<string | undefined> = [];
    trace.getTracer('app').startActiveSpan('checkout', (checkout) => {
      ch.publish('ex', 'rk', Buffer.from('x'), {}, () => seen.push(trace.getActiveSpan()?.spanContext().spanId));
      checkout.end();
    });
    ch.confirm(null);
    const publish = otel.spans('publish ex')[0]!;
    expect(seen).toEqual([publish.spanContext().spanId]);
    expect(otel.spans('checkout')[0]!.spanContext().traceId).toBe(publish.spanContext().traceId);
  });

  it('the callback gets exactly what amqplib passed (one argument)', async () => {
    const ch = instrumentAmqp(new FakeConfirmChannel(), { registry });
    const calls: unknown[][] = [];
    ch.publish('ex', 'rk', Buffer.from('x'), {}, (...args: unknown[]) => void calls.push(args));
    ch.confirm(null);
    expect(calls).toEqual([[null]]);
  });

  it('a publish lost because the channel closed is channel_closed, a broker nack is nacked', async () => {
    const ch = instrumentAmqp(new FakeConfirmChannel(), { registry });
    const results: unknown[] = [];
    ch.sendToQueue('q', Buffer.from('1'), {}, (err) => results.push(err));
    ch.sendToQueue('q', Buffer.from('2'), {}, (err) => results.push(err));
    ch.confirm(new Error('message nacked'));
    ch.emit('close');
    expect(results.map((e) => (e as Error).message)).toEqual(['message nacked', 'channel closed']);
    const types = otel.spans('publish q').map((s) => s.attributes[ATTR.ERROR_TYPE]);
    expect(types).toEqual(['nacked', 'channel_closed']);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { error_type: 'channel_closed' })).toBe(1);
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { error_type: 'nacked' })).toBe(1);
  });
});

describe('handlers that fail with anything, or nothing', () => {
  const reasons: Array<[string, () => unknown]> = [
    ['Promise.reject() (no reason)', () => undefined],
    ['null', () => null],
    ['a null-prototype object', () => Object.create(null)],
    ['a string', () => 'nope'],
  ];

  it.each(reasons)('a handler rejecting with %s: the span ends with ERROR, in flight back to 0, failure counted', async (_name, reason) => {
    const ch = instrumentAmqp(new FakeChannel(), { registry, logger: { warn: () => undefined } });
    const rejection = reason();
    await ch.consume('q', () => Promise.reject(rejection));
    // amqplib ignores the handler's promise: its rejection was unhandled before the instrumentation
    // and must stay so, with the same reason. Jest listens on the real process (outside the test's
    // vm context) and would fail the test on it, so its listener steps aside meanwhile.
    const realProcess = runInThisContext('process') as NodeJS.Process;
    const jestListeners = realProcess.listeners('unhandledRejection');
    realProcess.removeAllListeners('unhandledRejection');
    const unhandled: unknown[] = [];
    realProcess.on('unhandledRejection', (r: unknown) => void unhandled.push(r));
    try {
      ch.deliver('q', 1);
      await waitFor(() => otel.spans('process q').length === 1, { description: 'the span to end', timeoutMs: 2_000, intervalMs: 5 });
      await waitFor(() => unhandled.length === 1, { description: 'the rejection to stay unhandled', timeoutMs: 2_000, intervalMs: 5 });
    } finally {
      realProcess.removeAllListeners('unhandledRejection');
      for (const l of jestListeners) realProcess.on('unhandledRejection', l);
    }
    expect(unhandled[0]).toBe(rejection);
    const span = otel.spans('process q')[0]!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(await inFlight()).toBe(0);
    expect(await processed({ error_type: 'undefined' })).toBe(0);
    expect(await processed()).toBe(1);
  });

  it('a handler throwing undefined synchronously: amqplib gets the throw, the span records a failure', async () => {
    const ch = instrumentAmqp(new FakeChannel(), { registry, logger: { warn: () => undefined } });
    await ch.consume('q', () => {
      throw undefined;
    });
    let thrown: unknown = 'nothing';
    try {
      ch.deliver('q', 1);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeUndefined();
    expect(otel.spans('process q')[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(await inFlight()).toBe(0);
    expect(await processed({ error_type: '_OTHER' })).toBe(1);
  });
});
