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
import { CompactReader, uvarint } from './compact-wire';


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

/** The response body (after the correlation id): per group, its error and its topics' offsets. */
export function decodeOffsetFetchBatch(payload: Buffer): BatchGroup[] {
  const r = new CompactReader(payload, 'OffsetFetch');
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
