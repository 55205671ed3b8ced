import { parseArgs } from 'node:util';
import { ConfigError } from '@eda-harness/core';
import {
  Environment,
  PROVIDER_CHOICES,
  StateFileError,
  checkKafkaSecurity,
  checkKafkaVersion,
  checkProviderChoice,
  checkRecordedProcesses,
  clearCurrentState,
  currentPointer,
  endRecordedProcesses,
  ensureRunsDirectory,
  exitWhenGone,
  provisionAll,
  readEnvironmentState,
  refuseStaleState,
  removeRunDirectory,
  writeCurrentState,
} from '@eda-harness/environment';
import type { EnvironmentDescription, KafkaSecurityMode, StartedEnvironment } from '@eda-harness/environment';

export const ENV_HELP = `Usage: eda-harness env <up|status|down|provision> [options]

  up         start brokers and print how to connect (they keep running after the command
             returns; use --foreground to stay attached and tear down on Ctrl-C)
  status     show the environment started by \`env up\` and whether its processes are alive
  down       stop every process \`env up\` started and remove the run directory it made; a
             process is signalled only while it is the one \`env up\` started (same pid, same
             kernel start time, same user), and a state file that is unreadable, stale or not
             private to you is refused (exit 2) with nothing signalled or deleted
  provision  install everything the native provider and the tests need (apt packages, Kafka
             jars, Toxiproxy, promtool 3, Helm, Jaeger) without starting anything; later runs reuse
             the caches

Options for up:
  --kafka <n>          Kafka nodes: 0, 1 (default) or 3 (replication factor 3, min.insync.replicas 2)
  --rabbitmq           start RabbitMQ (default when no service flag is given)
  --toxiproxy          put a Toxiproxy proxy in front of every broker (default on; --no-toxiproxy)
  --prometheus         start Prometheus too
  --jaeger             start Jaeger v2 too (memory storage; OTLP in, query API out; the native
                       one is built from source on first use, several minutes, then cached; it
                       serves the query API, not the web UI)
  --provider <p>       auto (default), external, containers or native
  --kafka-version <v>  Kafka release for the native provider (default ${'$'}EDA_HARNESS_KAFKA_VERSION or 4.4.0)
  --kafka-security <s> plaintext (default) or sasl_ssl: adds a SASL_SSL listener with SCRAM users
                       and a CA made at start (native provider; implies --kafka 1 when --kafka is
                       not given); the CA and password files are in the run directory
  --rabbitmq-management-tls
                       serve RabbitMQ's management API over https only, with a CA and certificate
                       made at start (native provider; implies --rabbitmq); the CA file is printed
                       as RABBITMQ_MANAGEMENT_CA_FILE
  --rabbitmq-no-statistics
                       start RabbitMQ with management statistics off, as large deployments run it
                       (queues listed without counts; numbers on its Prometheus endpoint only)
  --run-dir <dir>      where data and logs go (default: a new folder under $TMPDIR/eda-harness)
  --foreground         stay attached; Ctrl-C stops everything
  --json               print the environment description as JSON on stdout

Options for status:
  --json               print the environment as JSON on stdout ({"up": false} when none is up,
                       {"up": null, "error": …} when the state file is unreadable)

Environment variables: KAFKA_BROKERS, AMQP_URL, RABBITMQ_MANAGEMENT_URL, PROMETHEUS_URL, and
JAEGER_QUERY_URL with OTEL_EXPORTER_OTLP_ENDPOINT name existing services (external provider);
EDA_HARNESS_PROVIDER forces a provider; EDA_HARNESS_CACHE is where jars and binaries are cached
(default ~/.cache/eda-harness); EDA_HARNESS_RUNS is the private folder (mode 700) of run
directories and the state file (default $TMPDIR/eda-harness); EDA_HARNESS_KEEP_RUNS=1 keeps run
directories after a clean stop; EDA_HARNESS_JAEGER_VERSION (default 1.76.0, Jaeger v2.13) and
EDA_HARNESS_JAEGER_BIN (a ready binary) choose the native Jaeger.

Example:
  eda-harness env up --kafka 3 --rabbitmq --toxiproxy
  eda-harness env up --kafka-security sasl_ssl
  eda-harness env up --jaeger
  eda-harness env status
  eda-harness env down`;

