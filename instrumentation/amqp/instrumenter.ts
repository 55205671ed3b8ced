import type { Attributes } from '@opentelemetry/api';
import type { Channel } from 'amqplib';
import { ATTR, ERROR_TYPE } from '@eda-harness/semconv';
import { Patcher } from '../shared/patcher';
import type { AnyFunction } from '../shared/patcher';
import type { AmqpInstrumentationOptions } from '../types';
import { getConsumePatch, getSettleAllPatch, getSettlePatch, giveUp } from './delivery';
import { getGetPatch } from './get';
import { getPublishPatch } from './publish';
import { createAmqpRuntime } from './runtime';
import type { AmqpRuntime, ChannelState } from './runtime';
import { getAssertQueuePatch } from './topology';

const DEFAULT_SETTLE_TIMEOUT_MS = 300_000;

/**
 * One set of AMQP instrumentation state (tracer, metrics, patched methods, learned dead-letter
 * exchanges, unsettled deliveries), shared by instrumentAmqp and AmqplibInstrumentation.
 */
export interface AmqpInstrumenter {
  /**
   * Patches `owner.createChannel` / `owner.createConfirmChannel` (a ChannelModel, or
   * `ChannelModel.prototype`) so every channel they resolve to from now on is instrumented. Idempotent.
   */
  patchFactories(owner: object): void;
  /** Instruments one Channel or ConfirmChannel. */
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
    instrumentChannel: (channel) => instrumentChannel(channel, rt),
    restore() {
      rt.patcher.restoreAll();
      for (const state of rt.channels) endChannel(rt, state, false);
      rt.channels.clear();
    },
  };
}

/** createChannel(...) / createConfirmChannel(...): resolve as amqplib does, then instrument the channel. */
function getFactoryPatch(rt: AmqpRuntime, original: AnyFunction): AnyFunction {
  return function instrumentedCreateChannel(this: unknown, ...args: unknown[]): unknown {
    return Promise.resolve(original.apply(this, args)).then((channel: unknown) => {
      if (typeof channel === 'object' && channel !== null) rt.tap.guard.run('amqp.instrumentChannel', () => instrumentChannel(channel as Channel, rt));
      return channel;
    });
  };
}

function instrumentChannel(channel: Channel, rt: AmqpRuntime): void {
  const state: ChannelState = { channel, pending: new Map(), server: serverAttributes(channel), timer: undefined, removeListeners: () => undefined };
  rt.channels.add(state);
  const p = rt.patcher;
  // sendToQueue calls this.publish('', queue, …), so publish covers both without double spans.
  p.wrap(channel, 'publish', (original) => getPublishPatch(rt, state, original));
  p.wrap(channel, 'consume', (original) => getConsumePatch(rt, state, original));
  p.wrap(channel, 'get', (original) => getGetPatch(rt, state, original));
  p.wrap(channel, 'assertQueue', (original) => getAssertQueuePatch(rt, original));
  p.wrap(channel, 'ack', (original) => getSettlePatch(rt, state, original, 'ack'));
  p.wrap(channel, 'nack', (original) => getSettlePatch(rt, state, original, 'nack'));
  p.wrap(channel, 'reject', (original) => getSettlePatch(rt, state, original, 'reject'));
  p.wrap(channel, 'ackAll', (original) => getSettleAllPatch(rt, state, original, 'ack'));
  p.wrap(channel, 'nackAll', (original) => getSettleAllPatch(rt, state, original, 'nack'));
  const onClose = () => rt.tap.guard.run('amqp.close', () => endChannel(rt, state, true));
  channel.on('close', onClose);
  state.removeListeners = () => channel.removeListener('close', onClose);
  const timeout = rt.options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS;
  // Sweeps deliveries nobody settled; unref'd so it never keeps the process alive.
  state.timer = setInterval(() => rt.tap.guard.run('amqp.sweep', () => sweep(rt, state, timeout)), Math.max(50, Math.min(timeout / 2, 30_000)));
  state.timer.unref();
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

/** The channel closed (or the instrumentation is removed): stop its timer and end what it still tracks. */
function endChannel(rt: AmqpRuntime, state: ChannelState, closed: boolean): void {
  if (state.timer) clearInterval(state.timer);
  state.timer = undefined;
  state.removeListeners();
  for (const p of [...state.pending.values()]) giveUp(rt, state, p, closed ? ERROR_TYPE.CHANNEL_CLOSED : undefined);
  rt.channels.delete(state);
}

function sweep(rt: AmqpRuntime, state: ChannelState, timeoutMs: number): void {
  const cutoff = Date.now() - timeoutMs;
  for (const p of [...state.pending.values()]) {
    if (p.startedMs <= cutoff) giveUp(rt, state, p, ERROR_TYPE.TIMEOUT);
  }
}
