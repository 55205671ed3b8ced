import type { Options, Replies } from 'amqplib';
import { AMQP_DEFAULT_EXCHANGE } from '../shared/vocabulary';
import type { AnyFunction } from '../shared/patcher';
import { isThenable } from './runtime';
import type { AmqpRuntime, ChannelState } from './runtime';

/**
 * assertQueue: learns each queue's dead-letter target (so a nack(requeue=false) counts a DLQ
 * event) and whether it is exclusive (temporary: not a span name or label value). What the caller
 * gets back is amqplib's own result: the promise itself, or (callback API) the channel, with the
 * reply passed to the caller's callback.
 */
export function getAssertQueuePatch(rt: AmqpRuntime, state: ChannelState, original: AnyFunction): AnyFunction {
  return function observedAssertQueue(this: unknown, ...args: unknown[]): unknown {
    const [queue, options, callback] = args;
    const learn = (reply: unknown): void => {
      rt.tap.guard.run('amqp.assertQueue', () => learnQueue(rt, state, queue, options, reply));
    };
    if (state.callbackApi) {
      // A truthy non-function callback makes amqplib throw when it answers: leave that to amqplib.
      if (callback && typeof callback !== 'function') return original.apply(this, args);
      return original.apply(this, [queue, options, function observedReply(this: unknown, ...answer: unknown[]): unknown {
        if (answer[0] === null || answer[0] === undefined) learn(answer[1]);
        return typeof callback === 'function' ? (callback as AnyFunction).apply(this, answer) : undefined;
      }]);
    }
    const result = original.apply(this, args);
    if (isThenable(result)) {
      // Registered before the caller can await it, so what we learn is known when the caller goes on.
      try {
        result.then(learn, () => undefined);
      } catch {
        /* a foreign thenable that throws: nothing learned */
      }
    }
    return result;
  };
}

/** Most exclusive queue names a channel remembers to forget when it closes. */
const MAX_DECLARED = 1_000;

function learnQueue(rt: AmqpRuntime, state: ChannelState, queue: unknown, options: unknown, reply: unknown): void {
  const replied = (reply as Replies.AssertQueue | undefined)?.queue;
  const name = typeof replied === 'string' && replied !== '' ? replied : typeof queue === 'string' ? queue : undefined;
  if (!name || typeof options !== 'object' || options === null) return;
  const o = options as Options.AssertQueue;
  const dlq = deadLetterTarget(o);
  if (dlq !== undefined) rt.destinations.learnDeadLetter(name, dlq);
  if (o.exclusive === true) {
    rt.destinations.markTemporary(name);
    const declared = (state.declared ??= []);
    // Bounded too: a long-lived channel may declare a reply queue per call.
    if (declared.length >= MAX_DECLARED) declared.shift();
    declared.push(name);
  }
}

/**
 * The `dlq` label for a queue's dead-letter settings: the DLX; on the default exchange the queue
 * the dead-letter routing key names (as semconv names a publish there, and as the exporter labels
 * dead-letter queues), or `amq.default` when the message keeps its own routing key.
 */
function deadLetterTarget(options: Options.AssertQueue): string | undefined {
  const args = (options.arguments ?? {}) as Record<string, unknown>;
  const dlx = options.deadLetterExchange ?? args['x-dead-letter-exchange'];
  if (typeof dlx !== 'string') return undefined;
  if (dlx !== '') return dlx;
  const key = options.deadLetterRoutingKey ?? args['x-dead-letter-routing-key'];
  return typeof key === 'string' && key !== '' ? key : AMQP_DEFAULT_EXCHANGE;
}
