import fc from 'fast-check';
import { DLQ_SOURCE_UNKNOWN } from '../../../semconv/index';
import { createNameFilter } from '../../../exporter/name-filter';
import { fetchRounds, recordRequests, recordsToFetch, topicsToWatch } from '../../../exporter/kafka/cluster-read';
import type { ClusterRead, GroupRead, KafkaSelection, RecordRead } from '../../../exporter/kafka/cluster-read';
import { commitKey, partitionKey, recordKey } from '../../../exporter/kafka/partition-history';
import { EMPTY_KAFKA_MEMORY, kafkaSnapshot } from '../../../exporter/kafka/snapshot';
import type { KafkaMemory, KafkaSnapshotDetail, KafkaSnapshotOptions } from '../../../exporter/kafka/snapshot';
import { DEFAULT_STATUS_WINDOW_SECONDS } from '../../../exporter/kafka/consumer-status';

/**
 * The Kafka numbers over plain objects: what the cluster reads would return, in; the snapshot
 * and the memory for the next collection, out. No broker, no clock.
 */

const selection: KafkaSelection = { topics: createNameFilter({ deny: ['__*'] }), dlqPatterns: ['*.dlq', 'graveyard'] };
const WINDOW_MS = 10_000;

type PartitionOffsets = Record<number, number>;
const offsets = (byTopic: Record<string, PartitionOffsets>): Map<string, Map<number, number>> =>
  new Map(Object.entries(byTopic).map(([topic, byPartition]) => [topic, new Map(Object.entries(byPartition).map(([p, o]) => [Number(p), o]))]));

interface GroupSpec {
  readonly committed?: Record<string, PartitionOffsets> | 'unreadable';
  /** Members; 'undescribed' when DescribeGroups failed. */
  readonly members?: number | 'undescribed';
  readonly assigned?: Record<string, number[]>;
  readonly state?: string;
}

function group(name: string, spec: GroupSpec = {}): GroupRead {
  const members = spec.members ?? 1;
  return {
    group: name,
    description:
      members === 'undescribed'
        ? undefined
        : { state: spec.state ?? 'Stable', members, assigned: new Map(Object.entries(spec.assigned ?? {}).map(([t, ps]) => [t, new Set(ps)])) },
    committed: spec.committed === 'unreadable' ? undefined : offsets(spec.committed ?? {}),
  };
}

function read(groups: GroupRead[], high: Record<string, PartitionOffsets>, low: Record<string, PartitionOffsets> = {}): ClusterRead {
  return { groups, topics: Object.keys(high), high: offsets(high), low: offsets(low), warnings: [] };
}

interface Step {
  readonly read: ClusterRead;
  readonly atMs: number;
  /** Fetched records by 'topic/partition' (an '@…' suffix allows several per partition), each at its own offset. */
  readonly records?: Record<string, RecordRead>;
}

const recordsOf = (byName: Record<string, RecordRead> = {}): Map<string, RecordRead> =>
  new Map(
    Object.entries(byName).map(([name, r]) => {
      const [topic, partition] = name.split('@')[0]!.split('/');
      return [recordKey(topic!, Number(partition), r.offset), r];
    }),
  );

/** Runs collections in order, carrying the memory; returns every snapshot and the last memory. */
function collect(steps: Step[], options: Partial<KafkaSnapshotOptions> = {}): { snapshots: KafkaSnapshotDetail[]; memory: KafkaMemory } {
  let memory = EMPTY_KAFKA_MEMORY;
  const snapshots: KafkaSnapshotDetail[] = [];
  for (const step of steps) {
    const records = recordsOf(step.records);
    const next = kafkaSnapshot({ read: step.read, records, atMs: step.atMs, fetchedAtMs: step.atMs }, memory, { selection, windowMs: WINDOW_MS, ...options });
    snapshots.push(next.snapshot);
    memory = next.memory;
  }
  return { snapshots, memory };
}

const once = (step: Step): KafkaSnapshotDetail => collect([step]).snapshots[0]!;
const partitionOf = (s: KafkaSnapshotDetail, g: string, topic = 't', partition = 0) => s.partitions.find((p) => p.group === g && p.topic === topic && p.partition === partition);
const groupOf = (s: KafkaSnapshotDetail, g: string) => s.groups.find((x) => x.group === g);
const dlqOf = (s: KafkaSnapshotDetail, dlq: string) => s.dlqs.find((d) => d.dlq === dlq);
const countOf = (samples: KafkaSnapshotDetail['clamps'], labels: Record<string, string>) => samples.find((c) => Object.entries(labels).every(([k, v]) => c.labels[k] === v))?.value;

