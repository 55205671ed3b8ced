/** Public types of the lag / DLQ / queue-depth exporter. */
import type { ConsumerStatus } from './kafka/consumer-status';
import type { NameFilterConfig } from './name-filter';

export type { ConsumerStatus } from './kafka/consumer-status';
export type { NameFilterConfig } from './name-filter';

/** `partition`: one series per partition; `topic`: per-partition series summed (lag) or maxed (seconds) per topic. */
export type Granularity = 'partition' | 'topic';

/** SASL mechanisms the exporter speaks (kafkajs's names; settings accept any letter case). */
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'oauthbearer';

/** Kafka's own `security.protocol` values, spelled the way its client configurations spell them. */
export type KafkaSecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';

/** TLS to the brokers: files are read when a connection is opened, so a renewed certificate is picked up. */
export interface KafkaTlsConfig {
  /** PEM file of the CA(s) that signed the brokers' certificates (default: Node's built-in CAs). */
  readonly caFile?: string;
  /** PEM client certificate and its key, for brokers that require client authentication (mTLS). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Host name the broker certificates are checked against, when it differs from the broker address. */
  readonly servername?: string;
}

/**
 * SASL authentication. Secrets come from files (or the embedding program): `passwordFile` and
 * `tokenFile` are re-read at each connection and each OAUTHBEARER authentication respectively,
 * so a rotated secret is used without a restart.
 */
export interface KafkaSaslConfig {
  readonly mechanism: KafkaSaslMechanism | Uppercase<KafkaSaslMechanism>;
  /** PLAIN and SCRAM. */
  readonly username?: string;
  /** PLAIN and SCRAM: the password itself (embedded use, KAFKA_SASL_PASSWORD) or a file holding it. */
  readonly password?: string;
  readonly passwordFile?: string;
  /** OAUTHBEARER: a shell command printing a token, run at each authentication… */
  readonly tokenCommand?: string;
  /** …or a file holding the token, re-read at each authentication. */
  readonly tokenFile?: string;
}

export interface KafkaTargetConfig {
  /** The cluster's name: the value of the cluster label on its series (default `default`). */
  readonly name?: string;
  /** Bootstrap brokers, host:port. */
  readonly brokers: readonly string[];
  /** Default: `sasl_ssl` with both sasl and tls, `sasl_plaintext` with sasl, `ssl` with tls, else plaintext. */
  readonly securityProtocol?: KafkaSecurityProtocol;
  readonly tls?: KafkaTlsConfig;
  readonly sasl?: KafkaSaslConfig;
  readonly clientId?: string;
  readonly groups?: NameFilterConfig;
  readonly topics?: NameFilterConfig;
  /** Dead-letter topic patterns; `*` captures the source topic's name. */
  readonly dlqPatterns?: readonly string[];
  /** Wall-time window of the consumer status evaluation (default 90 s: STALL / STOP within 2 minutes at the default interval). */
  readonly statusWindowSeconds?: number;
  /**
   * Lag in messages a group may carry and still be OK, by group name pattern (`*` globs; the
   * first pattern matching a group applies). A partition at or under its group's allowance is
   * judged as caught up. Groups no pattern matches are allowed no lag.
   */
  readonly allowedLag?: readonly { readonly groups: string; readonly messages: number }[];
  /** Groups whose offsets are fetched at once (default 16). */
  readonly concurrency?: number;
  /** Per-request timeout of the Kafka client (default 10 000 ms). */
  readonly requestTimeoutMs?: number;
}

export interface RabbitMqTargetConfig {
  /** The server's name: the value of the cluster label on its series (default `default`). */
  readonly name?: string;
  /** AMQP URL: used for depth and consumers when the management API is unavailable. */
  readonly amqpUrl?: string;
  /** Management plugin base URL (http://host:15672); credentials in the URL or below. */
  readonly managementUrl?: string;
  readonly managementUser?: string;
  readonly managementPassword?: string;
  /** A file holding the management password (read at start), so it sits in no variable or file of settings. */
  readonly managementPasswordFile?: string;
  /** Only this vhost (default: every vhost the user sees). */
  readonly vhost?: string;
  readonly queues?: NameFilterConfig;
  /** Dead-letter queue patterns, in addition to queues bound to a dead-letter exchange. */
  readonly dlqPatterns?: readonly string[];
  /**
   * Queues to check with an AMQP passive declare when the management API does not answer (AMQP
   * cannot list queues). Defaults to the literal names in `queues.allow`.
   */
  readonly fallbackQueues?: readonly string[];
  /** HTTP and AMQP timeout per request (default 5 000 ms). */
  readonly requestTimeoutMs?: number;
  /** Queue name patterns never reported as dead-letter queues, whatever the topology or names say. */
  readonly dlqDeny?: readonly string[];
  /**
   * Queue name patterns of retry queues (a TTL queue dead-lettering back to its source): never
   * DLQs. Retry loops are also recognised from the topology; this covers loops whose way back the
   * exporter cannot see (a consumer republishing, a plugin exchange). Default: *.retry, *-retry,
   * retry.*, *.retry.*; an explicit list replaces it.
   */
  readonly retryQueuePatterns?: readonly string[];
  /** Queues and exchanges per management API page (default 500, RabbitMQ's maximum). */
  readonly managementPageSize?: number;
  /** PEM file of the CA(s) that signed an https management API's certificate (default: Node's CAs). */
  readonly managementCaFile?: string;
  /**
   * RabbitMQ's own Prometheus endpoint (rabbitmq_prometheus plugin, http://host:15692): depth and
   * consumers are read from its /metrics/detailed when the management API keeps no statistics
   * (management_agent.disable_metrics_collector) or does not answer.
   */
  readonly prometheusUrl?: string;
}

