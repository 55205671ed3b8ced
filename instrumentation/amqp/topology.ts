import type { Options, Replies } from 'amqplib';
import { AMQP_DEFAULT_EXCHANGE } from '@eda-harness/semconv';
import type { AnyFunction } from '../shared/patcher';
import type { AmqpRuntime } from './runtime';

/** assertQueue: learns each queue's dead-letter target, so a nack(requeue=false) can be counted as a DLQ event. */
export function getAssertQueuePatch(rt: AmqpRuntime, original: AnyFunction): AnyFunction {
  return function observedAssertQueue(this: unknown, ...args: unknown[]): unknown {
    const [queue, options] = args;
    const result = original.apply(this, args);
    return Promise.resolve(result).then((reply: unknown) => {
      rt.tap.guard.run('amqp.assertQueue', () => {
        const name = (reply as Replies.AssertQueue | undefined)?.queue ?? (typeof queue === 'string' ? queue : undefined);
        const dlq = deadLetterTarget(options as Options.AssertQueue | undefined);
        if (name && dlq !== undefined) rt.deadLetter.set(name, dlq);
      });
      return reply;
    });
  };
}

/** The `dlq` label for a queue's dead-letter settings: the DLX, or amq.default:{key} for the default exchange. */
function deadLetterTarget(options: Options.AssertQueue | undefined): string | undefined {
  if (!options) return undefined;
  const args = (options.arguments ?? {}) as Record<string, unknown>;
  const dlx = options.deadLetterExchange ?? args['x-dead-letter-exchange'];
  if (typeof dlx !== 'string') return undefined;
  if (dlx !== '') return dlx;
  const key = options.deadLetterRoutingKey ?? args['x-dead-letter-routing-key'];
  return typeof key === 'string' ? `${AMQP_DEFAULT_EXCHANGE}:${key}` : AMQP_DEFAULT_EXCHANGE;
}