describe('Kafka snapshot: lag in messages', () => {
  it('is the high watermark minus the committed offset', () => {
    const s = once({ read: read([group('g', { committed: { t: { 0: 40, 1: 100 } } })], { t: { 0: 100, 1: 100 } }), atMs: 1_000 });
    expect(partitionOf(s, 'g', 't', 0)).toMatchObject({ committedOffset: 40, highWatermark: 100, lagMessages: 60 });
    expect(partitionOf(s, 'g', 't', 1)).toMatchObject({ lagMessages: 0 });
  });

  it('is never negative: a commit above the watermark is 0 and counted, cumulatively, per group and topic', () => {
    const above = read([group('g', { committed: { t: { 0: 105 } } })], { t: { 0: 100 } });
    const { snapshots } = collect([
      { read: above, atMs: 1_000 },
      { read: above, atMs: 2_000 },
    ]);
    expect(partitionOf(snapshots[0]!, 'g')?.lagMessages).toBe(0);
    expect(countOf(snapshots[0]!.clamps, { group: 'g', topic: 't' })).toBe(1);
    expect(countOf(snapshots[1]!.clamps, { group: 'g', topic: 't' })).toBe(2);
  });

  it('never reports -1: a partition without a commit has no sample and is counted as uncommitted per topic', () => {
    const s = once({
      read: read([group('g', { committed: { t: { 0: 5 } }, assigned: { t: [0, 1, 2], __internal: [0] } })], { t: { 0: 10, 1: 10, 2: 10 } }),
      atMs: 1_000,
    });
    expect(s.partitions.map((p) => p.partition)).toEqual([0]);
    expect(s.partitions.every((p) => p.lagMessages >= 0)).toBe(true);
    // Topics the selection leaves out are not counted.
    expect(groupOf(s, 'g')?.uncommitted).toEqual(new Map([['t', 2]]));
  });

  it('is never negative or NaN for any offsets', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.nat(2 ** 40), fc.nat(2 ** 40), (committed, high, low) => {
        const s = once({ read: read([group('g', { committed: { t: { 0: committed } } })], { t: { 0: high } }, { t: { 0: Math.min(low, high) } }), atMs: 5_000 });
        const p = partitionOf(s, 'g')!;
        // NaN is "unknown" (nothing read or sampled yet) and is never exported.
        return p.lagMessages >= 0 && (Number.isNaN(p.lagSeconds) || p.lagSeconds >= 0) && (p.lagMessages > 0 || p.lagSeconds === 0);
      }),
    );
  });
});

describe('Kafka snapshot: lag in seconds', () => {
  it('is 0 and "caught-up" when there is no lag, whatever the records say', () => {
    const s = once({ read: read([group('g', { committed: { t: { 0: 10 } } })], { t: { 0: 10 } }), atMs: 60_000, records: { 't/0': { offset: 10, timestampMs: 1 } } });
    expect(partitionOf(s, 'g')).toMatchObject({ lagSeconds: 0, lagSecondsSource: 'caught-up' });
  });

  it('is the age of the record at the committed offset when it was fetched', () => {
    const s = once({ read: read([group('g', { committed: { t: { 0: 4 } } })], { t: { 0: 10 } }), atMs: 60_000, records: { 't/0': { offset: 4, timestampMs: 15_000 } } });
    expect(partitionOf(s, 'g')).toMatchObject({ lagSeconds: 45, lagSecondsSource: 'record' });
  });

  it('uses the first record retention kept when the committed offset is below the log start', () => {
    const r = read([group('g', { committed: { t: { 0: 2 } } })], { t: { 0: 10 } }, { t: { 0: 6 } });
    expect(recordRequests(r, selection)).toEqual([{ topic: 't', partition: 0, offset: 6 }]);
    const s = once({ read: r, atMs: 60_000, records: { 't/0': { offset: 6, timestampMs: 50_000 } } });
    expect(partitionOf(s, 'g')).toMatchObject({ lagMessages: 8, lagSeconds: 10, lagSecondsSource: 'record' });
  });

  it('without a record: unknown at first (not 0), then a lower bound, then the time interpolated over watermark samples', () => {
    const g = (committed: number) => group('g', { committed: { t: { 0: committed } } });
    const { snapshots } = collect([
      { read: read([g(0)], { t: { 0: 10 } }), atMs: 0 },
      { read: read([g(0)], { t: { 0: 10 } }), atMs: 10_000 },
      { read: read([g(10)], { t: { 0: 20 } }), atMs: 20_000 },
      // A record at another offset than the one needed says nothing about this one.
      { read: read([g(10)], { t: { 0: 20 } }), atMs: 30_000, records: { 't/0': { offset: 9, timestampMs: 1 } } },
    ]);
    expect(partitionOf(snapshots[0]!, 'g')?.lagSeconds).toBeNaN();
    expect(partitionOf(snapshots[1]!, 'g')).toMatchObject({ lagSeconds: 10, lagSecondsSource: 'lower-bound' });
    // Offset 10 was written between 10 s (watermark still 10) and 20 s (watermark 20).
    const interpolated = partitionOf(snapshots[3]!, 'g')!;
    expect(interpolated.lagSecondsSource).toBe('interpolated');
    expect(interpolated.lagSeconds).toBeGreaterThan(10);
    expect(interpolated.lagSeconds).toBeLessThanOrEqual(20);
  });
});

