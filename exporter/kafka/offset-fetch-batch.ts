/**
 * OffsetFetch version 8 (KIP-709, Kafka 3.0+): the committed offsets of many groups in one
 * request to their coordinator. kafkajs 2.2.4 speaks OffsetFetch up to version 4, one group per
 * request, so a collection of N groups cost N round trips (and N FindCoordinator requests more).
 * Version 8 is a "flexible" version (compact strings and arrays, tagged fields), which kafkajs's
 * request framing does not write; this module encodes the body with the request header's empty
 * tagged-field section in front (the header's last field comes right before the body, so the
 * bytes are the same) and decodes the response after its header's tagged fields. Pure: bytes in,
 * plain objects out.
 */

export const OFFSET_FETCH_API_KEY = 9;
export const OFFSET_FETCH_BATCH_VERSION = 8;

export interface BatchPartition {
  readonly partition: number;
  /** `-1`: no commit. */
  readonly offset: string;
  readonly errorCode: number;
}

export interface BatchGroup {
  readonly groupId: string;
  readonly errorCode: number;
  readonly topics: { topic: string; partitions: BatchPartition[] }[];
}

function uvarint(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** The request body (with the header's tagged fields in front): every topic of each group, require_stable false. */
export function encodeOffsetFetchBatch(groupIds: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(uvarint(groupIds.length + 1))];
  for (const id of groupIds) {
    const name = Buffer.from(id, 'utf8');
    // group_id (compact string), topics null (= all), tagged fields.
    parts.push(Buffer.from(uvarint(name.length + 1)), name, Buffer.from([0, 0]));
  }
  // require_stable false, tagged fields.
  parts.push(Buffer.from([0, 0]));
  return Buffer.concat(parts);
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64(): string {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v.toString();
  }
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new Error('OffsetFetch response truncated');
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
  }
  /** Compact (nullable) string: length + 1, 0 for null. */
  string(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const s = this.buf.toString('utf8', this.at, this.at + n - 1);
    this.at += n - 1;
    return s;
  }
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
      const size = this.uvarint();
      this.at += size;
    }
  }
}

/** The response body (after the correlation id): per group, its error and its topics' offsets. */
export function decodeOffsetFetchBatch(payload: Buffer): BatchGroup[] {
  const r = new Reader(payload);
  r.skipTaggedFields(); // response header
  r.int32(); // throttle_time_ms
  const groups = r.array((): BatchGroup => {
    const groupId = r.string() ?? '';
    const topics = r.array(() => {
      const topic = r.string() ?? '';
      const partitions = r.array((): BatchPartition => {
        const partition = r.int32();
        const offset = r.int64();
        r.int32(); // committed_leader_epoch
        r.string(); // metadata
        const errorCode = r.int16();
        r.skipTaggedFields();
        return { partition, offset, errorCode };
      });
      r.skipTaggedFields();
      return { topic, partitions };
    });
    const errorCode = r.int16();
    r.skipTaggedFields();
    return { groupId, errorCode, topics };
  });
  r.skipTaggedFields();
  return groups;
}

const ERROR_NAMES: Readonly<Record<number, string>> = {
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  30: 'GROUP_AUTHORIZATION_FAILED',
  69: 'GROUP_ID_NOT_FOUND',
  88: 'UNSTABLE_OFFSET_COMMIT',
};

/** The broker's error of a group, or of its first failing partition; undefined when none. */
export function batchGroupError(group: BatchGroup): string | undefined {
  let code = group.errorCode;
  let where = '';
  if (code === 0) {
    for (const t of group.topics) {
      const p = t.partitions.find((x) => x.errorCode !== 0);
      if (p) {
        code = p.errorCode;
        where = ` on ${t.topic}/${p.partition}`;
        break;
      }
    }
  }
  if (code === 0) return undefined;
  return `OffsetFetch error ${ERROR_NAMES[code] ?? 'code'} (${code})${where}`;
}
