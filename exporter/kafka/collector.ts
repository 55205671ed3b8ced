import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig } from 'kafkajs';
import { ConfigError, errorMessage, kafkaClientSecurity } from '@eda-harness/core';
import { createNameFilter } from '../name-filter';
import type { Collector, KafkaSnapshot, KafkaTargetConfig } from '../types';
import { recordRequests, recordsToFetch } from './cluster-read';
import type { KafkaSelection } from './cluster-read';
import { closeConnection, openConnection, readCluster, readRecords } from './read-cluster';
import type { KafkaConnection } from './read-cluster';
import type { Counts } from '../counts';
import { DEFAULT_STATUS_WINDOW_SECONDS } from './consumer-status';
import { EMPTY_KAFKA_MEMORY, kafkaSnapshot } from './snapshot';
import type { KafkaMemory } from './snapshot';

export const DEFAULT_KAFKA_DLQ_PATTERNS: readonly string[] = ['*.dlq', '*-dlq', 'dlq.*', '*.DLT'];

export interface KafkaCollectorDeps {
  readonly config: KafkaTargetConfig;
  /** Wall clock (ms); tests pass their own. */
  readonly now?: () => number;
  /** Builds the kafkajs client; tests may pass an instrumented one. */
  readonly createKafka?: (config: KafkaTargetConfig) => Kafka;
  /** Opens the connection the reads go through (default {@link openConnection}); tests may wrap its requests. */
  readonly openConnection?: (kafka: Kafka) => Promise<KafkaConnection>;
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
  const createKafka = deps.createKafka ?? createSecuredKafkaClient;
  const open = deps.openConnection ?? openConnection;
  const windowMs = (config.statusWindowSeconds ?? DEFAULT_STATUS_WINDOW_SECONDS) * 1000;
  const concurrency = Math.max(1, config.concurrency ?? 16);
  const groups = createNameFilter(config.groups);
  const selection: KafkaSelection = { topics: createNameFilter(config.topics), dlqPatterns: config.dlqPatterns ?? DEFAULT_KAFKA_DLQ_PATTERNS };

  let connection: KafkaConnection | undefined;
  // Records already read live in the snapshot memory, per topic/partition/offset (bounded there).
  let memory = EMPTY_KAFKA_MEMORY;

  /**
   * The shared connection, opened when there is none. A collection abandoned (its signal aborted)
   * while connecting closes what it opened instead of installing it: a later collection may
   * already have its own.
   */
  const connect = async (signal: AbortSignal | undefined): Promise<KafkaConnection> => {
    if (connection) return connection;
    const opened = await open(createKafka(config));
    if (signal?.aborted || (connection !== undefined && connection !== opened)) {
      await closeConnection(opened);
      signal?.throwIfAborted();
      return connection!;
    }
    connection = opened;
    return opened;
  };

  const reset = async (): Promise<void> => {
    const c = connection;
    connection = undefined;
    if (c) await closeConnection(c);
  };

  const collectOnce = async (current: KafkaConnection, signal: AbortSignal | undefined): Promise<KafkaSnapshot> => {
    const read = await readCluster(current, { groups, selection, concurrency });
    signal?.throwIfAborted();
    const atMs = now();
    const fetched = await readRecords(current.cluster, recordsToFetch(recordRequests(read, selection), memory.records));
    // The one state change: a collection the exporter gave up on (its reads are older than what a
    // later collection already stored) must not write its memory back, or the next collection
    // counts the same dead letters and clamps again.
    signal?.throwIfAborted();
    const next = kafkaSnapshot({ read, records: fetched.records, atMs, fetchedAtMs: now(), warnings: fetched.warnings }, memory, { selection, windowMs, allowedLag: config.allowedLag });
    memory = withoutVanishedCounts(next.memory, next.snapshot);
    return next.snapshot;
  };

  return {
    target: 'kafka',
    async collect(signal?: AbortSignal) {
      signal?.throwIfAborted();
      let current: KafkaConnection | undefined;
      try {
        current = await connect(signal);
        return await collectOnce(current, signal);
      } catch (err) {
        // Abandoned: the exporter already dropped this collection's connection; the shared one
        // may be a later collection's now, so it is not reset here.
        if (signal?.aborted) throw signal.reason ?? err;
        await reset();
        throw explainKafkaFailure(err, config);
      } finally {
        // Reset while this collection was still running (it timed out): kafkajs reconnects lazily,
        // so the requests it made after the reset may have opened new sockets. Close them too.
        if (current && connection !== current) await closeConnection(current);
      }
    },
    close: reset,
  };
}

/**
 * The memory without the counts of groups and dead-letter topics this collection no longer saw
 * (deleted, filtered out): their counters stop being exported, and a name that comes back starts
 * again from 0 (a counter reset, which rate() and increase() handle), instead of the memory growing
 * with every group name that ever existed.
 */