describe('Kafka snapshot: lag in seconds for every group on a topic', () => {
  // Records t/0@10 written at 100 s, t/0@50 at 300 s; the watermark was 60 from the first sample on.
  const twoGroups = read([group('behind', { committed: { t: { 0: 10 } } }), group('near', { committed: { t: { 0: 50 } } })], { t: { 0: 60 } });
  const both = { 't/0@a': { offset: 10, timestampMs: 100_000 }, 't/0@b': { offset: 50, timestampMs: 300_000 } };

  it('each group gets its own record time at every collection, fetched once and then cached per offset', () => {
    const { snapshots, memory } = collect([
      { read: twoGroups, atMs: 400_000, records: both },
      { read: twoGroups, atMs: 410_000 },
      { read: twoGroups, atMs: 420_000 },
      { read: twoGroups, atMs: 430_000 },
    ]);
    expect(snapshots.map((s) => partitionOf(s, 'behind')?.lagSeconds)).toEqual([300, 310, 320, 330]);
    expect(snapshots.map((s) => partitionOf(s, 'near')?.lagSeconds)).toEqual([100, 110, 120, 130]);
    expect(snapshots.every((s) => s.partitions.every((p) => p.lagSecondsSource === 'record'))).toBe(true);
    expect(memory.records.size).toBe(2);
  });

  it('the cache keeps only the offsets still needed', () => {
    const moved = read([group('behind', { committed: { t: { 0: 60 } } }), group('near', { committed: { t: { 0: 50 } } })], { t: { 0: 60 } });
    const { memory } = collect([
      { read: twoGroups, atMs: 400_000, records: both },
      { read: moved, atMs: 410_000 },
    ]);
    expect([...memory.records.keys()]).toEqual([recordKey('t', 0, 50)]);
  });

  it('a series that had record time is unknown, never an estimate, while its record cannot be read', () => {
    const g = (committed: number) => read([group('g', { committed: { t: { 0: committed } } })], { t: { 0: 100 } });
    const { snapshots } = collect([
      { read: g(10), atMs: 100_000, records: { 't/0': { offset: 10, timestampMs: 40_000 } } },
      { read: g(20), atMs: 110_000 },
      { read: g(30), atMs: 120_000, records: { 't/0': { offset: 30, timestampMs: 60_000 } } },
    ]);
    expect(partitionOf(snapshots[0]!, 'g')).toMatchObject({ lagSeconds: 60, lagSecondsSource: 'record' });
    expect(partitionOf(snapshots[1]!, 'g')?.lagSeconds).toBeNaN();
    expect(partitionOf(snapshots[1]!, 'g')?.lagSecondsSource).toBe('record');
    expect(partitionOf(snapshots[2]!, 'g')).toMatchObject({ lagSeconds: 60, lagSecondsSource: 'record' });
  });

  it('a partition far behind whose record cannot be read is unknown, not 0 s', () => {
    const s = once({ read: read([group('g', { committed: { t: { 0: 10 } } })], { t: { 0: 100_000 } }), atMs: 50_000 });
    expect(partitionOf(s, 'g')?.lagMessages).toBe(99_990);
    expect(partitionOf(s, 'g')?.lagSeconds).toBeNaN();
  });
});

describe('Kafka snapshot: record timestamps that are not append times (CreateTime set to an event time)', () => {
  // The watermark was 10 at T and T+10 s, 20 at T+20 s: offset 12 was appended between T+10 s and T+20 s.
  const T = 1_000_000_000;
  const g = (committed: number) => read([group('g', { committed: { t: { 0: committed } } })], { t: { 0: committed >= 10 ? 20 : 10 } });
  const history = [
    { read: g(0), atMs: T },
    { read: g(0), atMs: T + 10_000 },
  ];
  const at30s = (timestampMs: number) =>
    partitionOf(collect([...history, { read: g(12), atMs: T + 20_000 }, { read: g(12), atMs: T + 30_000, records: { 't/0': { offset: 12, timestampMs } } }]).snapshots[3]!, 'g')!;

  it('a timestamp inside the append interval is used', () => {
    expect(at30s(T + 15_000)).toMatchObject({ lagSeconds: 15, lagSecondsSource: 'record' });
  });

  it('a timestamp in the future falls back to the append-time estimate', () => {
    const p = at30s(T + 30_000 + 3_600_000);
    expect(p.lagSecondsSource).toBe('interpolated');
    expect(p.lagSeconds).toBeGreaterThanOrEqual(10);
    expect(p.lagSeconds).toBeLessThanOrEqual(20);
  });

  it('a timestamp far older than the append (a forwarded event time, here a day) falls back to the estimate', () => {
    const p = at30s(T - 86_400_000);
    expect(p.lagSecondsSource).toBe('interpolated');
    expect(p.lagSeconds).toBeLessThanOrEqual(20);
  });

  it('a series that had record time falls back to the estimate (not unknown) for a record whose timestamp is contradicted', () => {
    const p = partitionOf(
      collect([
        ...history,
        { read: g(11), atMs: T + 20_000, records: { 't/0': { offset: 11, timestampMs: T + 15_000 } } },
        { read: g(12), atMs: T + 30_000, records: { 't/0': { offset: 12, timestampMs: T + 3_600_000 } } },
      ]).snapshots[3]!,
      'g',
    )!;
    expect(p.lagSecondsSource).toBe('interpolated');
    expect(p.lagSeconds).toBeLessThanOrEqual(20);
  });

  it('a future timestamp with no samples to compare is still refused', () => {
    const s = once({ read: g(12), atMs: 30_000, records: { 't/0': { offset: 12, timestampMs: 10_000_000 } } });
    expect(partitionOf(s, 'g')?.lagSecondsSource).not.toBe('record');
  });
});

