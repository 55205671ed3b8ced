import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { ConfigError, ProcessError, ensureDir, type ProgressSink } from '@eda-harness/core';
import type { ManagedProcess } from '../managed-process';
import type { KafkaRuntime } from '../provision';
import { allSettledOrThrow } from '../settle-all';
import type { KafkaNodeHandle, KafkaOptions, KafkaSecurity, ProxyFaults, StartedKafka } from '../types';
import { secondsSince } from '../install';
import { findKeytool, kafkaSecurity, makeCertificates, planSecurity, scramFormatArgs, secureListenerProperties, type RunTool, type SecurityPlan } from './kafka-security';
import { nativeNodeHandle, untilServing, type OwnProcesses } from './native-node';

export interface NativeKafkaPorts {
  /** Where the CLIENT listener binds. */
  readonly client: number;
  /** Where the INTERNAL (inter-broker, replication) listener binds. */
  readonly internal: number;
  /**
   * What other brokers are told for INTERNAL, so where followers fetch from: the replication
   * proxy's port when Toxiproxy is on, else `internal`.
   */
  readonly internalAdvertised?: number;
  /** Where the CONTROLLER (KRaft quorum) listener binds; never proxied. */
  readonly controller: number;
  /** What clients are told (the proxy's port when Toxiproxy is on, else `client`). */
  readonly advertised: number;
  /** Where the SECURE (SASL_SSL) listener binds, when Kafka is secured. */
  readonly secure?: number;
  /** What clients of the SECURE listener are told (its proxy's port when Toxiproxy is on, else `secure`). */
  readonly secureAdvertised?: number;
}

/** Kafka's cluster ids are 16 random bytes in URL-safe base64 that must not start with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function serverProperties(opts: {
  nodeId: number;
  ports: NativeKafkaPorts;
  voters: readonly { nodeId: number; controller: number }[];
  logDir: string;
  clusterSize: number;
  extra?: KafkaOptions['serverProperties'];
  /** The SECURE listener's settings (secureListenerProperties), when Kafka is secured. */
  secure?: Readonly<Record<string, string>>;
}): string {
  const n = opts.clusterSize;
  const minIsr = Math.min(2, n);
  const { secure, secureAdvertised } = opts.ports;
  const secured = opts.secure !== undefined && secure !== undefined;
  // A fourth listener when secured: SECURE (SASL_SSL, SCRAM), beside the plaintext CLIENT one that
  // the harness's own probes and plaintext clients keep using.
  const secureListener = secured ? `,SECURE://127.0.0.1:${secure}` : '';
  const secureAdvertisedListener = secured ? `,SECURE://127.0.0.1:${secureAdvertised ?? secure}` : '';
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': opts.nodeId,
    'controller.quorum.voters': opts.voters.map((v) => `${v.nodeId}@127.0.0.1:${v.controller}`).join(','),
    // Three listeners: CLIENT (what clients reach, advertised as the proxy so every client byte
    // crosses Toxiproxy), INTERNAL (replication: follower fetches go to the leader's advertised
    // INTERNAL address, which is its own replication proxy when Toxiproxy is on, apart from the
    // client proxy, so a client-side fault does not also split the cluster and a replication fault
    // leaves clients connected) and CONTROLLER (KRaft quorum, always direct: voters are named by
    // their bound port, so a replication cut never fences a broker).
    listeners: `CLIENT://127.0.0.1:${opts.ports.client},INTERNAL://127.0.0.1:${opts.ports.internal},CONTROLLER://127.0.0.1:${opts.ports.controller}${secureListener}`,
    'advertised.listeners': `CLIENT://127.0.0.1:${opts.ports.advertised},INTERNAL://127.0.0.1:${opts.ports.internalAdvertised ?? opts.ports.internal}${secureAdvertisedListener}`,
    'listener.security.protocol.map': `CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT${secured ? ',SECURE:SASL_SSL' : ''}`,
    'inter.broker.listener.name': 'INTERNAL',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': opts.logDir,
    'num.partitions': 1,
    'default.replication.factor': n,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': n,
    // Fewer internal partitions than the default 50: start-up and coordinator loading are much
    // faster on a small machine, and tests never need 50 coordinators.
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': n,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': 10,
    'share.coordinator.state.topic.replication.factor': n,
    'share.coordinator.state.topic.min.isr': minIsr,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': true,
    'unclean.leader.election.enable': false,
    // Quicker fencing of a killed node than the 9 s default, so failover scenarios stay short.
    'broker.heartbeat.interval.ms': 1000,
    'broker.session.timeout.ms': 6000,
    'log.segment.bytes': 16 * 1024 * 1024,
    ...(secured ? opts.secure : {}),
    ...(opts.extra ?? {}),
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n')
    .concat('\n');
}

const LOG4J2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
      - name: kafka.server.BrokerServer
        level: INFO
      - name: org.apache.kafka.controller
        level: INFO