export function formatDescription(d: EnvironmentDescription): string {
  const lines: string[] = [];
  if (d.kafka) {
    lines.push(`Kafka (${d.kafka.provider}, ${d.kafka.version})`, `  KAFKA_BROKERS=${d.kafka.brokers.join(',')}`);
    for (const n of d.kafka.nodes) lines.push(`  ${n.name}: ${n.address}${n.pid ? ` (pid ${n.pid})` : ''}`);
    const s = d.kafka.security;
    if (s) {
      lines.push(
        `  SASL_SSL listener (${s.mechanism.toUpperCase()} or SCRAM-SHA-256): ${s.brokers.join(',')}`,
        `    CA certificate (PEM): ${s.caFile}`,
        `    user ${s.username}, password in ${s.passwordFile}`,
      );
    }
  }
  if (d.rabbitmq) {
    lines.push(`RabbitMQ (${d.rabbitmq.provider})`, `  AMQP_URL=${d.rabbitmq.amqpUrl}`);
    if (d.rabbitmq.managementUrl) lines.push(`  RABBITMQ_MANAGEMENT_URL=${d.rabbitmq.managementUrl}  (guest / guest)`);
    if (d.rabbitmq.managementCaFile) lines.push(`  RABBITMQ_MANAGEMENT_CA_FILE=${d.rabbitmq.managementCaFile}`);
    if (d.rabbitmq.metricsUrl) lines.push(`  metrics: ${d.rabbitmq.metricsUrl}`);
  }
  if (d.toxiproxy) {
    lines.push(`Toxiproxy`, `  TOXIPROXY_URL=${d.toxiproxy.apiUrl}`);
    for (const p of d.toxiproxy.proxies) lines.push(`  proxy ${p.name}: ${p.listen} → ${p.upstream}`);
  }
  if (d.prometheus) lines.push(`Prometheus (${d.prometheus.provider})`, `  PROMETHEUS_URL=${d.prometheus.url}`);
  if (d.jaeger) {
    lines.push(`Jaeger (${d.jaeger.provider}${d.jaeger.version ? `, ${d.jaeger.version}` : ''})${d.jaeger.pid === undefined ? '' : ` (pid ${d.jaeger.pid})`}`, `  JAEGER_QUERY_URL=${d.jaeger.queryUrl}  (query API, e.g. /api/v3/services)`, `  OTEL_EXPORTER_OTLP_ENDPOINT=${d.jaeger.otlpHttpUrl}`);
    if (d.jaeger.otlpGrpcAddress) lines.push(`  OTLP/gRPC: ${d.jaeger.otlpGrpcAddress}`);
  }
  lines.push(`Run directory (logs, data): ${d.runDir}`);
  return lines.join('\n');
}

export interface UpFlags {
  kafka: number;
  rabbitmq: boolean;
  toxiproxy: boolean;
  prometheus: boolean;
  jaeger: boolean;
  provider: string | undefined;
  kafkaVersion: string | undefined;
  kafkaSecurity: KafkaSecurityMode | undefined;
  rabbitmqManagementTls: boolean;
  rabbitmqStatistics: boolean;
  runDir: string | undefined;
}