describe('Kafka snapshot: transactions', () => {
  const r = (committed: number, high: number) => read([group('tx', { committed: { t: { 0: committed } } })], { t: { 0: high } });

  it('only control records (commit markers) between the committed offset and the end: lag 0, caught up', () => {
    const s = once({ read: r(2, 3), atMs: 10_000, records: { 't/0': { offset: 2, timestampMs: 5_000, nextDataOffset: 3 } } });
    expect(partitionOf(s, 'tx')).toMatchObject({ lagMessages: 0, lagSeconds: 0, lagSecondsSource: 'caught-up' });
  });

  it('a data record after the markers is real lag', () => {
    const s = once({ read: r(2, 6), atMs: 10_000, records: { 't/0': { offset: 2, timestampMs: 5_000, nextDataOffset: 4 } } });
    expect(partitionOf(s, 'tx')).toMatchObject({ lagMessages: 4, lagSeconds: 5, lagSecondsSource: 'record' });
  });

  it('without the control-record information, lag is what the offsets say', () => {
    const s = once({ read: r(2, 3), atMs: 10_000, records: { 't/0': { offset: 2, timestampMs: 5_000 } } });
    expect(partitionOf(s, 'tx')?.lagMessages).toBe(1);
  });
});

describe('Kafka snapshot: retention', () => {
  it('exports the log start of every watched partition and the messages a group lost to retention', () => {
    const r = read(
      [group('late', { committed: { t: { 0: 2, 1: 9 } } }), group('fine', { committed: { t: { 0: 7 } } })],
      { t: { 0: 10, 1: 10 } },
      { t: { 0: 6, 1: 0 } },
    );
    const s = once({ read: r, atMs: 0 });
    expect(s.lowWatermarks).toEqual([
      { topic: 't', partition: 0, low: 6 },
      { topic: 't', partition: 1, low: 0 },
    ]);
    expect(s.retentionLoss).toEqual([{ group: 'late', topic: 't', partition: 0, messages: 4 }]);
  });

  it('carries the last stable offset of every partition whose high watermark was read', () => {
    const r: ClusterRead = {
      ...read([group('g', { committed: { t: { 0: 5 } } })], { t: { 0: 10, 1: 7 } }),
      // Partition 0 has an open transaction; partition 2 had no high watermark this time (not exported).
      stable: offsets({ t: { 0: 8, 1: 7, 2: 3 } }),
    };
    expect(once({ read: r, atMs: 0 }).stableOffsets).toEqual([
      { topic: 't', partition: 0, stable: 8 },
      { topic: 't', partition: 1, stable: 7 },
    ]);
    expect(once({ read: read([], { t: { 0: 10 } }), atMs: 0 }).stableOffsets).toEqual([]);
  });
});

