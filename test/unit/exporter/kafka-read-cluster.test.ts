import type { Admin } from 'kafkajs';
import { createNameFilter } from '../../../exporter/name-filter';
import type { ClusterAccess, PartitionFetch } from '../../../exporter/kafka/cluster-access';
import { readCluster, readRecords } from '../../../exporter/kafka/read-cluster';
import { decodeConsumerGroupDescribe, encodeConsumerGroupDescribe, looksLikeConsumerProtocolGroup } from '../../../exporter/kafka/consumer-group-describe';
import { recordKey } from '../../../exporter/kafka/partition-history';

/**
 * The cluster reads over a fake admin and a fake internal cluster: one bad group or one failing
 * partition must cost only its own numbers, never the collection or the other groups.
 */

const selection = { topics: createNameFilter({}), dlqPatterns: [] };
const options = { groups: createNameFilter({}), selection, concurrency: 4 };

interface FakeSpec {
  readonly groups: string[];
  /** Groups whose DescribeGroups fails (kafkajs then fails the whole call). */
  readonly undescribable?: string[];
  /** Topics whose offsets cannot be read (an offline partition). */
  readonly brokenTopics?: string[];
}

function fakeAdmin(spec: FakeSpec): Admin {
  const admin = {
    listGroups: async () => ({ groups: spec.groups.map((groupId) => ({ groupId, protocolType: 'consumer' })) }),
    describeGroups: async (ids: string[]) => {
      const bad = ids.find((id) => spec.undescribable?.includes(id));
      if (bad) throw new Error(`GROUP_AUTHORIZATION_FAILED (${bad})`);
      return { groups: ids.map((groupId) => ({ groupId, state: 'Stable', protocolType: 'consumer', protocol: 'range', members: [] })) };
    },
    fetchOffsets: async () => [
      { topic: 'ok', partitions: [{ partition: 0, offset: '1' }] },
      { topic: 'broken', partitions: [{ partition: 0, offset: '1' }] },
    ],
    listTopics: async () => ['ok', 'broken'],
    fetchTopicOffsets: async (topic: string) => {
      if (spec.brokenTopics?.includes(topic)) throw new Error('NOT_LEADER_OR_FOLLOWER');
      return [{ partition: 0, offset: '5', high: '5', low: '0' }];
    },
  };
  return admin as unknown as Admin;
}

/** The internal cluster: its batched ListOffsets fails as a whole when any partition in it fails. */
function fakeCluster(broken: string[], partitions = [0]): ClusterAccess {
  return {
    connect: async () => undefined,
    disconnect: async () => undefined,
    partitionsOf: async (topics) => new Map(topics.map((t) => [t, partitions])),
    listOffsets: async (topics) => {
      const bad = topics.flatMap((t) => t.partitions.map((p) => `${t.topic}/${p}`)).find((tp) => broken.includes(tp) || broken.includes(tp.split('/')[0]!));
      if (bad) throw new Error(`NOT_LEADER_OR_FOLLOWER ${bad}`);
      return new Map(topics.map((t) => [t.topic, new Map(t.partitions.map((p) => [p, 5]))]));
    },
    fetchRecords: async (requests: readonly PartitionFetch[]) => new Map(requests.map((r) => [`${r.topic}\u0000${r.partition}`, { offset: r.offset, timestampMs: 1_000 + r.offset }])),
  };
}

describe('readCluster: partial failure stays partial', () => {
  it('one group that cannot be described leaves the others of its DescribeGroups call described', async () => {
    const groups = Array.from({ length: 150 }, (_, i) => `g${String(i).padStart(3, '0')}`);
    const read = await readCluster({ admin: fakeAdmin({ groups, undescribable: ['g042'] }), cluster: undefined }, options);
    expect(read.groups.filter((g) => g.description === undefined).map((g) => g.group)).toEqual(['g042']);
    expect(read.warnings).toEqual([expect.stringContaining('describeGroups(g042)')]);
  });

  it('one topic failing the batched ListOffsets leaves the other topics their watermarks', async () => {
    const read = await readCluster({ admin: fakeAdmin({ groups: ['g'], brokenTopics: ['broken'] }), cluster: fakeCluster(['broken']) }, options);
    expect(read.high.get('ok')?.get(0)).toBe(5);
    expect(read.high.has('broken')).toBe(false);
    expect(read.warnings).toEqual([expect.stringContaining('listOffsets(broken/0)')]);
  });

  it('one leaderless partition costs only that partition: the other partitions of its topic keep their watermarks', async () => {
    const read = await readCluster({ admin: fakeAdmin({ groups: ['g'] }), cluster: fakeCluster(['broken/2'], [0, 1, 2, 3]) }, options);
    expect([...read.high.get('broken')!.keys()].sort()).toEqual([0, 1, 3]);
    expect([...read.low.get('broken')!.keys()].sort()).toEqual([0, 1, 3]);
    expect([...read.high.get('ok')!.keys()]).toEqual([0, 1, 2, 3]);
    expect(read.warnings).toEqual([expect.stringContaining('listOffsets(broken/2)')]);
  });
});

