import { SpanStatusCode } from '@opentelemetry/api';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import { instrumentKafka, traceKafkaMessage } from '../../../instrumentation/index';
import { MAX_TRACKED_PARTITIONS } from '../../../instrumentation/kafka/consumer';
import { ATTR, METRIC } from '../../../semconv/index';
import { useOtel } from './otel-fixture';
import { metricValue } from './metric-values';

// eachBatch counts what the handler resolved: kafkajs commits resolved offsets and delivers the
// rest again, so "processed" must mean the same thing.

type Handler = (payload: unknown) => Promise<unknown>;
type BatchHandler = (payload: { batch: { messages: KafkaMessage[] }; resolveOffset: (offset: string) => void; isStale: () => boolean }) => Promise<void>;

class BillingError extends Error {}

const otel = useOtel();
let registry: Registry;
beforeEach(() => {
  registry = new Registry();
});

/** Runs one eachBatch of `count` messages (offsets 10, 11, …) through an instrumented fake consumer. */
async function runBatch(handler: BatchHandler, config: Record<string, unknown> = {}, count = 5): Promise<{ resolved: string[]; outcome: unknown }> {
  let runConfig: Record<string, unknown> = {};
  const kafka = { consumer: () => ({ run: async (c: Record<string, unknown>) => void (runConfig = c) }) } as unknown as Kafka;
  await instrumentKafka(kafka, { registry }).consumer({ groupId: 'billing' }).run({ ...config, eachBatch: handler as never });
  const resolved: string[] = [];
  const messages = Array.from({ length: count }, (_, i) => message(String(10 + i)));
  const payload = { batch: { topic: 'invoices', partition: 0, messages }, resolveOffset: (o: string) => void resolved.push(o), heartbeat: async () => undefined, isStale: () => false };
  const outcome = await (runConfig['eachBatch'] as Handler)(payload).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { resolved, outcome };
}

function message(offset: string): KafkaMessage {
  return { key: null, value: Buffer.from('{}'), timestamp: String(Date.now() - 1000), attributes: 0, offset, headers: {}, size: 0 } as unknown as KafkaMessage;
}

const processed = (labels: Record<string, string> = {}) => metricValue(registry, METRIC.MESSAGES_PROCESSED.name, labels);
const processedOk = async () => (await processed()) - (await failedCount());
async function failedCount(): Promise<number> {
  const all = await registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === METRIC.MESSAGES_PROCESSED.name || m.name === METRIC.MESSAGES_PROCESSED.name.replace(/_total$/, ''));
  return (metric?.values ?? []).filter((v) => v.labels['error_type'] !== undefined).reduce((n, v) => n + v.value, 0);
}
const e2eProcessed = () => metricValue(registry, METRIC.E2E_LATENCY.name, { stage: 'processed' }, `${METRIC.E2E_LATENCY.name}_count`);

describe('eachBatch counting', () => {
  it('a handler that resolves 2 of 5 and then throws: 2 processed, 3 failed with its error; all consumed, none left in flight', async () => {
    const boom = new BillingError('ledger down');
    const { outcome, resolved } = await runBatch(async ({ batch, resolveOffset }) => {
      resolveOffset(batch.messages[0]!.offset);
      resolveOffset(batch.messages[1]!.offset);
      throw boom;
    });
    expect(outcome).toBe(boom);
    expect(resolved).toEqual(['10', '11']); // kafkajs's own resolveOffset still called, with the same offsets
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name)).toBe(5);
    expect(await processedOk()).toBe(2);
    expect(await processed({ error_type: 'BillingError' })).toBe(3);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    expect(await e2eProcessed()).toBe(2);
    expect(otel.spans('process invoices')[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('eachBatchAutoResolve false, 2 of 5 resolved and a normal return (rebalance, isStale()): 2 processed, 3 neither processed nor failed', async () => {
    await runBatch(
      async ({ batch, resolveOffset, isStale }) => {
        for (const m of batch.messages.slice(0, 2)) resolveOffset(m.offset);
        if (!isStale()) return; // the rest will come again after the rebalance
      },
      { eachBatchAutoResolve: false },
    );
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name)).toBe(5);
    expect(await processed()).toBe(2);
    expect(await failedCount()).toBe(0);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    expect(await e2eProcessed()).toBe(2);
  });

  it('with eachBatchAutoResolve (the default) a normal return resolves, so processes, the whole batch', async () => {
    await runBatch(async () => undefined);
    expect(await processed()).toBe(5);
    expect(await failedCount()).toBe(0);
    expect(await e2eProcessed()).toBe(5);
  });

  it('resolving the last offset resolves everything before it', async () => {
    const boom = new BillingError('after the last resolve');
    await runBatch(async ({ batch, resolveOffset }) => {
      resolveOffset(batch.messages.at(-1)!.offset);
      throw boom;
    });
    expect(await processed()).toBe(5);
    expect(await failedCount()).toBe(0);
  });

  it('traceKafkaMessage outcomes are counted per message with their own error type, once, and carry e2e latency', async () => {
    const boom = new BillingError('batch gave up');
    await runBatch(async ({ batch, resolveOffset }) => {
      for (const m of batch.messages.slice(0, 4)) {
        try {
          await traceKafkaMessage(m, () => {
            if (m.offset === '11') throw new RangeError('amount out of range');
            return m.offset === '12' ? Promise.reject() : undefined;
          });
          resolveOffset(m.offset);
        } catch {
          resolveOffset(m.offset); // dead-lettered: done with it
        }
      }
      throw boom; // offset 14 never handled
    });
    expect(await processed({ error_type: 'RangeError' })).toBe(1);
    expect(await processed({ error_type: '_OTHER' })).toBe(1);
    expect(await processed({ error_type: 'BillingError' })).toBe(1);
    expect(await processedOk()).toBe(2);
    expect(await processed()).toBe(5);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    expect(await e2eProcessed()).toBe(2);
    const perMessage = otel.spans('process invoices').filter((s) => s.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] === undefined);
    expect(perMessage).toHaveLength(4);
    for (const s of perMessage) expect(s.attributes[ATTR.EDA_E2E_LATENCY_MS]).toBeGreaterThanOrEqual(1000);
  });

  it('the redelivery tracker is bounded: past the cap a consumer forgets the partitions it saw', async () => {
    let runConfig: Record<string, unknown> = {};
    const kafka = { consumer: () => ({ run: async (c: Record<string, unknown>) => void (runConfig = c) }) } as unknown as Kafka;
    await instrumentKafka(kafka, { registry, metrics: true }).consumer({ groupId: 'g' }).run({ eachMessage: async () => undefined });
    const eachMessage = runConfig['eachMessage'] as Handler;
    const deliver = (partition: number) => eachMessage({ topic: 'wide', partition, message: message('0'), heartbeat: async () => undefined, pause: () => () => undefined });
    await deliver(0);
    await deliver(0); // seen before: a redelivery
    expect(await metricValue(registry, METRIC.REDELIVERIES.name)).toBe(1);
    for (let p = 1; p <= MAX_TRACKED_PARTITIONS; p++) await deliver(p);
    await deliver(0); // forgotten with the rest once the cap was reached
    expect(await metricValue(registry, METRIC.REDELIVERIES.name)).toBe(1);
  });
});