describe('Kafka snapshot: manual assignment, unassigned partitions, rewinds', () => {
  const manual = (committed: number): GroupRead => ({
    group: 'm',
    description: { state: 'Empty', members: 0, assigned: new Map(), protocolType: '' },
    committed: offsets({ t: { 0: committed } }),
  });

  it('a manual-assignment group is marked so, has no member count (never "empty with lag") and is judged by offset movement', () => {
    const moving = collect([0, 5_000, 10_000, 15_000].map((atMs, i) => ({ read: read([manual(i * 5)], { t: { 0: 100 } }), atMs }))).snapshots;
    expect(moving.map((s) => groupOf(s, 'm')?.status)).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(groupOf(moving[3]!, 'm')?.members).toBeUndefined();
    expect(moving[3]!.assignment.get('m')).toBe('manual');
    const stuck = collect([0, 5_000, 10_000, 15_000].map((atMs) => ({ read: read([manual(5)], { t: { 0: 100 } }), atMs }))).snapshots;
    expect(groupOf(stuck[3]!, 'm')?.status).toBe('STALL');
  });

  it('Kafka 4 lists an offset-only group as an empty consumer group: it is manual once its offsets move without members', () => {
    const empty = (committed: number, members = 0) => read([group('k4', { committed: { t: { 0: committed } }, members, state: 'Empty' })], { t: { 0: 100 } });
    const { snapshots } = collect([
      { read: empty(10), atMs: 0 },
      { read: empty(20), atMs: 5_000 },
      { read: empty(20), atMs: 10_000 },
      { read: empty(20), atMs: 16_000 },
    ]);
    expect(snapshots.map((s) => s.assignment.get('k4'))).toEqual(['consumer', 'manual', 'manual', 'manual']);
    expect(snapshots.map((s) => groupOf(s, 'k4')?.members)).toEqual([0, undefined, undefined, undefined]);
    // Stopped moving for the window: STALL (offsets are all there is), never STOP.
    expect(groupOf(snapshots[3]!, 'k4')?.status).toBe('STALL');
    // A subscribed group whose consumers left and whose offsets do not move stays a consumer group: STOP.
    const stopped = collect([0, 5_000, 10_000, 16_000].map((atMs) => ({ read: empty(10), atMs }))).snapshots;
    expect(stopped.map((s) => s.assignment.get('k4'))).toEqual(['consumer', 'consumer', 'consumer', 'consumer']);
    expect(groupOf(stopped[3]!, 'k4')?.status).toBe('STOP');
  });

  it('a partition a live group no longer has assigned is not STALL', () => {
    const r = read([group('g', { committed: { t: { 0: 5 }, old: { 0: 5 } }, assigned: { t: [0] } })], { t: { 0: 5 }, old: { 0: 10 } });
    const { snapshots } = collect([0, 5_000, 10_000, 15_000].map((atMs) => ({ read: r, atMs })));
    expect(groupOf(snapshots[3]!, 'g')?.status).toBe('OK');
    expect(snapshots[3]!.assignment.get('g')).toBe('consumer');
  });

  it.each(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling'])('a group in %s does not prove a partition unassigned: a stuck partition is STALL', (state) => {
    // A KIP-848 group reconciling reports each member's current assignment, which misses a
    // partition moving between members; like a classic rebalance, it says nothing about who owns it.
    const r = read([group('g', { committed: { t: { 0: 5 }, old: { 0: 5 } }, assigned: { t: [0] }, state })], { t: { 0: 5 }, old: { 0: 10 } });
    const { snapshots } = collect([0, 5_000, 10_000, 15_000].map((atMs) => ({ read: r, atMs })));
    expect(groupOf(snapshots[3]!, 'g')?.status).toBe('STALL');
    expect(groupOf(snapshots[3]!, 'g')?.state).toBe(state);
  });

  it('a committed offset moving backwards is reported as a rewind while inside the window', () => {
    const g = (committed: number) => read([group('g', { committed: { t: { 0: committed } } })], { t: { 0: 100 } });
    const { snapshots } = collect([
      { read: g(50), atMs: 0 },
      { read: g(10), atMs: 5_000 },
      { read: g(20), atMs: 10_000 },
      { read: g(30), atMs: 20_000 },
    ]);
    expect(snapshots.map((s) => s.rewound)).toEqual([[], ['g'], ['g'], []]);
  });
});

describe('Kafka snapshot: consumer status', () => {
  const stuck = (members: number) => {
    const r = read([group('g', { committed: { t: { 0: 5 } }, members })], { t: { 0: 10 } });
    return collect([0, 5_000, 10_000, 15_000].map((atMs) => ({ read: r, atMs }))).snapshots;
  };

  it('is OK until a whole window of history exists', () => {
    expect(groupOf(stuck(1)[1]!, 'g')?.status).toBe('OK');
  });

  it('a committed offset that does not move for the window while lag exists: STALL with members, STOP without', () => {
    expect(groupOf(stuck(1).at(-1)!, 'g')?.status).toBe('STALL');
    expect(groupOf(stuck(0).at(-1)!, 'g')?.status).toBe('STOP');
  });

  it('a caught-up idle group stays OK however long it does not commit', () => {
    const r = read([group('g', { committed: { t: { 0: 10 } }, members: 0 })], { t: { 0: 10 } });
    const { snapshots } = collect([0, 10_000, 20_000, 30_000].map((atMs) => ({ read: r, atMs })));
    expect(snapshots.map((s) => groupOf(s, 'g')?.status)).toEqual(['OK', 'OK', 'OK', 'OK']);
  });

  it('a group whose offsets cannot be read is ERR and keeps its last samples', () => {
    const { snapshots } = collect([
      { read: read([group('g', { committed: { t: { 0: 5 } } })], { t: { 0: 10 } }), atMs: 0 },
      { read: read([group('g', { committed: 'unreadable' })], { t: { 0: 12 } }), atMs: 5_000 },
    ]);
    expect(groupOf(snapshots[1]!, 'g')?.status).toBe('ERR');
    expect(partitionOf(snapshots[1]!, 'g')).toMatchObject({ committedOffset: 5, lagMessages: 5 });
  });

  it('a group that cannot be described is ERR with no member count (membership tells STALL from STOP)', () => {
    const s = once({ read: read([group('g', { committed: { t: { 0: 5 } }, members: 'undescribed' })], { t: { 0: 10 } }), atMs: 0 });
    expect(groupOf(s, 'g')).toMatchObject({ status: 'ERR', members: undefined, state: 'Unknown' });
    expect(partitionOf(s, 'g')?.lagMessages).toBe(5);
  });

  it('last commit time is when the committed offset was first seen to change', () => {
    const g = (committed: number) => group('g', { committed: { t: { 0: committed } } });
    const { snapshots } = collect([
      { read: read([g(1)], { t: { 0: 10 } }), atMs: 1_000 },
      { read: read([g(1)], { t: { 0: 10 } }), atMs: 2_000 },
      { read: read([g(4)], { t: { 0: 10 } }), atMs: 3_000 },
    ]);
    expect(snapshots.map((s) => partitionOf(s, 'g')?.lastCommitMs)).toEqual([1_000, 1_000, 3_000]);
  });
});

