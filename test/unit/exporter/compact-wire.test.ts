import { CompactReader, uvarint } from '../../../exporter/kafka/compact-wire';

describe('compact wire format', () => {
  it('writes and reads unsigned varints across byte boundaries', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31 - 1]) {
      expect(new CompactReader(Buffer.from(uvarint(n)), 'Test').uvarint()).toBe(n);
    }
    expect(uvarint(300)).toEqual([0xac, 0x02]);
  });

  it('reads compact strings (null as length 0), arrays (length + 1) and skips tagged fields', () => {
    const body = Buffer.from([
      ...uvarint(4), ...Buffer.from('abc'), // "abc"
      0, // null
      ...uvarint(3), 0, 0, 0, 7, 0, 0, 0, 9, // [7, 9] as int32
      2, 1, 2, 0xaa, 0xbb, 5, 1, 0xcc, // two tagged fields
      0, 0, 0, 0, 0, 0, 1, 0, // int64 256
    ]);
    const r = new CompactReader(body, 'Test');
    expect(r.string()).toBe('abc');
    expect(r.string()).toBeNull();
    expect(r.array(() => r.int32())).toEqual([7, 9]);
    r.skipTaggedFields();
    expect(r.int64()).toBe('256');
  });

  it('refuses to read past the end, naming the response', () => {
    expect(() => new CompactReader(Buffer.from([0, 0, 0]), 'OffsetFetch').int32()).toThrow('OffsetFetch response truncated');
    expect(() => new CompactReader(Buffer.from([...uvarint(10), 0x61]), 'ConsumerGroupDescribe').string()).toThrow('ConsumerGroupDescribe response truncated');
    expect(() => new CompactReader(Buffer.from([0x80]), 'X').uvarint()).toThrow('X response truncated');
    expect(() => new CompactReader(Buffer.from([1, 0, 5, 1]), 'X').skipTaggedFields()).toThrow('X response truncated');
  });
});
