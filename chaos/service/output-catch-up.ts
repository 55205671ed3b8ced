/**
 * Whether the harness's reader of a service's output topics has read everything written to them
 * up to a moment: the drain waits for it, so that outputs still in the topics when the inputs are
 * all processed (a reader rejoining after a broker restart, say) are counted, not missed.
 *
 * Positions come from the ends of the reader's batches (kafkajs's END_BATCH_PROCESS), which cover
 * transaction markers and aborted records too, so a transactional output's trailing marker does not
 * keep the reader "behind" for ever.
 */

/** End offsets by partition, keyed `topic[partition]`. */
export type PartitionEnds = ReadonlyMap<string, bigint>;

export const partitionKey = (topic: string, partition: number): string => `${topic}[${partition}]`;

export interface OutputCatchUp {
  /** The end offsets when the reader joined, before the service started: a partition still there has nothing new. */
  joined(ends: PartitionEnds): void;
  /** A batch of `topic[partition]` was read up to `lastOffset` (a decimal string, as kafkajs gives it). */
  read(topic: string, partition: number, lastOffset: string): void;
  /** The partitions whose reader has not reached `ends` yet, as "topic[p] at 12 of 15"; empty when caught up. */
  behind(ends: PartitionEnds): string[];
}

export function outputCatchUp(): OutputCatchUp {
  let atJoin: PartitionEnds = new Map();
  const next = new Map<string, bigint>();
  return {
    joined(ends) {
      atJoin = ends;
    },
    read(topic, partition, lastOffset) {
      const key = partitionKey(topic, partition);
      const n = BigInt(lastOffset) + 1n;
      if (n > (next.get(key) ?? -1n)) next.set(key, n);
    },
    behind(ends) {
      const out: string[] = [];
      for (const [key, end] of ends) {
        const position = next.get(key) ?? atJoin.get(key) ?? 0n;
        if (position < end) out.push(`${key} at ${position} of ${end}`);
      }
      return out;
    },
  };
}
