import { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';
import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { Registry } from 'prom-client';
import { Environment } from '../../environment/index';
import type { StartedEnvironment } from '../../environment/index';
import { instrumentAmqp } from '../../instrumentation/index';
import { uniqueName } from '../support/names';

// A channel-per-unit-of-work application (or a reconnecting one) must not leak through the
// instrumentation: what the wrappers keep per channel (patch records, state, the 'close'
// listener, unsettled deliveries) dies with the channel, and opening the last channel costs
// what the first did. Real RabbitMQ: the channels are amqplib's own, opened and closed.

const CHANNELS = 2000;
const SAMPLE = 200;
/** Retained heap allowed after every channel closed: wrapper-level caches, not per channel. */
const MAX_RETAINED_BYTES = 2 * 1024 * 1024;

/** The collector, whether or not Node was started with --expose-gc (Jest passes no node flags to its workers). */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collects until the heap stops shrinking, letting WeakRefs and FinalizationRegistry callbacks settle. */
async function settledHeap(gc: () => void): Promise<number> {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 64 * 1024 && i >= 2) return used;
    last = used;
  }
  return last;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const gc = exposeGc();
let env: StartedEnvironment;
let model: ChannelModel;

beforeAll(async () => {
  env = await new Environment().withRabbitMq().withToxiproxy(false).start();
  model = instrumentAmqp(await connect(env.getAmqpUrl()), { registry: new Registry() });
}, 180_000);

afterAll(async () => {
  await model?.close().catch(() => undefined);
  await env?.stop();
});

describe('instrumented amqplib channels opened and closed (retention)', () => {
  it(`${CHANNELS} channels that publish, leave a delivery unsettled and close: nothing per channel stays reachable, opening does not slow down`, async () => {
    const queue = uniqueName('mem-q');
    const setup = await model.createChannel();
    await setup.assertQueue(queue, { durable: false });
    /** One unit of work: a channel that declares a reply queue, publishes, gets a message it never settles, and closes. */
    const unitOfWork = async (refs?: Array<WeakRef<object>>, times?: number[]): Promise<void> => {
      const t0 = performance.now();
      const ch = await model.createConfirmChannel();
      times?.push(performance.now() - t0);
      refs?.push(new WeakRef(ch));
      await ch.assertQueue('', { exclusive: true });
      await new Promise<void>((resolve, reject) => ch.sendToQueue(queue, Buffer.from('x'), {}, (err) => (err ? reject(err as Error) : resolve())));
      await ch.get(queue); // unacknowledged: tracked until the close ends it as channel_closed
      await ch.close();
    };
    // Warm-up: module-level caches, JIT, the instrumenter's first-use state.
    for (let i = 0; i < 50; i++) await unitOfWork();
    const before = await settledHeap(gc);
    const refs: Array<WeakRef<object>> = [];
    const times: number[] = [];
    for (let i = 0; i < CHANNELS; i++) await unitOfWork(refs, times);
    const after = await settledHeap(gc);
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    const firstMs = median(times.slice(0, SAMPLE));
    const lastMs = median(times.slice(-SAMPLE));
    console.log(`amqp channels: ${alive} of ${CHANNELS} alive after close, ${((after - before) / 1024).toFixed(0)} KiB retained, channel creation ${firstMs.toFixed(3)} → ${lastMs.toFixed(3)} ms (median of the first and last ${SAMPLE})`);
    expect(alive).toBeLessThanOrEqual(2);
    expect(after - before).toBeLessThan(MAX_RETAINED_BYTES);
    expect(lastMs).toBeLessThan(firstMs * 1.5 + 0.1);
    await setup.deleteQueue(queue);
    await setup.close();
  });

  it('what is learned per queue name is bounded: 100,000 reply queues declared with dead-letter settings on one long-lived channel', async () => {
    // No broker needed: the knowledge comes from assertQueue's arguments and reply.
    const channel = Object.assign(new EventEmitter(), {
      publish: () => true,
      consume: async () => ({ consumerTag: 'c' }),
      assertQueue: async (queue: string, _options?: unknown) => ({ queue, messageCount: 0, consumerCount: 0 }),
    });
    const ch = instrumentAmqp(channel, { registry: new Registry() });
    const declare = (i: number) => ch.assertQueue(`rpc-reply-${i}-${'x'.repeat(40)}`, { exclusive: true, deadLetterExchange: `rpc-dlx-${i}` });
    // The first 20,000 fill whatever bounded memory there is; the next 100,000 must add nothing.
    for (let i = 0; i < 20_000; i++) await declare(-i - 1);
    const before = await settledHeap(gc);
    for (let i = 0; i < 100_000; i++) await declare(i);
    const after = await settledHeap(gc);
    console.log(`amqp learned queues: ${((after - before) / 1024).toFixed(0)} KiB more retained after 100,000 more declarations`);
    expect(after - before).toBeLessThan(1024 * 1024);
  });
});
