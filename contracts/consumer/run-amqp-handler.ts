import type { Channel, ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { waitFor } from '@eda-harness/core';
import { amqpHandle } from '@eda-harness/instrumentation';
import { createCapturingChannel } from '../capturing-channel';
import type { AmqpHandlingOptions, AmqpHandlingResult, AmqpSettlement } from '../types';

/** Builds the consume callback from the channel it will settle on (as services do). */
export type AmqpHandlerFactory<R> = (channel: Channel) => (msg: ConsumeMessage | null) => Promise<R> | R;

/**
 * Runs an amqplib consume callback on one message the way amqplib would: registered with
 * `channel.consume` on an instrumented channel, delivered, then awaited until the handler
 * settles it. Returns how it was settled and anything it published.
 */
export async function runAmqpHandler<R>(message: ConsumeMessage, factory: AmqpHandlerFactory<R>, options: AmqpHandlingOptions = {}): Promise<AmqpHandlingResult<R>> {
  const capture = createCapturingChannel();
  const instrumentation = amqpHandle(capture.channel, { registry: new Registry(), ...options.instrumentation });
  const queue = options.queue ?? 'contract-test';
  try {
    const handler = factory(capture.channel);
    let outcome: Promise<R> | undefined;
    // The callback returns nothing, as amqplib callbacks do; the outcome is awaited on the side.
    await capture.channel.consume(queue, (msg) => {
      outcome = Promise.resolve().then(() => handler(msg));
    });
    capture.deliver(queue, message);
    if (!outcome) throw new Error('the consume callback was not called');
    const result = await outcome;
    const tag = message.fields.deliveryTag;
    let settlement: AmqpSettlement = { kind: 'none' };
    try {
      settlement = await waitFor(() => capture.settlementOf(tag), { description: 'the handler to settle the message', timeoutMs: options.settleTimeoutMs ?? 5_000, intervalMs: 5 });
    } catch {
      // Left unsettled: reported as such, the caller decides whether that fails the test.
    }
    return { result, message, settlement, published: [...capture.published] };
  } finally {
    instrumentation.uninstrument();
  }
}