describe('Kafka snapshot: dead-letter topics', () => {
  it('finds them by pattern, with the source the wildcard names (none for a literal pattern)', () => {
    const s = once({ read: read([], { 'orders.dlq': { 0: 0 }, graveyard: { 0: 0 }, orders: { 0: 0 }, '__x.dlq': { 0: 0 } }), atMs: 0 });
    expect(s.dlqs.map((d) => [d.dlq, d.sources])).toEqual([
      ['graveyard', []],
      ['orders.dlq', ['orders']],
    ]);
  });

  it('depth is what comes after the slowest reading group (the whole log when nobody reads it), age the oldest waiting record', () => {
    const unread = once({ read: read([], { 'o.dlq': { 0: 7, 1: 3 } }, { 'o.dlq': { 0: 2 } }), atMs: 10_000, records: { 'o.dlq/0': { offset: 2, timestampMs: 4_000 } } });
    expect(dlqOf(unread, 'o.dlq')).toMatchObject({ depth: 8, oldestAgeSeconds: 6 });
    const read2 = read([group('a', { committed: { 'o.dlq': { 0: 5 } } }), group('b', { committed: { 'o.dlq': { 0: 6 } } })], { 'o.dlq': { 0: 7 } });
    expect(dlqOf(once({ read: read2, atMs: 0 }), 'o.dlq')?.depth).toBe(2);
    expect(dlqOf(once({ read: read([], { 'o.dlq': { 0: 0 } }), atMs: 0 }), 'o.dlq')).toMatchObject({ depth: 0, oldestAgeSeconds: 0 });
    // Waiting messages but nothing known about their age yet: no age rather than a made-up 0.
    expect(dlqOf(once({ read: read([], { 'o.dlq': { 0: 3 } }), atMs: 0 }), 'o.dlq')?.oldestAgeSeconds).toBeUndefined();
  });

  it('inflow is the growth of the log end after a first baseline, never negative, by source', () => {
    const at = (high: number) => read([], { 'o.dlq': { 0: high }, graveyard: { 0: high } });
    const { snapshots } = collect([
      { read: at(100), atMs: 0 },
      { read: at(103), atMs: 1_000 },
      { read: at(50), atMs: 2_000 },
      { read: at(52), atMs: 3_000 },
    ]);
    expect(snapshots.map((s) => countOf(s.dlqInflow, { dlq: 'o.dlq', source: 'o' }))).toEqual([0, 3, 3, 5]);
    expect(countOf(snapshots[3]!.dlqInflow, { dlq: 'graveyard', source: DLQ_SOURCE_UNKNOWN })).toBe(5);
  });
});

describe('Kafka snapshot: memory', () => {
  it('forgets groups and partitions that are gone', () => {
    const { memory } = collect([
      { read: read([group('g', { committed: { t: { 0: 1 } } }), group('h', { committed: { u: { 0: 1 } } })], { t: { 0: 5 }, u: { 0: 5 } }), atMs: 0 },
      { read: read([group('g', { committed: { t: { 0: 1 } } })], { t: { 0: 5 } }), atMs: 1_000 },
    ]);
    expect([...memory.lastPartitions.keys()]).toEqual(['g']);
    expect(memory.commits.size).toBe(1);
    expect(memory.watermarks.size).toBe(1);
  });
});

