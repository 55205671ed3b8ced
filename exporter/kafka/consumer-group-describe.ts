/**
 * ConsumerGroupDescribe version 0 (KIP-848, Kafka 4): describes groups whose members use the
 * new consumer protocol (`group.protocol=consumer`). The classic DescribeGroups, the only one
 * kafkajs speaks, answers for such a group "state Dead, protocol type '', no members" without an
 * error, which made an active consumer look like a vanished offset-only group. Like
 * offset-fetch-batch.ts, the body carries the request header's empty tagged-field section in
 * front and the response is read after its header's tagged fields. Pure: bytes in, plain data out.
 */

export const CONSUMER_GROUP_DESCRIBE_API_KEY = 69;
export const CONSUMER_GROUP_DESCRIBE_VERSION = 0;

export interface ConsumerGroupDescribed {
  readonly groupId: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** `Empty`, `Assigning`, `Reconciling`, `Stable`, `Dead`. */
  readonly state: string;
  readonly members: { memberId: string; clientId: string; assignment: { topic: string; partitions: number[] }[] }[];
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

/** The request body (after the header's tagged fields): the group ids, no authorised operations. */
export function encodeConsumerGroupDescribe(groupIds: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(uvarint(groupIds.length + 1))];
  for (const id of groupIds) {
    const name = Buffer.from(id, 'utf8');
    parts.push(Buffer.from(uvarint(name.length + 1)), name);
  }
  parts.push(Buffer.from([0, 0])); // include_authorized_operations false, tagged fields
  return Buffer.concat(parts);
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error('ConsumerGroupDescribe response truncated');
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
  string(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.need(n - 1);
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
  tags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      const size = this.uvarint();
      this.skip(size);
    }
  }
}

/** The response body (after the correlation id). */
export function decodeConsumerGroupDescribe(payload: Buffer): ConsumerGroupDescribed[] {
  const r = new Reader(payload);
  r.tags(); // response header
  r.int32(); // throttle_time_ms
  const assignment = (): { topic: string; partitions: number[] }[] => {
    const topics = r.array(() => {
      r.skip(16); // topic_id
      const topic = r.string() ?? '';
      const partitions = r.array(() => r.int32());
      r.tags();
      return { topic, partitions };
    });
    r.tags();
    return topics;
  };
  const groups = r.array((): ConsumerGroupDescribed => {
    const errorCode = r.int16();
    const errorMessage = r.string();
    const groupId = r.string() ?? '';
    const state = r.string() ?? '';
    r.int32(); // group_epoch
    r.int32(); // assignment_epoch
    r.string(); // assignor_name
    const members = r.array(() => {
      const memberId = r.string() ?? '';
      r.string(); // instance_id
      r.string(); // rack_id
      r.int32(); // member_epoch
      const clientId = r.string() ?? '';
      r.string(); // client_host
      r.array(() => r.string()); // subscribed_topic_names
      r.string(); // subscribed_topic_regex
      const current = assignment();
      assignment(); // target_assignment
      r.tags();
      return { memberId, clientId, assignment: current };
    });
    r.int32(); // authorized_operations
    r.tags();
    return { groupId, errorCode, errorMessage, state, members };
  });
  r.tags();
  return groups;
}

/**
 * A group the classic DescribeGroups cannot see: listed as a `consumer` group, described as
 * `Dead` with no protocol type and no members. (A group deleted between the two requests looks
 * the same; ConsumerGroupDescribe then says GROUP_ID_NOT_FOUND.)
 */
export function looksLikeConsumerProtocolGroup(listedProtocolType: string | undefined, described: { state: string; protocolType?: string; members: number } | undefined): boolean {
  return listedProtocolType === 'consumer' && described !== undefined && described.state === 'Dead' && described.protocolType === '' && described.members === 0;
}
