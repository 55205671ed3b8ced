import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Patcher } from '../../../instrumentation/shared/patcher';
import type { AnyFunction } from '../../../instrumentation/shared/patcher';
import { markedHandle, unmark } from '../../../instrumentation/shared/handle';

/**
 * The collector, whether or not Node was started with --expose-gc: the flag can be set at run
 * time, and a fresh context then sees the `gc` global (Jest passes no node flags to its workers).
 */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collects, letting WeakRefs created in this job and FinalizationRegistry callbacks settle. */
async function collect(gc: () => void): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  await new Promise((resolve) => setImmediate(resolve));
}

const passThrough = (original: AnyFunction): AnyFunction =>
  function (this: unknown, ...args: unknown[]) {
    return original.apply(this, args);
  };

/** Like a kafkajs producer or an amqplib channel: its methods are closures over its own state. */
function makeClient(): Record<string, AnyFunction> & { state: number[] } {
  const state = new Array<number>(64).fill(1);
  const client = {
    state,
    send: () => state.length,
    publish: () => state[0],
    consume: () => state[1],
  };
  return client as unknown as Record<string, AnyFunction> & { state: number[] };
}

/** Wraps `n` new clients and drops them (a plain function: no async frame keeps the last one). */
function wrapAndDrop(p: Patcher, n: number, survivors: Array<WeakRef<object>>): void {
  for (let i = 0; i < n; i++) {
    const client = makeClient();
    // Several methods per target, as for a channel: the old code scanned every record per wrap.
    p.wrap(client, 'send', passThrough);
    p.wrap(client, 'publish', passThrough);
    p.wrap(client, 'consume', passThrough);
    if (i % 50 === 0) survivors.push(new WeakRef(client), new WeakRef(client.state));
  }
}

describe('Patcher', () => {
  it('wraps once, and restoreAll puts back own methods and removes wrappers over inherited ones', () => {
    class Channel {
      publish(): string {
        return 'proto';
      }
    }
    const channel = new Channel() as Channel & { own?: () => string };
    channel.own = () => 'own';
    const p = new Patcher();
    p.wrap(channel, 'publish', (original) => function (this: unknown) {
      return `wrapped ${String(original.call(this))}`;
    });
    p.wrap(channel, 'publish', () => () => 'twice'); // already ours: no-op
    p.wrap(channel, 'own', (original) => () => `wrapped ${String(original())}`);
    expect(channel.publish()).toBe('wrapped proto');
    expect(channel.own()).toBe('wrapped own');
    p.restoreAll();
    expect(channel.publish()).toBe('proto');
    expect(Object.prototype.hasOwnProperty.call(channel, 'publish')).toBe(false);
    expect(channel.own()).toBe('own');
    expect(p.liveTargetCount()).toBe(0);
  });

  it('leaves a method someone replaced after us alone, and can wrap again after restoreAll', () => {
    const target = makeClient();
    const p = new Patcher();
    p.wrap(target, 'send', (original) => () => `wrapped ${String(original())}`);
    p.wrap(target, 'publish', (original) => () => `wrapped ${String(original())}`);
    const theirs = () => 'theirs';
    target['publish'] = theirs;
    p.restoreAll();
    expect(target['send']!()).toBe(64);
    expect(target['publish']).toBe(theirs);
    p.wrap(target, 'send', (original) => () => `again ${String(original())}`);
    p.wrap(target, 'consume', (original) => () => `again ${String(original())}`);
    expect(target['send']!()).toBe('again 64');
    expect(target['consume']!()).toBe('again 1');
    p.restoreAll();
    expect(target['send']!()).toBe(64);
    expect(target['consume']!()).toBe(1);
  });

  it('never throws on a target it cannot patch (frozen, throwing getter)', () => {
    const p = new Patcher();
    const frozen = Object.freeze(makeClient());
    expect(() => p.wrap(frozen, 'send', passThrough)).not.toThrow();
    expect(frozen['send']!()).toBe(64);
    const hostile = Object.defineProperty({}, 'send', {
      get() {
        throw new Error('boom');
      },
    });
    expect(() => p.wrap(hostile, 'send', passThrough)).not.toThrow();
    expect(() => p.restoreAll()).not.toThrow();
  });

  it('lets 5,000 wrapped-then-dropped targets be collected and keeps its live set bounded', async () => {
    const gc = exposeGc();
    const p = new Patcher();
    const survivors = new Array<WeakRef<object>>();
    const keep = makeClient();
    p.wrap(keep, 'send', passThrough);
    for (let batch = 0; batch < 10; batch++) {
      wrapAndDrop(p, 500, survivors);
      if (batch % 3 === 2) await collect(gc);
    }
    await collect(gc);
    // The patch records hold the originals, closures over the client's internals: those must go too.
    expect(survivors.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(p.liveTargetCount()).toBe(1);
    // (Whether wrapping target 5,000 costs what target 1 did is a benchmark's question, not a
    // test's: a timed bound failed on a loaded 2-core machine. The bounded live set above is what
    // keeps it constant: nothing grows with the targets wrapped.)
    // restoreAll still reaches the target that is alive.
    p.restoreAll();
    expect(Object.prototype.hasOwnProperty.call(keep['send'], Symbol.for('eda-harness.instrumentation.original'))).toBe(false);
  });
});

describe('markedHandle', () => {
  it('returns one handle per target, and works on a target that cannot carry the mark (frozen)', () => {
    const mark = Symbol('test-mark');
    let undone = 0;
    for (const target of [{}, Object.freeze({})]) {
      const first = markedHandle(target, mark, () => () => undone++);
      expect(markedHandle(target, mark, () => () => undone++)).toBe(first);
      unmark(target, mark);
      expect(markedHandle(target, mark, () => () => undone++)).not.toBe(first);
    }
    expect(undone).toBe(2);
  });
});
