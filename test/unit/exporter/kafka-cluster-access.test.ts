import { Kafka, logLevel } from 'kafkajs';
import { byLeader, createClusterAccess, javaStringHash, leaderIndex, offsetsPartitionOf } from '../../../exporter/kafka/cluster-access';
import { decodeListOffsets, encodeListOffsets } from '../../../exporter/kafka/list-offsets-request';
import { batchGroupError, decodeOffsetFetchBatch, encodeOffsetFetchBatch } from '../../../exporter/kafka/offset-fetch-batch';

describe('createClusterAccess', () => {
  it('finds kafkajs\'s internal cluster factory on a real client (fails loudly if a kafkajs upgrade moves it)', () => {
    // Building the cluster does not connect; nothing listens on this port.
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const access = createClusterAccess(kafka);
    expect(access).toBeDefined();
    expect(typeof access?.fetchRecords).toBe('function');
    // The group and metadata reads that spare kafkajs's admin its per-group FindCoordinator requests.
    for (const m of ['allTopics', 'listGroups', 'describeGroups', 'fetchCommitted', 'fetchCommittedMany'] as const) expect(typeof access?.[m]).toBe('function');
  });

  it('reports undefined (the public-API fallback) for a client without it', () => {
    expect(createClusterAccess({} as Kafka)).toBeUndefined();
    const wrong = { [Symbol('private:Kafka:createCluster')]: () => ({ connect: () => undefined }) };
    expect(createClusterAccess(wrong as unknown as Kafka)).toBeUndefined();
  });
});

describe('group coordinator placement', () => {
  it('hashes group ids as Java String.hashCode does', () => {
    // Values from Java: "hello".hashCode(), "".hashCode(), a string whose hash is Integer.MIN_VALUE.
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
    expect(javaStringHash('abc')).toBe(96354);
    // Over UTF-16 code units, as Java: "é" is one unit (233), "😀" two (surrogates 0xd83d 0xde00).
    expect(javaStringHash('é')).toBe(233);
    expect(javaStringHash('😀')).toBe(0xd83d * 31 + 0xde00);
  });

  it('places a group on abs(hash) % partitions of __consumer_offsets, Integer.MIN_VALUE on 0', () => {
    expect(offsetsPartitionOf('hello', 50)).toBe(99162322 % 50);
    // "Aa" and "BB" share a Java hash (2112): same partition.
    expect(offsetsPartitionOf('Aa', 10)).toBe(offsetsPartitionOf('BB', 10));
    expect(offsetsPartitionOf('polygenelubricants', 10)).toBe(0);
    // A negative hash is made positive, not taken modulo as negative: "zzzzzzzz" hashes to -1910022912 (int overflow as in Java).
    expect(javaStringHash('zzzzzzzz')).toBe(-1910022912);
    expect(offsetsPartitionOf('zzzzzzzz', 10)).toBe(2);
  });
});

describe('byLeader', () => {
  const leaders = leaderIndex([
    { topic: 'a', partitionMetadata: [{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: 2 }, { partitionId: 2, leader: -1 }] },
    { topic: 'b', partitionMetadata: [{ partitionId: 0, leader: 1 }] },
  ]);

  it('groups requests per leader and topic, keeping order, and sets leaderless and unknown partitions apart', () => {
    const { perBroker, leaderless } = byLeader(
      [
        { topic: 'a', partition: 1 },
        { topic: 'b', partition: 0 },
        { topic: 'a', partition: 0 },
        { topic: 'a', partition: 2 },
        { topic: 'gone', partition: 0 },
      ],
      leaders,
    );
    expect([...perBroker.keys()].sort()).toEqual([1, 2]);
    expect([...perBroker.get(1)!].map(([t, l]) => [t, l.map((r) => r.partition)])).toEqual([
      ['b', [0]],
      ['a', [0]],
    ]);
    expect(perBroker.get(2)!.get('a')!.map((r) => r.partition)).toEqual([1]);
    expect(leaderless).toEqual([
      { topic: 'a', partition: 2 },
      { topic: 'gone', partition: 0 },
    ]);
  });
});

