/** Public types of the environment layer. */

export type ProviderKind = 'external' | 'containers' | 'native';
export type ProviderChoice = ProviderKind | 'auto';

/**
 * Faults for one broker node (a Kafka node, the RabbitMQ node, Prometheus, Jaeger). Every method resolves
 * once the effect holds: `start()` and `restart()` wait until the broker answers again.
 */
export interface NodeHandle {
  /** "kafka-1", "rabbitmq", "prometheus". */
  readonly name: string;
  /** The OS pid (native provider only). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Orderly shutdown (SIGTERM), waiting for exit. */
  stop(): Promise<void>;
  /** Starts a stopped or killed node again with its data, and waits until it serves. */
  start(): Promise<void>;
  /** Crash: SIGKILL, no chance to flush or hand over leadership. */
  kill(): Promise<void>;
  /** Freeze (SIGSTOP): sockets stay open, nothing answers. */
  pause(): Promise<void>;
  /** Unfreeze (SIGCONT). */
  resume(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
}

export type ToxicDirection = 'upstream' | 'downstream';

export interface ToxicOptions {
  /** Which way the toxic acts: toward the broker (upstream), toward the client (downstream), or both. */
  readonly direction?: ToxicDirection | 'both';
}

/** Network faults on the Toxiproxy proxy in front of one broker node. */
export interface ProxyFaults {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly upstream: string;
  /** Adds `ms` of latency (default direction: downstream, so a request/response round trip pays it once). */
  latency(ms: number, options?: ToxicOptions & { jitterMs?: number }): Promise<void>;
  /** Limits throughput to `kbPerSecond` KB/s. */
  bandwidth(kbPerSecond: number, options?: ToxicOptions): Promise<void>;
  /** Blackhole: data is swallowed; with `ms` > 0 the connection is closed after that time. */
  timeout(ms?: number, options?: ToxicOptions): Promise<void>;
  /** TCP RST to the client (after `ms`). */
  resetPeer(ms?: number, options?: ToxicOptions): Promise<void>;
  /** Disables the proxy: existing connections are closed and new ones refused. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Removes every toxic and enables the proxy. */
  clear(): Promise<void>;
}

export interface KafkaNodeHandle extends NodeHandle {
  readonly nodeId: number;
  /** host:port clients use for this node (its proxy when Toxiproxy is on). */
  readonly address: string;
  /** The proxy in front of this node, when Toxiproxy is on. */
  readonly proxy: ProxyFaults | undefined;
  /** host:port of this node's SASL_SSL listener (its own proxy when Toxiproxy is on), when Kafka is secured. */
  readonly secureAddress?: string;
  /** The proxy in front of this node's SASL_SSL listener, when Kafka is secured and Toxiproxy is on. */
  readonly secureProxy?: ProxyFaults;
  /**
   * The proxy in front of this node's INTERNAL (inter-broker) listener, advertised to the other
   * brokers, when Toxiproxy is on (native provider): followers fetch this node's partitions through
   * it. Cutting it stops replication FROM this node (its partitions' followers fall out of the ISR),
   * not this node's own fetches from other leaders; clients and KRaft controller traffic do not cross it.
   */
  readonly replicationProxy?: ProxyFaults;
}

/** How clients reach Kafka: `plaintext` only (the default), or a SASL_SSL listener too. */
export type KafkaSecurityMode = 'plaintext' | 'sasl_ssl';

/** The SCRAM mechanisms, spelled as kafkajs's `sasl.mechanism` spells them. */
export type ScramMechanism = 'scram-sha-256' | 'scram-sha-512';

/** A SCRAM user created when the secured Kafka starts. */
export interface KafkaScramUser {
  readonly username: string;
  readonly password: string;
  /** A file (mode 600) holding only the password, for settings read from files. */
  readonly passwordFile: string;
  /** The mechanisms this user has credentials for. */
  readonly mechanisms: readonly ScramMechanism[];
}

/**
 * What a client needs to reach the secured Kafka (`withKafka({ security: 'sasl_ssl' })`), shaped to
 * spread into kafkajs:
 *
 * ```ts
 * const s = env.getKafkaSecurity();
 * new Kafka({ brokers: s.brokers, ssl: { ca: [s.ssl.caPem] }, sasl: s.sasl });
 * ```
 */
export interface KafkaSecurity {
  /** Kafka's name for the listener's protocol. */
  readonly protocol: 'SASL_SSL';
  /** Bootstrap addresses of the SASL_SSL listener (through the proxies when Toxiproxy is on). */
  readonly brokers: string[];
  readonly ssl: {
    /** The CA that signed the brokers' certificate (for localhost and 127.0.0.1), PEM. */
    readonly caPem: string;
    /** The same CA as a PEM file. */
    readonly caFile: string;
    /** The CA in a PKCS12 truststore, for Java clients. */
    readonly truststoreFile: string;
    readonly truststorePassword: string;
  };
  /** The default user's credentials with SCRAM-SHA-512 (kafkajs's `sasl` option as is). */
  readonly sasl: { readonly mechanism: 'scram-sha-512'; readonly username: string; readonly password: string };
  /** Every SCRAM user created at start; the first is the one in `sasl`. */
  readonly users: readonly KafkaScramUser[];
}

export interface StartedKafka {
  readonly provider: ProviderKind;
  readonly version: string;
  /** Bootstrap addresses for clients (through the proxies when Toxiproxy is on). */
  readonly brokers: readonly string[];
  readonly nodes: readonly KafkaNodeHandle[];
  node(nodeId: number): KafkaNodeHandle;
  /** The node currently leading `topic`/`partition`, from a fresh metadata request. */
  leaderOf(topic: string, partition: number): Promise<KafkaNodeHandle>;
  /** The SASL_SSL listener, its CA and SCRAM users, when Kafka was started with `security: 'sasl_ssl'`. */
  readonly security?: KafkaSecurity;
}

/** How RabbitMQ is set up (native provider; the defaults are what every other provider gives). */
export interface RabbitMqOptions {
  /**
   * Serve the management API over https only, with a CA and a certificate for localhost and
   * 127.0.0.1 made at start (openssl); `managementUrl` is then https and `managementCaFile` the CA.
   */
  readonly managementTls?: boolean;
  /**
   * false: `management_agent.disable_metrics_collector = true`, as large deployments run it: the
   * management API lists queues without message counts and the numbers are on the Prometheus
   * endpoint (rabbitmq_prometheus, always enabled) only. Default true.
   */
  readonly statistics?: boolean;
  /**
   * RabbitMQ nodes (native provider): 1 (the default) or a cluster of 3 with its own node names and
   * ports, one Erlang cookie and one epmd, joined at start, `cluster_partition_handling =
   * pause_minority`, each node behind its own Toxiproxy proxy. Quorum queues replicate over it.
   */
  readonly nodes?: number;
}

/** One node of a native RabbitMQ cluster. */
export interface RabbitMqNodeHandle extends NodeHandle {
  /** The Erlang node name ("eda-41234@localhost"), as the management API's `leader` and `node` name it. */
  readonly nodeName: string;
  /** AMQP URL of this node (through its proxy when Toxiproxy is on). */
  readonly amqpUrl: string;
  readonly managementUrl: string;
  /** The proxy in front of this node's AMQP listener, when Toxiproxy is on. */
  readonly proxy: ProxyFaults | undefined;
  /**
   * Cuts this node off from the other nodes at the Erlang distribution level while its AMQP
   * listener stays reachable: the node is given a wrong cookie for each other node and disconnected,
   * so every connection between them fails authentication, both ways. Resolves once every other
   * node sees it down. Under pause_minority the node then pauses itself (closes its listeners)
   * until it sees a majority again: that is RabbitMQ's reaction, not part of the fault.
   */
  partition(): Promise<void>;
  /** Gives back the right cookie and reconnects; resolves once every node sees all nodes running. */
  healPartition(): Promise<void>;
}

/** What the nodes of a RabbitMQ cluster say about it. */
export interface RabbitMqClusterStatus {
  /** Per node that answered: the nodes it sees running, and the partitions it reports. */
  readonly views: readonly { readonly node: string; readonly running: readonly string[]; readonly partitions: readonly string[] }[];
  /** Nodes whose management API did not answer. */
  readonly unreachable: readonly string[];
}

export interface StartedRabbitMq {
  readonly provider: ProviderKind;
  readonly amqpUrl: string;
  readonly managementUrl: string | undefined;
  /** PEM CA that signed the management API's certificate, when it is served over https. */
  readonly managementCaFile?: string | undefined;
  /** RabbitMQ's own Prometheus endpoint (rabbitmq_prometheus plugin). */
  readonly metricsUrl: string | undefined;
  readonly node: NodeHandle;
  readonly proxy: ProxyFaults | undefined;
  /** The options the node runs with (native provider). */
  readonly options?: RabbitMqOptions;
  /**
   * Native provider: restarts the node with other options (its data kept) and resolves with its
   * new addresses once the AMQP port and the management API serve again.
   */
  restartWith?(options: RabbitMqOptions): Promise<StartedRabbitMq>;
  /** Every node of a cluster (`withRabbitMq({ nodes: 3 })`); node 1 is also `node`. Absent for one node. */
  readonly nodes?: readonly RabbitMqNodeHandle[];
  /** Each node's AMQP URL, node 1's first (`amqpUrl`); absent for one node. */
  readonly amqpUrls?: readonly string[];
  /** The node hosting the leader of quorum queue `queue` (management API `leader`), cluster only. */
  leaderOf?(queue: string, vhost?: string): Promise<RabbitMqNodeHandle>;
  /** What each running node sees of the cluster, cluster only. */
  clusterStatus?(): Promise<RabbitMqClusterStatus>;
}

export interface StartedToxiproxy {
  readonly apiUrl: string;
  readonly proxies: readonly ProxyFaults[];
  proxy(name: string): ProxyFaults;
  /** Removes every toxic and re-enables every proxy. */
  clearAll(): Promise<void>;
}

export interface StartedPrometheus {
  readonly provider: ProviderKind;
  readonly url: string;
  readonly node: NodeHandle;
  readonly configFile: string | undefined;
  /** Re-reads the configuration and rule files (native: lifecycle API). */
  reload(): Promise<void>;
}

export interface PrometheusOptions {
  /** Scrape targets as host:port, or job name → targets. */
  readonly scrapeTargets?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  readonly ruleFiles?: readonly string[];
  readonly scrapeIntervalSeconds?: number;
  readonly evaluationIntervalSeconds?: number;
}

/** How Jaeger is set up (native provider). */
export interface JaegerOptions {
  /** Traces kept in its memory storage before the oldest are dropped (default 100000). */
  readonly maxTraces?: number;
}

/**
 * Jaeger v2 as the trace backend: OTLP in (gRPC and HTTP), its query API out. The native provider's
 * Jaeger is a module build: it serves the query API, not the web UI.
 */
export interface StartedJaeger {
  readonly provider: ProviderKind;
  /** The Jaeger module version (native: "1.76.0"), the image (containers); undefined when external. */
  readonly version: string | undefined;
  /** The query API's base URL, http://127.0.0.1:port, no trailing slash (`jaegerQuery(queryUrl)`). */
  readonly queryUrl: string;
  /** The OTLP/HTTP base URL, for OTEL_EXPORTER_OTLP_ENDPOINT: traces go to `${otlpHttpUrl}/v1/traces`. */
  readonly otlpHttpUrl: string;
  /** host:port of the OTLP/gRPC receiver, when known. */
  readonly otlpGrpcAddress: string | undefined;
  /** The process (native provider); undefined when external. */
  readonly node: NodeHandle | undefined;
}

export interface KafkaOptions {
  /** 1 (combined node) or 3 (three combined nodes, replication factor 3, min.insync.replicas 2). */
  readonly nodes?: number;
  readonly version?: string;
  /** Extra server.properties entries for every node. */
  readonly serverProperties?: Readonly<Record<string, string | number | boolean>>;
  /** JVM heap per node, e.g. "512m". */
  readonly heap?: string;
  /**
   * `sasl_ssl` adds a SASL_SSL listener with SCRAM users and a certificate made at start (native
   * provider only); the plaintext listener (`brokers`) stays. Default `plaintext`.
   */
  readonly security?: KafkaSecurityMode;
}

/** The secured listener as the description records it: files instead of secrets (the description is written to disk). */
export interface KafkaSecurityDescription {
  readonly protocol: 'SASL_SSL';
  readonly brokers: readonly string[];
  readonly caFile: string;
  readonly truststoreFile: string;
  readonly mechanism: 'scram-sha-512';
  readonly username: string;
  readonly passwordFile: string;
}

/** A JSON-able description of a started environment, written to `environment.json` in its run directory. */
export interface EnvironmentDescription {
  readonly runDir: string;
  readonly startedAt: string;
  readonly ownerPid: number;
  readonly kafka?: {
    provider: ProviderKind;
    version: string;
    brokers: readonly string[];
    nodes: readonly { name: string; nodeId: number; address: string; pid?: number }[];
    security?: KafkaSecurityDescription;
  };
  readonly rabbitmq?: {
    provider: ProviderKind;
    amqpUrl: string;
    managementUrl?: string;
    managementCaFile?: string;
    metricsUrl?: string;
    pid?: number;
    /** A cluster's nodes (`withRabbitMq({ nodes: 3 })`); node 1's are the fields above. */
    nodes?: readonly { name: string; nodeName: string; amqpUrl: string; managementUrl: string; pid?: number }[];
  };
  readonly toxiproxy?: { apiUrl: string; proxies: readonly { name: string; listen: string; upstream: string }[] };
  readonly prometheus?: { provider: ProviderKind; url: string; pid?: number };
  readonly jaeger?: { provider: ProviderKind; version?: string; queryUrl: string; otlpHttpUrl: string; otlpGrpcAddress?: string; pid?: number };
  /** Every process started, for `env down` from another program. */
  readonly processes: readonly { name: string; pid: number; startTicks?: number; logFile: string }[];
}

export interface StartedEnvironment extends AsyncDisposable {
  readonly runDir: string;
  readonly kafka: StartedKafka | undefined;
  readonly rabbitmq: StartedRabbitMq | undefined;
  readonly toxiproxy: StartedToxiproxy | undefined;
  readonly prometheus: StartedPrometheus | undefined;
  readonly jaeger: StartedJaeger | undefined;
  /** Kafka bootstrap list (the plaintext listener); throws a ConfigError when Kafka was not asked for. */
  getKafkaBrokers(): string[];
  /** The secured listener's addresses, CA and SCRAM users; throws a ConfigError unless Kafka was started with `security: 'sasl_ssl'`. */
  getKafkaSecurity(): KafkaSecurity;
  getAmqpUrl(): string;
  getRabbitMqManagementUrl(): string;
  getPrometheusUrl(): string;
  /** Jaeger's query API base URL (for `jaegerQuery`); throws a ConfigError when Jaeger was not asked for. */
  getJaegerQueryUrl(): string;
  /** Jaeger's OTLP/HTTP base URL, the value for OTEL_EXPORTER_OTLP_ENDPOINT; throws a ConfigError when Jaeger was not asked for. */
  getOtlpEndpoint(): string;
  describe(): EnvironmentDescription;
  /** Ends every process started (by pid), and removes the run directory unless asked to keep it. */
  stop(): Promise<void>;
}
