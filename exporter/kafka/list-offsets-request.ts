/**
 * ListOffsets version 2 written and read directly: kafkajs builds one Encoder per partition and
 * merges the answer through arrays of objects, which at 20,000 partitions × three reads (log
 * end, log start, last stable offset) was the largest cost of a collection after the group
 * round trips. This writes the request into one buffer and reads the answer straight into maps.
 * Version 2 is the first with an isolation level (read_committed gives the last stable offset
 * as the latest offset) and is spoken by every broker since Kafka 0.11, Kafka 4 included. Pure.
 */

export const LIST_OFFSETS_API_KEY = 2;
export const LIST_OFFSETS_VERSION = 2;

export interface ListOffsetsTopic {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** The request body: replica -1 (a client), the isolation level, `timestamp` (-1 latest, -2 earliest) for every partition. */
export function encodeListOffsets(topics: readonly ListOffsetsTopic[], isolationLevel: 0 | 1, timestamp: number): Buffer {
  const names = topics.map((t) => Buffer.from(t.topic, 'utf8'));
  let size = 4 + 1 + 4;
  topics.forEach((t, i) => (size += 2 + names[i]!.length + 4 + 12 * t.partitions.length));
  const buf = Buffer.allocUnsafe(size);
  // The int64 timestamp as two int32 halves (no BigInt per partition).
  const tsHigh = Math.floor(timestamp / 2 ** 32);
  const tsLow = timestamp >>> 0;
  let at = buf.writeInt32BE(-1, 0);
  at = buf.writeInt8(isolationLevel, at);
  at = buf.writeInt32BE(topics.length, at);
  topics.forEach((t, i) => {
    const name = names[i]!;
    at = buf.writeInt16BE(name.length, at);
    at += name.copy(buf, at);
    at = buf.writeInt32BE(t.partitions.length, at);
    for (const p of t.partitions) {
      at = buf.writeInt32BE(p, at);
      at = buf.writeInt32BE(tsHigh, at);
      at = buf.writeUInt32BE(tsLow, at);
    }
  });
  return buf;
}

const ERROR_NAMES: Readonly<Record<number, string>> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  56: 'KAFKA_STORAGE_ERROR',
  74: 'FENCED_LEADER_EPOCH',
  75: 'UNKNOWN_LEADER_EPOCH',
  78: 'OFFSET_NOT_AVAILABLE',
};

/** A partition the broker answered with an error; the whole answer fails as kafkajs's did, so the caller can split it. */
export class ListOffsetsError extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly errorCode: number,
  ) {
    super(`ListOffsets error ${ERROR_NAMES[errorCode] ?? 'code'} (${errorCode}) on ${topic}/${partition}`);
    this.name = 'ListOffsetsError';
  }
}

/**
 * The response body (after the correlation id) as topic → partition → offset. Offsets the broker
 * does not have (-1) are left out. Throws {@link ListOffsetsError} for the first failed partition.
 */
export function decodeListOffsets(payload: Buffer, into = new Map<string, Map<number, number>>()): Map<string, Map<number, number>> {
  let at = 4; // throttle_time_ms
  const need = (n: number): void => {
    if (at + n > payload.length) throw new Error('ListOffsets response truncated');
  };
  need(4);
  const topicCount = payload.readInt32BE(at);
  at += 4;
  let failure: ListOffsetsError | undefined;
  for (let t = 0; t < topicCount; t++) {
    need(2);
    const nameLength = payload.readInt16BE(at);
    at += 2;
    need(nameLength + 4);
    const topic = payload.toString('utf8', at, at + nameLength);
    at += nameLength;
    const partitionCount = payload.readInt32BE(at);
    at += 4;
    let byPartition = into.get(topic);
    if (!byPartition) into.set(topic, (byPartition = new Map()));
    need(22 * partitionCount);
    for (let p = 0; p < partitionCount; p++) {
      const partition = payload.readInt32BE(at);
      const errorCode = payload.readInt16BE(at + 4);
      // timestamp at + 6 (8 bytes), offset at + 14 (8 bytes, read as two halves: no BigInt per partition).
      const high = payload.readInt32BE(at + 14);
      const low = payload.readUInt32BE(at + 18);
      at += 22;
      if (errorCode !== 0) {
        failure ??= new ListOffsetsError(topic, partition, errorCode);
        continue;
      }
      const offset = high * 2 ** 32 + low;
      if (offset >= 0 && Number.isSafeInteger(offset)) byPartition.set(partition, offset);
    }
  }
  if (failure) throw failure;
  return into;
}