export function parseUpFlags(argv: string[]): UpFlags & { foreground: boolean; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      kafka: { type: 'string' },
      rabbitmq: { type: 'boolean' },
      toxiproxy: { type: 'boolean' },
      'no-toxiproxy': { type: 'boolean' },
      prometheus: { type: 'boolean' },
      jaeger: { type: 'boolean' },
      provider: { type: 'string' },
      'kafka-version': { type: 'string' },
      'kafka-security': { type: 'string' },
      'rabbitmq-management-tls': { type: 'boolean' },
      'rabbitmq-no-statistics': { type: 'boolean' },
      'run-dir': { type: 'string' },
      foreground: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const kafkaSecurity = values['kafka-security'] === undefined ? undefined : checkKafkaSecurity(values['kafka-security'], '--kafka-security');
  // --kafka-security asks for Kafka: alone it starts one node.
  const rabbitmqOptions = (values['rabbitmq-management-tls'] ?? false) || (values['rabbitmq-no-statistics'] ?? false);
  // --rabbitmq-management-tls / --rabbitmq-no-statistics ask for RabbitMQ, like --kafka-security for Kafka.
  const anyService = values.kafka !== undefined || kafkaSecurity !== undefined || values.rabbitmq || rabbitmqOptions || values.prometheus || values.jaeger;
  if (values.kafka !== undefined && !/^\d{1,2}$/.test(values.kafka)) throw new ConfigError(`--kafka must be a node count from 0 to 9 (got "${values.kafka}")`);
  const kafka = values.kafka === undefined ? (kafkaSecurity !== undefined || !anyService ? 1 : 0) : Number(values.kafka);
  if (kafka > 9) throw new ConfigError(`--kafka must be a node count from 0 to 9 (got "${values.kafka}")`);
  if (kafka === 0 && kafkaSecurity !== undefined) throw new ConfigError(`--kafka-security ${kafkaSecurity} needs Kafka, but --kafka 0 starts none`);
  const rabbitmq = (values.rabbitmq ?? !anyService) || rabbitmqOptions;
  const prometheus = values.prometheus ?? false;
  const jaeger = values.jaeger ?? false;
  if (kafka === 0 && !rabbitmq && !prometheus && !jaeger) throw new ConfigError('nothing to start: --kafka 0 needs --rabbitmq, --prometheus or --jaeger');
  if (values.toxiproxy && values['no-toxiproxy']) throw new ConfigError('--toxiproxy and --no-toxiproxy contradict each other: give one');
  if (values['run-dir'] !== undefined && values['run-dir'].trim() === '') throw new ConfigError('--run-dir must name a folder (got "")');
  if (values.provider === '') throw new ConfigError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')} (got "")`);
  return {
    kafka,
    rabbitmq,
    toxiproxy: values['no-toxiproxy'] ? false : (values.toxiproxy ?? true),
    prometheus,
    jaeger,
    provider: values.provider === undefined ? undefined : checkProviderChoice(values.provider, '--provider'),
    kafkaVersion: values['kafka-version'] === undefined ? undefined : checkKafkaVersion(values['kafka-version'], '--kafka-version'),
    kafkaSecurity,
    rabbitmqManagementTls: values['rabbitmq-management-tls'] ?? false,
    rabbitmqStatistics: !(values['rabbitmq-no-statistics'] ?? false),
    runDir: values['run-dir'],
    foreground: values.foreground ?? false,
    json: values.json ?? false,
  };
}

export function buildEnvironment(flags: UpFlags): Environment {
  const env = new Environment().withToxiproxy(flags.toxiproxy);
  if (flags.kafka > 0) {
    env.withKafka({ nodes: flags.kafka, ...(flags.kafkaVersion ? { version: flags.kafkaVersion } : {}), ...(flags.kafkaSecurity ? { security: flags.kafkaSecurity } : {}) });
  }
  if (flags.rabbitmq) {
    env.withRabbitMq({ ...(flags.rabbitmqManagementTls ? { managementTls: true } : {}), ...(flags.rabbitmqStatistics ? {} : { statistics: false }) });
  }
  if (flags.prometheus) env.withPrometheus();
  if (flags.jaeger) env.withJaeger();
  if (flags.provider) env.withProvider(flags.provider as 'auto');
  if (flags.runDir) env.withRunDir(flags.runDir);
  return env;
}