describe('Kafka snapshot: one partition whose watermark cannot be read', () => {
  it('stales only its own series; its status history and watermark samples survive until it is back', () => {
    // Partition 0 is caught up; partition 1 is stuck at 5 with lag.
    const g = group('g', { committed: { t: { 0: 10, 1: 5 } } });
    const full = read([g], { t: { 0: 10, 1: 10 } });
    const partial: ClusterRead = { ...full, high: offsets({ t: { 0: 10 } }), low: offsets({ t: { 0: 0 } }) };
    const { snapshots, memory } = collect([
      { read: full, atMs: 0 },
      { read: partial, atMs: 5_000 },
      { read: partial, atMs: 10_000 },
    ]);
    expect(snapshots[2]!.partitions.map((p) => p.partition)).toEqual([0]);
    expect(groupOf(snapshots[2]!, 'g')?.status).toBe('OK');
    expect(memory.commits.get(commitKey('g', 't', 1))?.lastChangeMs).toBe(0);
    expect(memory.watermarks.has(partitionKey('t', 1))).toBe(true);
    const back = collect([
      { read: full, atMs: 0 },
      { read: partial, atMs: 5_000 },
      { read: full, atMs: 12_000 },
    ]).snapshots[2]!;
    // Partition 1 has not moved since 0 s: with its history kept, STALL as soon as it is read again.
    expect(partitionOf(back, 'g', 't', 1)?.lastCommitMs).toBe(0);
    expect(groupOf(back, 'g')?.status).toBe('STALL');
  });
});

describe('what to read', () => {
  it('watches dead-letter topics, committed topics that still exist and assigned selected topics', () => {
    const groups = [group('g', { committed: { t: { 0: 1 }, deleted: { 0: 1 } }, assigned: { u: [0], __internal: [0] } })];
    expect(topicsToWatch(['t', 'u', 'v', 'x.dlq', '__internal'], groups, selection)).toEqual(['t', 'u', 'x.dlq']);
  });

  it('asks for the record of each lagging partition and each waiting dead letter, every offset a group needs, skipping cached ones', () => {
    const r = read(
      [group('a', { committed: { t: { 0: 3, 1: 9 } } }), group('b', { committed: { t: { 0: 1 } } })],
      { t: { 0: 9, 1: 9 }, 'x.dlq': { 0: 4, 1: 0 } },
    );
    const requests = recordRequests(r, selection);
    expect(requests).toEqual([
      { topic: 't', partition: 0, offset: 3 },
      { topic: 't', partition: 0, offset: 1 },
      { topic: 'x.dlq', partition: 0, offset: 0 },
    ]);
    expect(recordsToFetch(requests, new Map())).toEqual(requests);
    expect(recordsToFetch(requests, recordsOf({ 'x.dlq/0': { offset: 0, timestampMs: 1 }, 't/0': { offset: 3, timestampMs: 1 } }))).toEqual([{ topic: 't', partition: 0, offset: 1 }]);
    // One Fetch names a partition once: two offsets of t/0 take two rounds.
    expect(fetchRounds(requests)).toEqual([
      [
        { topic: 't', partition: 0, offset: 1 },
        { topic: 'x.dlq', partition: 0, offset: 0 },
      ],
      [{ topic: 't', partition: 0, offset: 3 }],
    ]);
  });
});