describe('eachBatch: finding a message of the batch (no per-message map)', () => {
  /** Two consumers of one instrumented client, their eachBatch handlers as the wrapper gave them. */
  async function twoConsumers(a: BatchHandler, b: BatchHandler): Promise<[Handler, Handler]> {
    const configs: Array<Record<string, unknown>> = [];
    const kafka = { consumer: () => ({ run: async (c: Record<string, unknown>) => void configs.push(c) }) } as unknown as Kafka;
    const client = instrumentKafka(kafka, { registry });
    await client.consumer({ groupId: 'billing' }).run({ eachBatch: a as never });
    await client.consumer({ groupId: 'billing' }).run({ eachBatch: b as never });
    return [configs[0]!['eachBatch'] as Handler, configs[1]!['eachBatch'] as Handler];
  }
  const payload = (topic: string, messages: KafkaMessage[]) => ({ batch: { topic, partition: 0, messages }, resolveOffset: () => undefined, heartbeat: async () => undefined, isStale: () => false });

  it('concurrent batches, messages traced out of order, across batches and after the handler reordered its list: each counted once, in its own topic', async () => {
    const a = Array.from({ length: 6 }, (_, i) => message(String(20 + i)));
    const b = Array.from({ length: 6 }, (_, i) => message(String(20 + i)));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const [runA, runB] = await twoConsumers(
      async ({ batch }) => {
        batch.messages.reverse(); // the handler's own list; the wrapper kept the order it was given
        for (const m of batch.messages) await traceKafkaMessage(m, () => undefined);
        await gate;
        // A message of the other (still running) batch, traced from this one's context.
        await traceKafkaMessage(b[5]!, () => undefined);
      },
      async ({ batch }) => {
        for (const i of [3, 0, 4, 1, 2]) await traceKafkaMessage(batch.messages[i]!, () => undefined);
        release();
        await new Promise((r) => setTimeout(r, 20));
      },
    );
    await Promise.all([runA(payload('left', a)), runB(payload('right', b))]);
    const perMessage = (topic: string) => otel.spans(`process ${topic}`).filter((s) => s.attributes[ATTR.MESSAGING_BATCH_MESSAGE_COUNT] === undefined);
    expect(perMessage('left').map((s) => s.attributes[ATTR.MESSAGING_KAFKA_OFFSET]).sort()).toEqual([20, 21, 22, 23, 24, 25]);
    expect(perMessage('right').map((s) => s.attributes[ATTR.MESSAGING_KAFKA_OFFSET]).sort()).toEqual([20, 21, 22, 23, 24, 25]);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 'left' })).toBe(6);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { messaging_destination_name: 'right' })).toBe(6);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
  });

  it('a message that is not in the running batch (a copy, or after its batch ended) just runs the function', async () => {
    let kept: KafkaMessage | undefined;
    await runBatch(async ({ batch }) => {
      kept = batch.messages[0];
      await expect(traceKafkaMessage({ ...batch.messages[0]! }, () => 'bare')).resolves.toBe('bare');
    });
    otel.reset();
    await expect(traceKafkaMessage(kept!, () => 'after')).resolves.toBe('after');
    expect(otel.spans()).toHaveLength(0);
    expect(await processed()).toBe(5);
  });
});