/**
 * Resolves on SIGINT / SIGTERM. Holds the event loop open meanwhile: the brokers are unref'd child
 * processes, so without a ref'd handle Node would exit at once (and its exit hook kill them).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise((resolve) => {
    const done = (sig: NodeJS.Signals): void => {
      clearInterval(keepAlive);
      resolve(sig);
    };
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}

async function up(argv: string[]): Promise<number> {
  const flags = parseUpFlags(argv);
  if (!flags.foreground) {
    // The state must be recordable (a private runs directory) before anything starts, and an
    // environment that is up, or a state file that cannot be trusted, is never overwritten.
    ensureRunsDirectory();
    const existing = readEnvironmentState();
    if (existing && checkRecordedProcesses(existing).some((c) => c.ownership.kind === 'ours')) {
      throw new ConfigError(`an environment is already up (run directory ${existing.description.runDir})`, {
        hint: 'Run `eda-harness env down` first, or `env status` to see it.',
      });
    }
  }
  const started = Date.now();
  const env: StartedEnvironment = await buildEnvironment(flags)
    .withCleanupOnExit(flags.foreground)
    // In the foreground we handle Ctrl-C ourselves below: an orderly stop, then exit 0.
    .withSignalHandlers(false)
    .start();
  const description = env.describe();
  if (!flags.foreground) {
    try {
      writeCurrentState(description, { ownsRunDir: flags.runDir === undefined });
    } catch (err) {
      // Unrecorded brokers could never be found again by `env down`: end them now.
      await env.stop();
      throw err;
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (flags.json) console.log(JSON.stringify(description, null, 2));
  else console.log(`${formatDescription(description)}\nReady in ${seconds} s.`);
  if (!flags.foreground) {
    if (!flags.json) console.log('The brokers keep running: `eda-harness env status` shows them, `eda-harness env down` stops them.');
    return 0;
  }
  console.log('Press Ctrl-C to stop.');
  await untilSignal();
  console.log('stopping…');
  await env.stop();
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, strict: true });
  let state: ReturnType<typeof readEnvironmentState>;
  try {
    state = readEnvironmentState();
  } catch (err) {
    // The message goes to stderr (exit 2); a program reading --json still gets JSON.
    if (values.json && err instanceof StateFileError) console.log(JSON.stringify({ up: null, stateFile: err.stateFile, error: err.message, hint: err.hint }, null, 2));
    throw err;
  }
  if (!state) {
    if (values.json) console.log(JSON.stringify({ up: false, stateFile: currentPointer() }, null, 2));
    else console.log('No environment is up (start one with `eda-harness env up`).');
    return 3;
  }
  const checks = checkRecordedProcesses(state);
  const procs = state.description.processes.map((p, i) => {
    const o = checks[i]?.ownership;
    return { ...p, alive: o?.kind === 'ours', ...(o && o.kind !== 'ours' ? { note: o.why } : {}) };
  });
  if (values.json) {
    console.log(JSON.stringify({ up: true, ...state.description, processes: procs }, null, 2));
  } else {
    console.log(formatDescription(state.description));
    console.log('Processes:');
    for (const p of procs) console.log(`  ${p.alive ? 'up  ' : 'DOWN'}  ${p.name.padEnd(11)} pid ${p.pid}  log ${p.logFile}${p.note ? `  (${p.note})` : ''}`);
  }
  return procs.every((p) => p.alive) ? 0 : 1;
}

async function down(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {}, strict: true });
  const state = readEnvironmentState();
  if (!state) {
    console.log('No environment is up.');
    return 3;
  }
  refuseStaleState(state, checkRecordedProcesses(state));
  const ended = await endRecordedProcesses(state);
  console.log(ended.length > 0 ? `Stopped ${ended.join(', ')}.` : 'Its processes had already exited.');
  const removal = removeRunDirectory(state);
  if (!removal.removed) console.log(`Kept ${state.description.runDir} (${removal.why}).`);
  clearCurrentState();
  return 0;
}

export async function envCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up':
      return up(rest);
    case 'status':
      return status(rest);
    case 'down':
      return down(rest);
    case 'provision': {
      parseArgs({ args: rest, options: {}, strict: true });
      // Started in the background by `npm test` (scripts/provision-early.mjs): stop with that run.
      const watched = process.env['EDA_HARNESS_PROVISION_WATCH_PID'];
      const stopWatching = exitWhenGone(watched === undefined ? undefined : Number(watched));
      try {
        await provisionAll();
      } finally {
        stopWatching();
      }
      console.log('Everything the native provider needs is installed.');
      return 0;
    }
    default:
      console.error(sub ? `unknown env subcommand "${sub}"\n\n${ENV_HELP}` : ENV_HELP);
      return 2;
  }
}