describe('Kafka snapshot: consumer status with the default settings (15 s interval, default window)', () => {
  const INTERVAL_S = 15;
  const defaults = { windowMs: DEFAULT_STATUS_WINDOW_SECONDS * 1000 };
  /** Producers write 10 messages/s to t/0; `committedAt(t)` is the group's committed offset at t (s). */
  const run = (committedAt: (t: number) => number, { members = (_t: number): number => 1, until = 900, phase = 7, allowedLag = 0 } = {}) => {
    const times: number[] = [];
    for (let t = phase; t <= until; t += INTERVAL_S) times.push(t);
    const { snapshots } = collect(
      times.map((t) => ({ read: read([group('g', { committed: { t: { 0: committedAt(t) } }, members: members(t) })], { t: { 0: 10 * t } }), atMs: t * 1000 })),
      { ...defaults, allowedLag: [{ groups: 'g', messages: allowedLag }] },
    );
    return times.map((t, i) => ({ t, status: groupOf(snapshots[i]!, 'g')!.status, lag: partitionOf(snapshots[i]!, 'g')!.lagMessages }));
  };

  it('a consumer that stops or hangs while messages keep coming is flagged within 2 minutes of its last commit, and not before', () => {
    for (const [membersAfter, expected] of [
      [1, 'STALL'],
      [0, 'STOP'],
    ] as const) {
      for (const phase of [0, 1, 5, 7, 11, 14]) {
        const stopAt = 300;
        // Commits what it has read every 5 s (20 to 70 messages behind), then stops at 300 s.
        // Hung: still a member; stopped: it left the group.
        const members = (t: number) => (t <= stopAt ? 1 : membersAfter);
        const statuses = run((t) => 10 * (Math.floor(Math.min(t, stopAt) / 5) * 5 - 2), { members, phase, until: 600 });
        expect(statuses.filter((s) => s.t <= stopAt).every((s) => s.status === 'OK')).toBe(true);
        const first = statuses.find((s) => s.status === expected)!;
        expect([membersAfter, phase, first.t - stopAt >= DEFAULT_STATUS_WINDOW_SECONDS, first.t - stopAt <= 120]).toEqual([membersAfter, phase, true, true]);
        expect(statuses.filter((s) => s.t >= first.t).every((s) => s.status === expected)).toBe(true);
      }
    }
  });

  it('a consumer committing every 60 s stays OK (lag never 0 in between); every 100 s it reads STALL between commits unless its allowance covers it', () => {
    const every = (period: number) => (t: number) => 10 * Math.floor(t / period) * period;
    const sixty = run(every(60));
    expect(sixty.every((s) => s.lag > 0)).toBe(true);
    expect(sixty.map((s) => s.status).filter((x) => x !== 'OK')).toEqual([]);
    expect(run(every(100)).some((s) => s.status === 'STALL')).toBe(true);
    expect(run(every(100), { allowedLag: 1_000 }).every((s) => s.status === 'OK')).toBe(true);
  });

  it('WARN for a consumer reading 8 of every 10 messages: once the trend window is covered, never for one keeping pace', () => {
    const behind = run((t) => 8 * t, { until: 420 });
    expect(behind.filter((s) => s.t < 2 * DEFAULT_STATUS_WINDOW_SECONDS).every((s) => s.status === 'OK')).toBe(true);
    expect(behind.filter((s) => s.t > 2 * DEFAULT_STATUS_WINDOW_SECONDS + INTERVAL_S).every((s) => s.status === 'WARN')).toBe(true);
    // Keeping pace 30 to 70 messages behind, unevenly.
    const pacing = run((t) => 10 * t - [30, 70, 45, 60, 35, 50, 65][Math.floor(t / INTERVAL_S) % 7]!, { until: 900 });
    expect(pacing.every((s) => s.status === 'OK')).toBe(true);
    // A burst of 3,000 messages at 300 s, drained in the next two minutes: never WARN.
    const burst = run((t) => (t < 300 ? 10 * t - 20 : Math.min(10 * t + 3_000 - 20, 10 * 300 - 20 + (t - 300) * 40)), { until: 900 });
    expect(burst.map((s) => s.status).filter((x) => x !== 'OK')).toEqual([]);
  });

  it('REWIND while the offset reset is inside the window, then the usual status; a stuck partition ranks above it', () => {
    const statuses = run((t) => (t < 300 ? 10 * t : 10 * t - 1_000), { until: 500 });
    const after = statuses.filter((s) => s.t > 300);
    expect(after.filter((s) => s.t - 300 <= DEFAULT_STATUS_WINDOW_SECONDS - INTERVAL_S).every((s) => s.status === 'REWIND')).toBe(true);
    expect(after.filter((s) => s.t - 300 > DEFAULT_STATUS_WINDOW_SECONDS + INTERVAL_S).every((s) => s.status === 'OK')).toBe(true);
    expect(statuses.filter((s) => s.t < 300).every((s) => s.status === 'OK')).toBe(true);

    const g = (c0: number) => read([group('g', { committed: { t: { 0: c0, 1: 5 } } })], { t: { 0: 100, 1: 10 } });
    const { snapshots } = collect([0, 5_000, 10_000, 15_000].map((atMs, i) => ({ read: g(i < 3 ? 100 : 50), atMs })));
    expect(snapshots.map((s) => groupOf(s, 'g')?.status)).toEqual(['OK', 'OK', 'STALL', 'STALL']);
    expect(snapshots[3]!.rewound).toEqual(['g']);
    const rewoundOnly = collect([0, 5_000].map((atMs, i) => ({ read: read([group('g', { committed: { t: { 0: i === 0 ? 100 : 50 } } })], { t: { 0: 100 } }), atMs })));
    expect(groupOf(rewoundOnly.snapshots[1]!, 'g')?.status).toBe('REWIND');
  });
});

describe('Kafka snapshot: allowed lag per group', () => {
  const stuck = (name: string) => read([group(name, { committed: { t: { 0: 5 } }, members: 0 })], { t: { 0: 10 } });
  const statusOf = (name: string, allowedLag: KafkaSnapshotOptions['allowedLag']) =>
    groupOf(collect([0, 5_000, 10_000, 15_000].map((atMs) => ({ read: stuck(name), atMs })), { allowedLag }).snapshots[3]!, name)?.status;

  it('a partition at or under its group allowance is judged like a caught-up one; the first matching pattern applies', () => {
    expect(statusOf('reports-daily', [{ groups: 'reports-*', messages: 5 }])).toBe('OK');
    expect(statusOf('reports-daily', [{ groups: 'reports-*', messages: 4 }])).toBe('STOP');
    expect(statusOf('reports-daily', [{ groups: 'reports-daily', messages: 0 }, { groups: 'reports-*', messages: 5 }])).toBe('STOP');
    expect(statusOf('orders', [{ groups: 'reports-*', messages: 5 }])).toBe('STOP');
    expect(statusOf('orders', undefined)).toBe('STOP');
  });

  it('a rule it cannot apply is a clear error', () => {
    expect(() => statusOf('orders', [{ groups: 'o*', messages: Number.NaN }])).toThrow('allowedLag[0].messages (groups "o*") must be a whole number of messages ≥ 0 (got null).');
  });
});