`;

const RELOAD4J = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;

function javaArgs(runtime: KafkaRuntime, dir: string, heap: string): string[] {
  const logging =
    runtime.log4j === 'log4j2'
      ? [`-Dlog4j2.configurationFile=${join(dir, 'log4j2.yaml')}`]
      : [`-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`];
  return [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    ...logging,
    '-cp',
    runtime.classpath,
  ];
}

/** The secured listener's certificates, made with the keytool of Kafka's JDK (its output in keytool.log). */
async function makeTimedCertificates(security: SecurityPlan, java: string, progress: ProgressSink): Promise<void> {
  const keytool = findKeytool(java);
  const logFile = join(security.dir, 'keytool.log');
  const run: RunTool = (args, what) => runToCompletion(keytool, [...args], logFile, `keytool ${what}`);
  const started = Date.now();
  await makeCertificates(security, run);
  progress(`made a CA and the brokers' certificate with keytool in ${secondsSince(started)} (${security.dir})`);
}

async function runToCompletion(cmd: string, args: string[], logFile: string, what: string): Promise<void> {
  const fd = openSync(logFile, 'a');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new ProcessError(`${what} failed with exit code ${code}; log: ${logFile}`, { logFile })),
      );
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `ask` with a short-lived admin client connected through `address` alone (over TLS with
 * SCRAM when `security` is given), no retries: a readiness probe's one attempt.
 */