export function withoutVanishedCounts(memory: KafkaMemory, snapshot: KafkaSnapshot): KafkaMemory {
  const groups = new Set(snapshot.groups.map((g) => g.group));
  const dlqs = new Set(snapshot.dlqs.map((d) => d.dlq));
  const keep = (counts: Counts, label: string, present: ReadonlySet<string>): Counts => {
    const kept = [...counts].filter(([, c]) => present.has(c.labels[label] ?? ''));
    return kept.length === counts.size ? counts : new Map(kept);
  };
  return { ...memory, clamps: keep(memory.clamps, 'group', groups), dlqInflow: keep(memory.dlqInflow, 'dlq', dlqs) };
}

// ---------------------------------------------------------------------------------------------
// The kafkajs client with TLS and SASL, and what its failures mean to an operator
// ---------------------------------------------------------------------------------------------

/**
 * The kafkajs client of one cluster. Certificate and password files are read here, so each new
 * connection (the collector makes one after any failure) uses the files as they are now.
 */
export function createSecuredKafkaClient(config: KafkaTargetConfig): Kafka {
  return new Kafka({
    clientId: config.clientId ?? 'eda-harness-exporter',
    brokers: [...config.brokers],
    requestTimeout: config.requestTimeoutMs ?? 10_000,
    connectionTimeout: 3_000,
    // One retry for a broker that is briefly away; kafkajs does not retry an authentication
    // failure at all (KafkaJSSASLAuthenticationError is non-retriable), so wrong credentials cost
    // one attempt per collection.
    retry: { retries: 1, initialRetryTime: 200 },
    // Failures are reported through eda_exporter_up and the collection's warnings; kafkajs's own
    // error logs would repeat them every interval while a broker is down.
    logLevel: logLevel.NOTHING,
    ...kafkaSecurityOptions(config),
  });
}

/**
 * kafkajs's `ssl` and `sasl` options from the cluster's settings (checked by config.ts): core's
 * kafkaClientSecurity, the one builder every eda-harness Kafka client uses. Certificate and
 * password files are read here; an OAUTHBEARER token file is re-read, or its command run, at each
 * authentication.
 */
export function kafkaSecurityOptions(config: KafkaTargetConfig): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return kafkaClientSecurity(config, { field: (f) => `kafka.${f}` }) as Pick<KafkaConfig, 'ssl' | 'sasl'>;
}

/** Node's codes for a TLS peer that could not be verified. */
const TLS_VERIFY_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The error and the errors it wraps (kafkajs's originalError, the standard cause). */
function errorChain(err: unknown): { name?: string; message?: string; code?: unknown; broker?: unknown }[] {
  const chain: { name?: string; message?: string; code?: unknown; broker?: unknown }[] = [];
  let e: unknown = err;
  while (typeof e === 'object' && e !== null && chain.length < 5) {
    const o = e as { name?: string; message?: string; code?: unknown; broker?: unknown; originalError?: unknown; cause?: unknown };
    chain.push(o);
    e = o.originalError ?? o.cause;
  }
  return chain;
}

/**
 * Turns the failures an operator fixes in the configuration into one line saying what to fix:
 * a refused login names the mechanism, the user and the listener; an unverifiable certificate
 * names the broker and the CA setting. The message is the same at every failed collection, so
 * the exporter loop logs it once until it changes. Any other error is returned as it is.
 */
export function explainKafkaFailure(err: unknown, config: KafkaTargetConfig): unknown {
  const chain = errorChain(err);
  const brokerOf = (): string => {
    const broker = chain.find((e) => typeof e.broker === 'string')?.broker;
    return typeof broker === 'string' ? broker : config.brokers.join(',');
  };
  const auth = chain.find((e) => e.name === 'KafkaJSSASLAuthenticationError');
  if (auth && config.sasl) {
    const mechanism = config.sasl.mechanism.toUpperCase();
    const who = mechanism === 'OAUTHBEARER' ? '' : ` as user '${config.sasl.username ?? ''}'`;
    const check = mechanism === 'OAUTHBEARER' ? 'check the token (its audience, scope and expiry)' : 'check the user and password';
    return new ConfigError(`Kafka SASL authentication failed (${mechanism}${who} on ${brokerOf()}): ${check}`, {
      cause: err,
      hint: `The broker said: ${auth.message ?? errorMessage(err)}. A SCRAM user must exist for this mechanism (kafka-configs --describe --entity-type users).`,
    });
  }
  const tls = chain.find((e) => typeof e.code === 'string' && TLS_VERIFY_CODES.has(e.code));
  if (tls) {
    return new ConfigError(`Kafka TLS: the certificate of ${brokerOf()} could not be verified (${String(tls.code)})`, {
      cause: err,
      hint:
        tls.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? 'The certificate is not for the address connected to: set kafka.tls.servername (--kafka-tls-servername) to the name it is for.'
          : "Give the CA that signed the brokers' certificates as kafka.tls.caFile (--kafka-tls-ca-file, KAFKA_TLS_CA_FILE).",
    });
  }
  return err;
}
