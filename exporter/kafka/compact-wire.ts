/**
 * The pieces of Kafka's "flexible" (compact) wire format that the exporter's own requests need
 * (OffsetFetch v8, ConsumerGroupDescribe): unsigned varints, compact strings and arrays (length
 * + 1), tagged fields. Every read is bounds-checked, so a truncated response is an error naming
 * the request, never a value read past the end.
 */

/** An unsigned varint, as bytes. */
export function uvarint(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** Reads one response body front to back. */
export class CompactReader {
  private at = 0;
  /** `request` names the response in the truncation error ("OffsetFetch"). */
  constructor(
    private readonly buf: Buffer,
    private readonly request: string,
  ) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error(`${this.request} response truncated`);
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.at++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  /** An int64 as its decimal text (offsets: kafkajs's convention). */
  int64(): string {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v.toString();
  }
  skip(n: number): void {
    this.need(n);
    this.at += n;
  }
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
  }
  /** Compact (nullable) string: length + 1, 0 for null. */
  string(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.need(n - 1);
    const s = this.buf.toString('utf8', this.at, this.at + n - 1);
    this.at += n - 1;
    return s;
  }
  /** Compact array: length + 1. */
  array<T>(read: () => T): T[] {
    const n = this.uvarint();
    const out: T[] = [];
    for (let i = 0; i < n - 1; i++) out.push(read());
    return out;
  }
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.skip(this.uvarint());
    }
  }
}