async function withProbeAdmin<T>(address: string, security: KafkaSecurity | undefined, ask: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({
    clientId: 'eda-harness-probe',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1500,
    authenticationTimeout: 3000,
    requestTimeout: 3000,
    retry: { retries: 0 },
    ...(security ? { ssl: { ca: [security.ssl.caPem] }, sasl: { ...security.sasl } } : {}),
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await ask(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Readiness probe: the node ids the cluster reports through `address`. */
function kafkaBrokerIds(address: string, security?: KafkaSecurity): Promise<number[]> {
  return withProbeAdmin(address, security, async (admin) => (await admin.describeCluster()).brokers.map((b) => b.nodeId));
}

/**
 * Readiness probe: true once the cluster can coordinate a consumer group, asked through `address`.
 * The first FindCoordinator request of a new cluster makes it create __consumer_offsets; until
 * that topic's partitions have leaders every group's coordinator is "not available", and a
 * consumer started then spends its retries on it (on three busy nodes, for longer than a chaos
 * service's first-span wait).
 */
function kafkaCoordinatesGroups(address: string): Promise<true> {
  return withProbeAdmin(address, undefined, async (admin) => {
    // Metadata first: kafkajs looks for a coordinator among the brokers it already knows.
    await admin.describeCluster();
    await admin.describeGroups(['eda-harness-readiness']);
    return true as const;
  });
}

/**
 * Starts `size` combined broker+controller nodes in KRaft mode from Kafka's jars, formats their
 * storage with one cluster id, and waits until every node is registered (a metadata request
 * through each node's advertised address lists all of them) and groups can be coordinated
 * (__consumer_offsets created). The nodes are handed to
 * `ownProcesses` before any is spawned, so a start that fails on one node ends the others too.
 */
export async function startNativeKafka(opts: {
  runtime: KafkaRuntime;
  runDir: string;
  size: number;
  ports: readonly NativeKafkaPorts[];
  proxies: readonly (ProxyFaults | undefined)[];
  /** The proxies in front of the SECURE listeners, when Kafka is secured and Toxiproxy is on. */
  secureProxies?: readonly (ProxyFaults | undefined)[];
  /** The proxies in front of the INTERNAL (replication) listeners, when Toxiproxy is on. */
  replicationProxies?: readonly (ProxyFaults | undefined)[];
  options: KafkaOptions;
  progress: ProgressSink;
  ownProcesses: OwnProcesses;
}): Promise<StartedKafka> {
  const { runtime, size } = opts;
  if (size < 1) throw new ConfigError(`Kafka needs at least one node (got ${size}).`);
  const heap = opts.options.heap ?? (size > 1 ? '384m' : '512m');
  const clusterId = newClusterId();
  const voters = opts.ports.slice(0, size).map((p, i) => ({ nodeId: i + 1, controller: p.controller }));
  const handles: (KafkaNodeHandle & { process(): ManagedProcess })[] = [];

  const nodeDirs = Array.from({ length: size }, (_, i) => join(opts.runDir, `kafka-${i + 1}`));
  const secured = opts.options.security === 'sasl_ssl';
  const security = secured ? planSecurity(opts.runDir) : undefined;
  // Every format run settles before a failure is reported, so none is still running when it is.
  // The certificates are made meanwhile: both are a few JVM starts.
  await allSettledOrThrow([
    security && makeTimedCertificates(security, runtime.java, opts.progress),
    ...nodeDirs.map(async (dir, i) => {
      const ports = opts.ports[i];
      if (!ports) throw new ConfigError(`no ports allocated for Kafka node ${i + 1}`);
      ensureDir(join(dir, 'data'), { what: 'a Kafka data folder' });
      if (secured && ports.secure === undefined) throw new ConfigError(`internal: no SASL_SSL port allocated for Kafka node ${i + 1}`);
      writeFileSync(
        join(dir, 'server.properties'),
        serverProperties({
          nodeId: i + 1,
          ports,
          voters,
          logDir: join(dir, 'data'),
          clusterSize: size,
          extra: opts.options.serverProperties,
          ...(security ? { secure: secureListenerProperties(security) } : {}),
        }),
        { mode: 0o600 },
      );
      writeFileSync(join(dir, runtime.log4j === 'log4j2' ? 'log4j2.yaml' : 'log4j.properties'), runtime.log4j === 'log4j2' ? LOG4J2 : RELOAD4J);
      if (!existsSync(join(dir, 'data', 'meta.properties'))) {
        await runToCompletion(
          runtime.java,
          // SCRAM users go into the bootstrap metadata: with KRaft there is nowhere to put them before start.
          [...javaArgs(runtime, dir, '256m'), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', join(dir, 'server.properties'), ...(security ? scramFormatArgs(security.users) : [])],
          join(dir, 'format.log'),
          `formatting Kafka node ${i + 1}'s storage`,
        );
      }
    }),
  ]);

  for (let i = 0; i < size; i++) {
    const nodeId = i + 1;
    const dir = nodeDirs[i] as string;
    const ports = opts.ports[i] as NativeKafkaPorts;
    const address = `127.0.0.1:${ports.advertised}`;
    const base = nativeNodeHandle(
      `kafka-${nodeId}`,
      () => ({
        name: `kafka-${nodeId}`,
        command: runtime.java,
        args: [...javaArgs(runtime, dir, heap), 'kafka.Kafka', join(dir, 'server.properties')],
        logFile: join(dir, 'kafka.log'),
        cwd: dir,
      }),
      async (proc) => {
        // Ready when this node answers a metadata request and lists itself as a registered broker.
        await untilServing(proc, async () => (await kafkaBrokerIds(address)).includes(nodeId), `Kafka node ${nodeId} at ${address} to serve metadata`, 120_000);
      },
      // A node holding partition leadership hands it over on SIGTERM (controlled shutdown).
      30_000,
    );
    const secureProxy = opts.secureProxies?.[i];
    const replicationProxy = opts.replicationProxies?.[i];
    const secureAddress = security ? `127.0.0.1:${ports.secureAdvertised ?? ports.secure}` : undefined;
    handles.push(
      Object.assign(base, {
        nodeId,
        address,
        proxy: opts.proxies[i],
        ...(secureAddress ? { secureAddress } : {}),
        ...(secureProxy ? { secureProxy } : {}),
        ...(replicationProxy ? { replicationProxy } : {}),
      }),
    );
  }

  opts.progress(`starting ${size} Kafka ${runtime.version} node(s) in ${opts.runDir}`);
  opts.ownProcesses(() => handles.map((h) => h.process()));
  for (const h of handles) h.process().start();
  // Wait for all in parallel: in a cluster no node is ready before a quorum of controllers is up.
  await Promise.all(
    handles.map((h) =>
      untilServing(h.process(), async () => (await kafkaBrokerIds(h.address)).length === size, `Kafka node ${h.nodeId} at ${h.address} to see all ${size} node(s)`, 120_000),
    ),
  );

  // Ready means ready for consumer groups too: __consumer_offsets created and led.
  const [firstHandle] = handles;
  if (firstHandle) await untilServing(firstHandle.process(), () => kafkaCoordinatesGroups(firstHandle.address), `Kafka to coordinate consumer groups (its __consumer_offsets topic created)`, 60_000);

  const brokers = handles.map((h) => h.address);
  const secureBrokers = handles.flatMap((h) => (h.secureAddress ? [h.secureAddress] : []));
  const clientSecurity = security && kafkaSecurity(security, secureBrokers);
  if (clientSecurity) {
    // The secured listener is checked as a client will use it: TLS against the CA, then SCRAM.
    await Promise.all(
      handles.map((h) =>
        untilServing(h.process(), async () => (await kafkaBrokerIds(h.secureAddress as string, clientSecurity)).length === size, `Kafka node ${h.nodeId}'s SASL_SSL listener at ${h.secureAddress} to accept SCRAM`, 30_000),
      ),
    );
    opts.progress(`Kafka SASL_SSL listener(s) ${secureBrokers.join(',')} serve SCRAM users ${security.users.map((u) => u.username).join(', ')}`);
  }
  const cluster: StartedKafka = {
    provider: 'native',
    version: runtime.version,
    brokers,
    nodes: handles,
    ...(clientSecurity ? { security: clientSecurity } : {}),
    node(nodeId) {
      const h = handles.find((x) => x.nodeId === nodeId);
      if (!h) throw new ConfigError(`no Kafka node ${nodeId}: this cluster has nodes ${handles.map((x) => x.nodeId).join(', ')}`);
      return h;
    },
    async leaderOf(topic, partition) {
      const live = handles.filter((h) => h.running).map((h) => h.address);
      const kafka = new Kafka({ clientId: 'eda-harness-probe', brokers: live, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
      const admin = kafka.admin();
      try {
        await admin.connect();
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const p = meta.topics[0]?.partitions.find((x) => x.partitionId === partition);
        if (!p) throw new ConfigError(`topic ${topic} has no partition ${partition}`);
        return cluster.node(p.leader);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
  return cluster;
}