describe('OffsetFetch v8 (many groups per request)', () => {
  it('encodes the groups with null topic lists behind an empty header tag section', () => {
    const body = encodeOffsetFetchBatch(['g1', 'é']);
    expect([...body]).toEqual([
      0, // request header tagged fields
      3, // 2 groups (compact array: n + 1)
      3, 0x67, 0x31, 0, 0, // "g1", topics null, tags
      3, 0xc3, 0xa9, 0, 0, // "é" (2 UTF-8 bytes)
      0, 0, // require_stable false, tags
    ]);
  });

  /** A v8 response as a broker writes it, from plain data. */
  function response(groups: { id: string; error: number; topics: { name: string; partitions: [number, bigint, number][] }[] }[]): Buffer {
    const bytes: Buffer[] = [];
    const u = (n: number): void => void bytes.push(Buffer.from([n]));
    const str = (s: string): void => {
      const b = Buffer.from(s);
      u(b.length + 1);
      bytes.push(b);
    };
    const i16 = (n: number): void => {
      const b = Buffer.alloc(2);
      b.writeInt16BE(n);
      bytes.push(b);
    };
    const i32 = (n: number): void => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      bytes.push(b);
    };
    const i64 = (n: bigint): void => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(n);
      bytes.push(b);
    };
    // Header with one tagged field (tag 5, 2 bytes) the decoder must skip.
    bytes.push(Buffer.from([1, 5, 2, 0xaa, 0xbb]));
    i32(0);
    u(groups.length + 1);
    for (const g of groups) {
      str(g.id);
      u(g.topics.length + 1);
      for (const t of g.topics) {
        str(t.name);
        u(t.partitions.length + 1);
        for (const [p, offset, error] of t.partitions) {
          i32(p);
          i64(offset);
          i32(-1);
          u(0); // metadata null
          i16(error);
          u(0);
        }
        u(0);
      }
      i16(g.error);
      u(0);
    }
    u(0);
    return Buffer.concat(bytes);
  }

  it('decodes each group\'s offsets (no commit as -1) and errors', () => {
    const groups = decodeOffsetFetchBatch(
      response([
        { id: 'g1', error: 0, topics: [{ name: 'orders', partitions: [[0, 42n, 0], [1, -1n, 0], [2, 9_007_199_254_740_993n, 0]] }] },
        { id: 'g2', error: 16, topics: [] },
        { id: 'g3', error: 0, topics: [{ name: 't', partitions: [[3, 5n, 88]] }] },
      ]),
    );
    expect(groups[0]).toEqual({
      groupId: 'g1',
      errorCode: 0,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '42', errorCode: 0 }, { partition: 1, offset: '-1', errorCode: 0 }, { partition: 2, offset: '9007199254740993', errorCode: 0 }] }],
    });
    expect(batchGroupError(groups[0]!)).toBeUndefined();
    expect(batchGroupError(groups[1]!)).toBe('OffsetFetch error NOT_COORDINATOR (16)');
    expect(batchGroupError(groups[2]!)).toBe('OffsetFetch error UNSTABLE_OFFSET_COMMIT (88) on t/3');
  });

  it('says a truncated response is truncated', () => {
    const full = response([{ id: 'g1', error: 0, topics: [{ name: 'orders', partitions: [[0, 1n, 0]] }] }]);
    expect(() => decodeOffsetFetchBatch(full.subarray(0, 12))).toThrow(/truncated|out of range/i);
  });
});

describe('ListOffsets v2 written and read directly', () => {
  it('writes replica -1, the isolation level and one timestamp per partition', () => {
    const body = encodeListOffsets([{ topic: 'ab', partitions: [0, 7] }], 1, -2);
    const expected = Buffer.concat([
      Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1, 0, 2, 0x61, 0x62, 0, 0, 0, 2]),
      Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
      Buffer.from([0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
    ]);
    expect(body.equals(expected)).toBe(true);
  });

  function answer(topics: { name: string; partitions: [number, number, bigint][] }[]): Buffer {
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8);
    head.writeInt32BE(topics.length, 4);
    parts.push(head);
    for (const t of topics) {
      const name = Buffer.from(t.name);
      const h = Buffer.alloc(2 + name.length + 4);
      h.writeInt16BE(name.length, 0);
      name.copy(h, 2);
      h.writeInt32BE(t.partitions.length, 2 + name.length);
      parts.push(h);
      for (const [p, error, offset] of t.partitions) {
        const b = Buffer.alloc(22);
        b.writeInt32BE(p, 0);
        b.writeInt16BE(error, 4);
        b.writeBigInt64BE(-1n, 6);
        b.writeBigInt64BE(offset, 14);
        parts.push(b);
      }
    }
    return Buffer.concat(parts);
  }

  it('reads offsets into maps, large ones exactly, leaving out -1', () => {
    const offsets = decodeListOffsets(answer([{ name: 'orders', partitions: [[0, 0, 42n], [1, 0, -1n], [2, 0, 2n ** 40n + 5n]] }]));
    expect([...offsets.get('orders')!]).toEqual([
      [0, 42],
      [2, 2 ** 40 + 5],
    ]);
  });

  it('fails the whole answer on a partition error, naming it (the caller splits the request)', () => {
    expect(() => decodeListOffsets(answer([{ name: 't', partitions: [[0, 0, 1n], [3, 6, -1n]] }]))).toThrow('ListOffsets error NOT_LEADER_OR_FOLLOWER (6) on t/3');
    expect(() => decodeListOffsets(answer([{ name: 't', partitions: [[0, 0, 1n]] }]).subarray(0, 20))).toThrow('truncated');
  });
});
