import type { Kafka } from 'kafkajs';
import { createNameFilter } from '../name-filter';
import type { Collector, KafkaSnapshot, KafkaTargetConfig } from '../types';
import type { FetchedRecord } from './cluster-access';
import { recordRequests, recordsToFetch } from './cluster-read';
import type { KafkaSelection } from './cluster-read';
import { closeConnection, createKafkaClient, openConnection, readCluster, readRecords } from './read-cluster';
import type { KafkaConnection } from './read-cluster';
import { EMPTY_KAFKA_MEMORY, kafkaSnapshot } from './snapshot';

export const DEFAULT_KAFKA_DLQ_PATTERNS: readonly string[] = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT'];
export const DEFAULT_STATUS_WINDOW_SECONDS = 600;

export interface KafkaCollectorDeps {
  readonly config: KafkaTargetConfig;
  /** Wall clock (ms); tests pass their own. */
  readonly now?: () => number;
  /** Builds the kafkajs client; tests may pass an instrumented one. */
  readonly createKafka?: (config: KafkaTargetConfig) => Kafka;
}

/**
 * Collects consumer lag, group state and dead-letter topics from Kafka: reads the cluster
 * (read-cluster.ts), fetches the timestamps of the records not cached yet, and computes the
 * snapshot (snapshot.ts) from the reads and what the previous collections left. A failed
 * collection drops the connection, so the next one starts from fresh metadata.
 */
export function createKafkaCollector(deps: KafkaCollectorDeps): Collector<KafkaSnapshot> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const createKafka = deps.createKafka ?? createKafkaClient;
  const windowMs = (config.statusWindowSeconds ?? DEFAULT_STATUS_WINDOW_SECONDS) * 1000;
  const concurrency = Math.max(1, config.concurrency ?? 16);
  const groups = createNameFilter(config.groups);
  const selection: KafkaSelection = { topics: createNameFilter(config.topics), dlqPatterns: config.dlqPatterns ?? DEFAULT_KAFKA_DLQ_PATTERNS };

  let connection: KafkaConnection | undefined;
  let memory = EMPTY_KAFKA_MEMORY;
  /** The record at an offset, per partition: re-read only when the offset moves. */
  const recordCache = new Map<string, FetchedRecord>();

  const connect = async (): Promise<KafkaConnection> => {
    connection ??= await openConnection(createKafka(config));
    return connection;
  };

  const reset = async (): Promise<void> => {
    const c = connection;
    connection = undefined;
    if (c) await closeConnection(c);
  };

  const collectOnce = async (current: KafkaConnection): Promise<KafkaSnapshot> => {
    const read = await readCluster(current, { groups, selection, concurrency });
    const atMs = now();
    const fetched = await readRecords(current.cluster, recordsToFetch(recordRequests(read, selection), recordCache));
    for (const [key, record] of fetched.records) recordCache.set(key, record);
    const next = kafkaSnapshot({ read, records: recordCache, atMs, fetchedAtMs: now(), warnings: fetched.warnings }, memory, { selection, windowMs });
    memory = next.memory;
    for (const key of recordCache.keys()) if (!next.memory.watermarks.has(key)) recordCache.delete(key);
    return next.snapshot;
  };

  return {
    target: 'kafka',
    async collect() {
      const current = await connect();
      try {
        return await collectOnce(current);
      } catch (err) {
        await reset();
        throw err;
      } finally {
        // Reset while this collection was still running (it timed out): kafkajs reconnects lazily,
        // so the requests it made after the reset may have opened new sockets. Close them too.
        if (connection !== current) await closeConnection(current);
      }
    },
    close: reset,
  };
}
