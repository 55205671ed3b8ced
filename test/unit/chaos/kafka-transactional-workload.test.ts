import { exactlyOnceInvariants, scenarioByName } from '../../../chaos/catalog';
import { defaultInvariants } from '../../../chaos/invariants';
import type { MessageId } from '../../../chaos/types';
import { Workload } from '../../../chaos/workloads';
import { abortsOnPurpose, firstReadOf, transactionWriter } from '../../../chaos/workloads/kafka-transactional-workload';
import { recorder } from '../../../chaos/workloads/traffic';
import type { HistoryRecord } from '../../../chaos/history/format';
import { ConfigError } from '../../../core/errors';
import { consumed, obs, sent } from './observations.fixtures';

/**
 * The exactly-once workload's pure parts: which transactions it aborts, how the reader tells a
 * second copy in the log from a second read of one position, what a committed and an aborted batch
 * leave in the history, and the invariants that judge it (duplicates bounded at 0).
 */

const batch = (n: number): MessageId[] => ['k0', 'k1', 'k2'].map((key) => ({ id: `p-${key}-${n}`, key, seq: n }));

describe('abortsOnPurpose', () => {
  it('aborts every n-th transaction, 1-based, and none for 0', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].filter((n) => abortsOnPurpose(n, 4))).toEqual([4, 8]);
    expect([1, 2, 3, 4].filter((n) => abortsOnPurpose(n, 0))).toEqual([]);
  });
});

describe('firstReadOf', () => {
  it('passes each (partition, offset) once: a second read of a position is not a second copy', () => {
    const first = firstReadOf();
    expect([first(0, '5'), first(1, '5'), first(0, '6'), first(0, '5'), first(1, '5')]).toEqual([true, true, true, false, false]);
  });
});

describe('transactionWriter', () => {
  function setup(write: (b: readonly MessageId[], abort: boolean) => Promise<void>) {
    const history: HistoryRecord[] = [];
    const rec = recorder((r) => void history.push(r), 'topic');
    return { rec, history, writer: transactionWriter({ rec, write: jest.fn(write) }) };
  }

  it('records a committed batch as sends, each acknowledged when the transaction committed', async () => {
    const { rec, history, writer } = setup(async () => undefined);
    await writer.commit(batch(0));
    expect(rec.sent.map((m) => [m.id, m.ackedAtMs !== undefined, m.error])).toEqual([
      ['p-k0-0', true, undefined],
      ['p-k1-0', true, undefined],
      ['p-k2-0', true, undefined],
    ]);
    expect(history.map((r) => r.type)).toEqual(['send', 'send', 'send', 'send-ack', 'send-ack', 'send-ack']);
  });

  it('records every message of a failed transaction as failed, with the error, and does not throw', async () => {
    const { rec, writer } = setup(() => Promise.reject(new Error('The coordinator is not available')));
    await writer.commit(batch(1));
    expect(rec.sent.map((m) => [m.id, m.ackedAtMs, m.error])).toEqual(['p-k0-1', 'p-k1-1', 'p-k2-1'].map((id) => [id, undefined, 'The coordinator is not available']));
  });

  it('records an aborted-on-purpose batch as an event only: its records were never sent', async () => {
    const { rec, history, writer } = setup(async () => undefined);
    await writer.abort(batch(2), 8);
    expect(rec.sent).toEqual([]);
    expect(history).toEqual([expect.objectContaining({ type: 'event', where: 'produce', message: 'transaction 8 aborted on purpose after writing p-k0-2, p-k1-2, p-k2-2' })]);
  });

  it('says so when the transaction to abort failed, and goes on', async () => {
    const { rec, writer } = setup(() => Promise.reject(new Error('broker gone')));
    await writer.abort(batch(3), 12);
    expect(rec.events.map((e) => e.message)).toEqual(['transaction 12 (to be aborted on purpose) failed: broker gone']);
  });
});

describe('Workload.kafkaTransactional', () => {
  it('describes what it writes and how it reads', () => {
    expect(Workload.kafkaTransactional().description).toBe('40 msg/s over 6 keys to a 3-partition topic in transactions of one message per key from an idempotent transactional producer, every 4th aborted on purpose (acks -1), read read_committed');
    expect(Workload.kafkaTransactional({ transactions: false }).description).toBe('40 msg/s over 6 keys to a 3-partition topic in batches of one message per key from a plain producer (not idempotent, no transactions) (acks -1), read read_committed');
    expect(Workload.kafkaTransactional({ isolation: 'read_uncommitted', abortEvery: 0 }).description).toMatch(/idempotent transactional producer \(acks -1\), read read_uncommitted$/);
    expect(Workload.kafkaTransactional().needs).toEqual({ kafkaNodes: 1 });
  });

  it.each([
    [{ abortEvery: 1 }, 'workload abortEvery must be 0 (never) or a whole number ≥ 2, got 1'],
    [{ abortEvery: -2 }, 'workload abortEvery must be 0 (never) or a whole number ≥ 2, got -2'],
    [{ abortEvery: 3, transactions: false }, 'workload abortEvery needs transactions: a plain producer cannot abort'],
    [{ partitions: 0 }, 'workload partitions must be a whole number ≥ 1, got 0'],
  ])('refuses %p', (options, message) => {
    expect(() => Workload.kafkaTransactional(options)).toThrow(ConfigError);
    expect(() => Workload.kafkaTransactional(options)).toThrow(message);
  });
});

describe('exactly-once invariants', () => {
  it('are the defaults with duplicates bounded at 0', () => {
    expect(exactlyOnceInvariants(45_000).map((i) => i.name)).toEqual(defaultInvariants(45_000).map((i) => (i.name === 'duplicates counted' ? 'at most 0 duplicates' : i.name)));
    expect(scenarioByName('kafka-transactions-broker-kill').needs()).toEqual({ kafkaNodes: 1, rabbitmq: false, toxiproxy: false });
  });

  it('fail on a second copy of a message and on a delivered aborted record, and pass on clean output', () => {
    const judge = (o: ReturnType<typeof obs>) => Object.fromEntries(exactlyOnceInvariants(45_000).map((i) => [i.name, i.check(o).passed]));
    const clean = obs({ sent: [sent('a', 0), sent('b', 10, { seq: 1 })], consumed: [consumed('a', 5), consumed('b', 15, { seq: 1 })] });
    expect(judge(clean)['at most 0 duplicates']).toBe(true);
    expect(judge(clean)['nothing consumed that was not sent']).toBe(true);
    const twice = obs({ sent: [sent('a', 0)], consumed: [consumed('a', 5), consumed('a', 9)] });
    expect(judge(twice)['at most 0 duplicates']).toBe(false);
    const aborted = obs({ sent: [sent('a', 0)], consumed: [consumed('a', 5), consumed('p-aborted-4-k0', 6, { key: 'aborted', seq: 4 })] });
    expect(judge(aborted)['nothing consumed that was not sent']).toBe(false);
  });
});
