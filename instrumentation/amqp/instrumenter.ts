import type { Attributes } from '@opentelemetry/api';
import type { Channel } from 'amqplib';
import { ATTR, ERROR_TYPE } from '../shared/vocabulary';
import { Patcher } from '../shared/patcher';
import type { AnyFunction } from '../shared/patcher';
import type { AmqpInstrumentationOptions } from '../types';
import { getConsumePatch, getSettleAllPatch, getSettlePatch } from './delivery';
import { getGetPatch } from './get';
import { getPublishPatch } from './publish';
import { createAmqpRuntime, isThenable } from './runtime';
import type { AmqpRuntime, ChannelState } from './runtime';
import { abandon, release, stopSweeper } from './settle';
import { getAssertQueuePatch } from './topology';
import { PendingDeliveries } from './pending';

/**
 * One set of AMQP instrumentation state (tracer, metrics, patched methods, learned queues,
 * unsettled deliveries), shared by instrumentAmqp and AmqplibInstrumentation. A channel's state
 * lives on the channel (its wrappers and its 'close' listener); the runtime holds it only weakly,
 * and lets go of it when the channel closes.
 */
export interface AmqpInstrumenter {
  /**
   * Patches `owner.createChannel` / `owner.createConfirmChannel` (a ChannelModel or CallbackModel,
   * or their prototype) so every channel they create from now on is instrumented. Idempotent.
   */
  patchFactories(owner: object): void;
  /** Instruments one Channel or ConfirmChannel, of the promise API or the callback API. */
  instrumentChannel(channel: Channel): void;
  /** Restores every method patched through this instrumenter and ends what its channels still track. */
  restore(): void;
}

export function createAmqpInstrumenter(options: AmqpInstrumentationOptions): AmqpInstrumenter {
  const rt = createAmqpRuntime(options, new Patcher());
  return {
    patchFactories(owner) {
      for (const factory of ['createChannel', 'createConfirmChannel']) rt.patcher.wrap(owner, factory, (original) => getFactoryPatch(rt, original));
    },
    instrumentChannel: (channel) => instrumentChannel(rt, channel, isCallbackApiChannel(channel)),
    restore() {
      rt.patcher.restoreAll();
      rt.channels.forEach((state) => endChannel(rt, state, false));
      stopSweeper(rt);
    },
  };
}

/**
 * createChannel(...) / createConfirmChannel(...). The promise API resolves to the channel: it is
 * instrumented before the caller gets it. The callback API (amqplib/callback_api) returns the
 * channel itself, not yet open, and hands it to the callback later: it is instrumented at once and
 * returned unchanged, so the return value and the callback stay amqplib's.
 */
function getFactoryPatch(rt: AmqpRuntime, original: AnyFunction): AnyFunction {
  return function instrumentedCreateChannel(this: unknown, ...args: unknown[]): unknown {
    const result = original.apply(this, args);
    if (isThenable(result)) {
      return Promise.resolve(result).then((channel: unknown) => {
        if (isChannel(channel)) rt.tap.guard.run('amqp.instrumentChannel', () => instrumentChannel(rt, channel, false));
        return channel;
      });
    }
    if (isChannel(result)) rt.tap.guard.run('amqp.instrumentChannel', () => instrumentChannel(rt, result, true));
    return result;
  };
}

function isChannel(value: unknown): value is Channel {
  return typeof value === 'object' && value !== null && typeof (value as { publish?: unknown }).publish === 'function';
}

/**
 * A channel of amqplib's callback API, told by its methods' arity: there `consume(queue, onMessage,
 * options, callback)` and `assertQueue(queue, options, callback)` take a callback; the promise
 * API's take one argument fewer. Used only for a channel handed to instrumentAmqp directly.
 */
function isCallbackApiChannel(channel: Channel): boolean {
  try {
    const c = channel as unknown as { consume?: unknown; assertQueue?: unknown };
    return typeof c.consume === 'function' && c.consume.length >= 4 && typeof c.assertQueue === 'function' && c.assertQueue.length >= 3;
  } catch {
    return false;
  }
}

const SETTLE_METHODS = ['ack', 'nack', 'reject'] as const;

function instrumentChannel(rt: AmqpRuntime, channel: Channel, callbackApi: boolean): void {
  const state: ChannelState = { pending: new PendingDeliveries(), server: serverAttributes(channel), callbackApi, closed: false, declared: undefined, removeListeners: () => undefined };
  const p = rt.patcher;
  // sendToQueue calls this.publish('', queue, …), so publish covers both without double spans.
  let patched = p.wrap(channel, 'publish', (original) => getPublishPatch(rt, state, original));
  patched = p.wrap(channel, 'consume', (original) => getConsumePatch(rt, state, original)) || patched;
  patched = p.wrap(channel, 'get', (original) => getGetPatch(rt, state, original)) || patched;
  patched = p.wrap(channel, 'assertQueue', (original) => getAssertQueuePatch(rt, state, original)) || patched;
  for (const how of SETTLE_METHODS) patched = p.wrap(channel, how, (original) => getSettlePatch(rt, state, original, how)) || patched;
  patched = p.wrap(channel, 'ackAll', (original) => getSettleAllPatch(rt, state, original, 'ack')) || patched;
  patched = p.wrap(channel, 'nackAll', (original) => getSettleAllPatch(rt, state, original, 'nack')) || patched;
  // Nothing patched: instrumented already (by another instrumenter) or not a channel at all.
  if (!patched) return;
  const onClose = (): void => {
    state.closed = true;
    rt.tap.guard.run('amqp.close', () => endChannel(rt, state, true));
  };
  // First in line: amqplib's own 'close' listener fails the unconfirmed publishes, which are then
  // told apart from broker nacks by `state.closed`.
  const emitter = channel as unknown as { prependListener?: (event: string, fn: () => void) => unknown; on(event: string, fn: () => void): unknown; removeListener(event: string, fn: () => void): unknown };
  if (typeof emitter.prependListener === 'function') emitter.prependListener('close', onClose);
  else emitter.on('close', onClose);
  state.removeListeners = () => {
    emitter.removeListener('close', onClose);
  };
  rt.channels.add(state);
}

function serverAttributes(channel: Channel): Attributes {
  try {
    const stream = (channel as unknown as { connection?: { stream?: { remoteAddress?: unknown; remotePort?: unknown } } }).connection?.stream;
    const out: Attributes = {};
    if (typeof stream?.remoteAddress === 'string') out[ATTR.SERVER_ADDRESS] = stream.remoteAddress;
    if (typeof stream?.remotePort === 'number') out[ATTR.SERVER_PORT] = stream.remotePort;
    return out;
  } catch {
    return {};
  }
}

/**
 * The channel closed (or the instrumentation is removed): its listener goes, its unsettled
 * deliveries end, what it declared is forgotten, and the runtime lets go of it.
 */
function endChannel(rt: AmqpRuntime, state: ChannelState, closed: boolean): void {
  state.removeListeners();
  rt.channels.delete(state);
  for (const p of [...state.pending.values()]) {
    if (closed) abandon(rt, state, p, ERROR_TYPE.CHANNEL_CLOSED);
    else release(rt, state, p);
  }
  if (closed && state.declared) for (const queue of state.declared) rt.destinations.forgetTemporary(queue);
  state.declared = undefined;
}