export interface ExporterConfig {
  readonly kafka?: KafkaTargetConfig;
  readonly rabbitmq?: RabbitMqTargetConfig;
  /** More Kafka clusters, each with a unique name; `kafka` (when set) is collected as one more. */
  readonly kafkaClusters?: readonly KafkaTargetConfig[];
  /** More RabbitMQ servers, each with a unique name; `rabbitmq` (when set) is one more. */
  readonly rabbitmqServers?: readonly RabbitMqTargetConfig[];
  /** Name of the label carrying the cluster's name on every series (default `cluster`). */
  readonly clusterLabel?: string;
  /** Seconds between collections (default 15). Scrapes read the last result; they never wait. */
  readonly intervalSeconds?: number;
  /** A collection taking longer than this counts as failed (default: the interval, at least 5 s). */
  readonly collectTimeoutSeconds?: number;
  readonly granularity?: Granularity;
}

/** One partition of one group, as of a collection. */
export interface PartitionLagSample {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: number;
  readonly highWatermark: number;
  readonly lagMessages: number;
  readonly lagSeconds: number;
  /** How lagSeconds was obtained. */
  readonly lagSecondsSource: 'caught-up' | 'record' | 'interpolated' | 'lower-bound';
  /** When the committed offset was last seen to move (ms). */
  readonly lastCommitMs: number;
}

export interface GroupSample {
  readonly group: string;
  readonly state: string;
  /** Undefined when the group could not be described. */
  readonly members: number | undefined;
  /** Its worst partition's status (OK < WARN < REWIND < STALL < STOP < ERR), see exporter/kafka/consumer-status.ts. */
  readonly status: ConsumerStatus;
  /** Assigned partitions without a committed offset, per topic. */
  readonly uncommitted: ReadonlyMap<string, number>;
}

export interface HighWatermarkSample {
  readonly topic: string;
  readonly partition: number;
  readonly high: number;
}

export interface DlqSample {
  readonly system: 'kafka' | 'rabbitmq';
  readonly dlq: string;
  /** Sources (topics / queues) that dead-letter into it; empty when unknown. */
  readonly sources: readonly string[];
  readonly depth: number;
  /** Age of the oldest message waiting, when known. */
  readonly oldestAgeSeconds: number | undefined;
}

/** A cumulative count with its labels (exported as a counter). */
export interface CountSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface KafkaSnapshot {
  readonly atMs: number;
  readonly groups: readonly GroupSample[];
  readonly partitions: readonly PartitionLagSample[];
  readonly watermarks: readonly HighWatermarkSample[];
  readonly dlqs: readonly DlqSample[];
  /** eda_kafka_consumer_lag_clamped_total by group and topic. */
  readonly clamps: readonly CountSample[];
  /** eda_dlq_inflow_messages_total by dlq and source. */
  readonly dlqInflow: readonly CountSample[];
  /** Non-fatal problems of this collection (one group's offsets could not be read…). */
  readonly warnings: readonly string[];
  /** Log start offset of every watched partition (absent from snapshots of older collectors). */
  readonly lowWatermarks?: readonly { readonly topic: string; readonly partition: number; readonly low: number }[];
  /** Last stable offset of every watched partition whose high watermark was read (the end a read_committed consumer sees). */
  readonly stableOffsets?: readonly { readonly topic: string; readonly partition: number; readonly stable: number }[];
  /** Messages retention deleted before the group read them, per group partition. */
  readonly retentionLoss?: readonly { readonly group: string; readonly topic: string; readonly partition: number; readonly messages: number }[];
  /** How each described group is assigned: `manual` (assign() + commit) or `consumer`. */
  readonly assignment?: ReadonlyMap<string, 'manual' | 'consumer'>;
  /** Groups whose committed offset moved backwards inside the status window (their status is REWIND unless worse). */
  readonly rewound?: readonly string[];
}

export interface QueueSample {
  readonly vhost: string;
  readonly queue: string;
  readonly ready: number;
  /** Undefined when only an AMQP passive declare was possible (it reports ready messages only). */
  readonly unacked: number | undefined;
  readonly consumers: number;
  /** Per-second rates from the management API, by operation. */
  readonly rates: Readonly<Partial<Record<'publish' | 'deliver' | 'ack' | 'redeliver', number>>>;
}

export interface RabbitMqSnapshot {
  readonly atMs: number;
  /** `management` (HTTP API) or `amqp` (passive declares, the fallback). */
  readonly via: 'management' | 'amqp';
  readonly queues: readonly QueueSample[];
  readonly dlqs: readonly DlqSample[];
  readonly dlqInflow: readonly CountSample[];
  readonly warnings: readonly string[];
}

/** A collector of one target: each call returns a fresh snapshot or throws. */
export interface Collector<S> {
  readonly target: string;
  /**
   * One collection. The exporter aborts `signal` when it gives up on the collection (its
   * deadline passed): from then on the collection must change nothing later collections build on
   * (the memory behind counters and histories, the shared connection) and its result is
   * discarded. A collector checks the signal before every such change.
   */
  collect(signal?: AbortSignal): Promise<S>;
  close(): Promise<void>;
}
