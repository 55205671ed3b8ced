import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafka, kafkaHandle } from '../../instrumentation/index';

// An app that creates a kafkajs producer or consumer per unit of work (or per reconnect) must not
// leak through the instrumentation: what the wrappers keep per client dies with the client, and
// creating the thousandth client costs what the first did. No broker needed: kafkajs connects
// only on connect().

const CLIENTS = 1000;
/** Retained heap allowed after all clients are dropped: a few wrapper-level objects, not per client. */
const MAX_RETAINED_BYTES = 2 * 1024 * 1024;
/** The wrapper's marker of the original it replaced (registered symbol, see shared/patcher.ts). */
const ORIGINAL = Symbol.for('eda-harness.instrumentation.original');

/** The collector, whether or not Node was started with --expose-gc (Jest passes no node flags to its workers). */
function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collects until the heap stops shrinking, letting FinalizationRegistry callbacks and WeakRefs settle. */
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

/** kafkajs's own send / run: closures over the client's internals (cluster, connections, emitters). */
function originalOf(wrapped: unknown): object {
  return ((wrapped as Record<symbol, object | undefined>)[ORIGINAL] ?? wrapped) as object;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function newKafka(): Kafka {
  return new Kafka({ clientId: 'memory', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
}

const gc = exposeGc();

/**
 * Creates CLIENTS clients with `create` and drops them; returns how many of them (and of
 * kafkajs's internals behind them) are still reachable, the heap they left behind, and the
 * median creation time of the first and last hundred.
 */
async function createAndDrop(create: () => { client: object; internals: object }): Promise<{ alive: number; retainedBytes: number; firstMs: number; lastMs: number }> {
  // Warm-up: module-level caches, JIT, the instrumenter's first-use state.
  for (let i = 0; i < 50; i++) create();
  const before = await settledHeap(gc);
  const refs: Array<WeakRef<object>> = [];
  const times: number[] = [];
  (() => {
    for (let i = 0; i < CLIENTS; i++) {
      const t0 = performance.now();
      const { client, internals } = create();
      times.push(performance.now() - t0);
      refs.push(new WeakRef(client), new WeakRef(internals));
    }
  })();
  const after = await settledHeap(gc);
  return {
    alive: refs.filter((r) => r.deref() !== undefined).length,
    retainedBytes: after - before,
    firstMs: median(times.slice(0, 100)),
    lastMs: median(times.slice(-100)),
  };
}

describe('instrumented kafkajs clients created and dropped (retention)', () => {
  it(`${CLIENTS} producers from an instrumented Kafka client leave no per-producer state, and creation time does not grow`, async () => {
    const kafka = instrumentKafka(newKafka(), { registry: new Registry() });
    const result = await createAndDrop(() => {
      const producer = kafka.producer();
      return { client: producer, internals: originalOf(producer.send) };
    });
    console.log(`producers: ${result.alive} of ${2 * CLIENTS} objects alive, ${(result.retainedBytes / 1024).toFixed(0)} KiB retained, creation ${result.firstMs.toFixed(3)} → ${result.lastMs.toFixed(3)} ms`);
    expect(result.alive).toBeLessThanOrEqual(4);
    expect(result.retainedBytes).toBeLessThan(MAX_RETAINED_BYTES);
    expect(result.lastMs).toBeLessThan(result.firstMs * 2 + 0.05);
  });

  it(`${CLIENTS} consumers (event listeners subscribed) leave no per-consumer state, and uninstrument still reaches live ones`, async () => {
    const raw = newKafka();
    const handle = kafkaHandle(raw, { registry: new Registry() });
    const result = await createAndDrop(() => {
      const consumer = raw.consumer({ groupId: 'memory' });
      return { client: consumer, internals: originalOf(consumer.run) };
    });
    console.log(`consumers: ${result.alive} of ${2 * CLIENTS} objects alive, ${(result.retainedBytes / 1024).toFixed(0)} KiB retained, creation ${result.firstMs.toFixed(3)} → ${result.lastMs.toFixed(3)} ms`);
    expect(result.alive).toBeLessThanOrEqual(4);
    expect(result.retainedBytes).toBeLessThan(MAX_RETAINED_BYTES);
    expect(result.lastMs).toBeLessThan(result.firstMs * 2 + 0.05);

    // Weakly held, still undone: a consumer kept alive loses its wrapper and its listeners.
    const kept = raw.consumer({ groupId: 'kept' });
    const originalRun = originalOf(kept.run);
    handle.uninstrument();
    expect(kept.run).toBe(originalRun);
  });
});
