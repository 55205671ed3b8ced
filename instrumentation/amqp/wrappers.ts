import type { Channel } from 'amqplib';
import { markedHandle, unmark } from '../shared/handle';
import type { AmqpInstrumentationOptions, InstrumentationHandle } from '../types';
import { createAmqpInstrumenter } from './instrumenter';

// Registered symbol: two copies of this package (CJS + ESM, or a bundle) see the same mark.
const INSTRUMENTED = Symbol.for('eda-harness.instrumentation.amqp');

/**
 * Instruments an amqplib ChannelModel (every channel it creates from now on) or one Channel /
 * ConfirmChannel. Returns its argument. Instrumenting twice is a no-op; {@link uninstrumentAmqp}
 * restores every original method.
 */
export function instrumentAmqp<T extends object>(target: T, options: AmqpInstrumentationOptions = {}): T {
  amqpHandle(target, options);
  return target;
}

/** Restores a model or channel instrumented by {@link instrumentAmqp} (and the channels it created). */
export function uninstrumentAmqp(target: object): void {
  unmark(target, INSTRUMENTED);
}

/** Like {@link instrumentAmqp}, returning the handle that undoes it. */
export function amqpHandle(target: object, options: AmqpInstrumentationOptions = {}): InstrumentationHandle {
  return markedHandle(target, INSTRUMENTED, () => {
    const instrumenter = createAmqpInstrumenter(options);
    const t = target as Record<string, unknown>;
    if (typeof t['createChannel'] === 'function') instrumenter.patchFactories(target);
    else if (typeof t['publish'] === 'function' && typeof t['consume'] === 'function') instrumenter.instrumentChannel(target as Channel);
    return () => instrumenter.restore();
  });
}