describe('readRecords', () => {
  it('reads every offset asked for, several per partition, each keyed by its offset', async () => {
    const { records, warnings } = await readRecords(fakeCluster([]), [
      { topic: 't', partition: 0, offset: 3 },
      { topic: 't', partition: 0, offset: 9 },
      { topic: 'u', partition: 1, offset: 4 },
    ]);
    expect(warnings).toEqual([]);
    expect(records.get(recordKey('t', 0, 3))).toEqual({ offset: 3, timestampMs: 1_003 });
    expect(records.get(recordKey('t', 0, 9))).toEqual({ offset: 9, timestampMs: 1_009 });
    expect(records.get(recordKey('u', 1, 4))).toEqual({ offset: 4, timestampMs: 1_004 });
  });

  it('counts and reports the records that did not come back (a truncated batch is not silently estimated)', async () => {
    const cluster = { ...fakeCluster([]), fetchRecords: async () => new Map([['t\u00000', { offset: 2, timestampMs: 7 }]]) };
    const { records, warnings, missing } = await readRecords(cluster, [
      { topic: 't', partition: 0, offset: 2 },
      { topic: 't', partition: 1, offset: 5 },
    ]);
    expect(records.size).toBe(1);
    expect(missing).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('1 of 2 records not returned')]);
  });

  it('passes on where the next data record is, when the fetch tells control records apart', async () => {
    const cluster = { ...fakeCluster([]), fetchRecords: async () => new Map([['t\u00000', { offset: 2, timestampMs: 7, nextDataOffset: 3 }]]) };
    const { records } = await readRecords(cluster, [{ topic: 't', partition: 0, offset: 2 }]);
    expect(records.get(recordKey('t', 0, 2))).toEqual({ offset: 2, timestampMs: 7, nextDataOffset: 3 });
  });
});

describe('ConsumerGroupDescribe (KIP-848 groups)', () => {
  it('encodes the group ids behind an empty header tag section', () => {
    expect([...encodeConsumerGroupDescribe(['g'])]).toEqual([0, 2, 2, 0x67, 0, 0]);
  });

  /** A v0 response from plain data: one group, its members and their current assignment. */
  function response(group: { id: string; error: number; state: string; members: { id: string; assignment: [string, number[]][] }[] }): Buffer {
    const out: number[] = [];
    const str = (s: string | null): void => {
      if (s === null) return void out.push(0);
      const b = [...Buffer.from(s)];
      out.push(b.length + 1, ...b);
    };
    const i32 = (n: number): void => void out.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    const assignment = (topics: [string, number[]][]): void => {
      out.push(topics.length + 1);
      for (const [name, ps] of topics) {
        out.push(...new Array<number>(16).fill(7)); // topic id
        str(name);
        out.push(ps.length + 1);
        ps.forEach(i32);
        out.push(0);
      }
      out.push(0);
    };
    out.push(0); // header tags
    i32(0); // throttle
    out.push(2); // one group
    out.push((group.error >> 8) & 0xff, group.error & 0xff);
    str(null); // error message
    str(group.id);
    str(group.state);
    i32(5);
    i32(5);
    str('uniform');
    out.push(group.members.length + 1);
    for (const m of group.members) {
      str(m.id);
      str(null);
      str(null);
      i32(3);
      str('client-1');
      str('/127.0.0.1');
      out.push(2);
      str('orders');
      str(null);
      assignment(m.assignment);
      assignment([]);
      out.push(0);
    }
    i32(-2147483648); // authorized operations
    out.push(0);
    out.push(0);
    return Buffer.from(out);
  }

  it('reads state, members and each member\'s assigned partitions, skipping the rest', () => {
    const [g] = decodeConsumerGroupDescribe(
      response({
        id: 'g1',
        error: 0,
        state: 'Stable',
        members: [
          { id: 'm1', assignment: [['orders', [0, 2]]] },
          { id: 'm2', assignment: [['orders', [1]], ['audit', [0]]] },
        ],
      }),
    );
    expect(g).toEqual({
      groupId: 'g1',
      errorCode: 0,
      errorMessage: null,
      state: 'Stable',
      members: [
        { memberId: 'm1', clientId: 'client-1', assignment: [{ topic: 'orders', partitions: [0, 2] }] },
        { memberId: 'm2', clientId: 'client-1', assignment: [{ topic: 'orders', partitions: [1] }, { topic: 'audit', partitions: [0] }] },
      ],
    });
    expect(() => decodeConsumerGroupDescribe(response({ id: 'g1', error: 0, state: 'Stable', members: [] }).subarray(0, 15))).toThrow('truncated');
  });

  it('takes a group listed as `consumer` but described Dead with no protocol type and no members for a consumer-protocol group', () => {
    expect(looksLikeConsumerProtocolGroup('consumer', { state: 'Dead', protocolType: '', members: 0 })).toBe(true);
    expect(looksLikeConsumerProtocolGroup('consumer', { state: 'Empty', protocolType: 'consumer', members: 0 })).toBe(false);
    // An offset-only group is listed with protocol type '' and stays what it is.
    expect(looksLikeConsumerProtocolGroup('', { state: 'Dead', protocolType: '', members: 0 })).toBe(false);
    expect(looksLikeConsumerProtocolGroup('consumer', undefined)).toBe(false);
  });
});
