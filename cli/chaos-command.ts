import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SCENARIO_NAMES, scenarioByName, selectScenarios } from '@eda-harness/chaos';
import { prepareReportDir, renderJson, summarize, writeReports } from '@eda-harness/chaos';
import { DEFAULT_TIMING, DEFAULT_RECOVERY_LIMIT_MS } from '@eda-harness/chaos';
import type { EnvironmentNeeds, HtmlReport, ScenarioResult, ScenarioTiming } from '@eda-harness/chaos';
import { jaegerTraces, kafkaClientSecurityFromEnv } from '@eda-harness/chaos';
import { checkHistoryFile, checksJson, historyFileName, summarizeChecks } from '@eda-harness/chaos';
import type { HistoryCheck } from '@eda-harness/chaos';
import { loadServiceConfigs, selectSuiteScenarios, serviceScenario, serviceUnderTest } from '@eda-harness/chaos';
import type { ChaosScenario, ServiceUnderTest } from '@eda-harness/chaos';
import { ConfigError, KAFKA_SECURITY_VARIABLES, errorMessage, kafkaClientSecurity } from '@eda-harness/core';
import type { KafkaSecuritySettings } from '@eda-harness/core';
import { checkKafkaSecurity, type KafkaSecurityMode } from '@eda-harness/environment';
import { packageVersion } from './package-info';
import { stderrProgress } from '@eda-harness/core';

const DEFAULT_REPORT_DIR = 'chaos-report';

/** Scenario names, wrapped to fit the help text. */
function scenarioList(indent: string, width = 96): string {
  const lines: string[] = [];
  let line = indent;
  for (const name of SCENARIO_NAMES) {
    if (line.length > indent.length && line.length + name.length + 1 > width) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${name} `;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

const secs = (ms: number): string => String(ms / 1000);

export const CHAOS_HELP = `Usage: eda-harness chaos <list|run|check> [options]

  list                        the scenarios: system, what each needs, what it does (--json for JSON);
                              with --service <file>, the scenarios of the services it describes
  run [scenario|glob …]       run scenarios one after another (none given = all of them); each starts
                              its own brokers (native processes, containers, or the services named by
                              KAFKA_BROKERS / AMQP_URL) and stops them afterwards
  check <history.jsonl …>     re-check saved histories: the scenario's invariants run again on every
                              recorded operation, with the verdicts printed as the run printed them
                              (--json for JSON); no broker is started

Scenarios (globs such as kafka-* or *-poison-messages select several):
${scenarioList('  ')}

Options for run:
  --report-dir <dir>   where the reports go (default ./${DEFAULT_REPORT_DIR})
  --warmup <s>         traffic before the fault, in seconds (default ${secs(DEFAULT_TIMING.warmupMs)})
  --fault <s>          how long the fault holds (default ${secs(DEFAULT_TIMING.faultMs)}; 12 for the kill scenarios,
                       whose stale-exporter alert needs the outage to outlast its threshold)
  --recovery <s>       traffic after healing, before sending stops (default ${secs(DEFAULT_TIMING.recoveryMs)})
  --drain-timeout <s>  how long to wait for every acknowledged message to be consumed (default ${secs(DEFAULT_TIMING.drainTimeoutMs)})
  --json               print the report as JSON on stdout instead of the summary
  --service <file>     a service under test (chaos.config.js: see docs/chaos.md), or several (the
                       config exports a list): run their scenarios, <name>-broker-restart,
                       -broker-kill, -leader-failover (Kafka), -network-partition, -service-kill,
                       -service-pause, -poison-messages (with deadLetters) (globs select among
                       them); the harness starts each service, feeds its inputs (Kafka topic or
                       RabbitMQ queue / exchange), reads its spans (its own OTLP receiver), outputs
                       and dead letters, and counts its effects; the services' stdout/stderr go to
                       <report dir>/service-logs
  --kafka-security <s> plaintext (default) or sasl_ssl: the Kafka scenarios start Kafka with a
                       SASL_SSL listener (SCRAM users, a CA made at start), which the workload's
                       clients and the alert pack's exporter use
  --traces <source>    where the traces invariant reads its spans: recorded (default: the
                       harness's own recording) or jaeger (each scenario starts a Jaeger, the
                       workload exports its spans to it over OTLP/HTTP and they are read back
                       from its query API after the run; the verdict names it)
Durations are seconds; decimals are allowed (--fault 2.5).

A secured Kafka you run (KAFKA_BROKERS naming its SASL_SSL or SSL listener) takes the exporter's
settings: KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_CA_FILE (…_CERT_FILE, …_KEY_FILE, …_SERVERNAME),
KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE (or OAUTHBEARER's
KAFKA_SASL_OAUTHBEARER_TOKEN_FILE / _TOKEN_COMMAND); checked, files read, before any scenario.

Each scenario runs a workload (keyed, sequenced, traced messages), injects its fault after the
warm-up, heals it, keeps sending, then drains. Afterwards it checks these invariants:
  - no acknowledged message lost: every send the broker acknowledged was consumed
  - nothing phantom: every delivery matches a message that was sent
  - duplicates counted: redeliveries are reported (at-least-once), not failed
  - per-key order kept: a key's first deliveries arrive in the order they were sent
  - recovery in time: messages sent after healing flow again within ${secs(DEFAULT_RECOVERY_LIMIT_MS)} s
  - traces intact: each consumed message joins its producer's trace (traceparent header)
  - poison dead-lettered (the *-poison-messages scenarios): every malformed message ends in the
    dead-letter topic / queue, and no good message does
  - alerts fire (the kill and poison scenarios): a real Prometheus with the shipped alert pack,
    thresholds lowered to seconds, scrapes the workload and an exporter; EdaExporterStale /
    DeadLetterMessagesArriving must fire after the fault starts (not before) and resolve by the end

Reports (in --report-dir):
  chaos-report.json    everything observed: counts, fault windows, invariants, timeline, client events
  chaos-junit.xml      a test suite per scenario, a test case per invariant, for CI test reporting
  chaos-report.html    a self-contained page with the timeline and the verdicts
  <scenario>.history.jsonl
                       the complete history, written as the scenario runs: every send attempted,
                       acknowledged or failed, every delivery, fault start and end, client event,
                       span and alert state, one JSON object a line; the verdicts are computed from
                       it, and \`eda-harness chaos check\` computes them again from the saved file

Progress goes to stderr, the summary (or --json) to stdout. Exit code 0 when every scenario
passed, 1 when any failed, 2 on a usage error. Ctrl-C stops the brokers the scenarios started.
check: 0 when every history passes, 1 when an invariant fails (or the run did not reach its end),
2 when a file is missing or not a history (the message names the line and what is wrong).

Example:
  eda-harness chaos list
  eda-harness chaos run kafka-broker-kill 'rabbitmq-*' --fault 3 --report-dir out/chaos
  eda-harness chaos check out/chaos/kafka-broker-kill.history.jsonl
  eda-harness chaos run --service ./chaos.config.js '*-service-kill' --report-dir out/chaos`;

/** "Kafka ×1 + Toxiproxy", "Kafka ×3", "RabbitMQ". */
export function describeNeeds(needs: EnvironmentNeeds): string {
  const parts: string[] = [];
  if (needs.kafkaNodes) parts.push(`Kafka ×${needs.kafkaNodes}`);
  if (needs.rabbitmq) parts.push('RabbitMQ');
  if (needs.toxiproxy) parts.push('Toxiproxy');
  if (needs.jaeger) parts.push('Jaeger');
  return parts.join(' + ');
}

/**
 * parseArgs, with its errors (unknown option, missing value) turned into a ConfigError, so they
 * exit 2 with a hint pointing at this command's help rather than the whole help text.
 */
function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new ConfigError(errorMessage(err), { hint: 'see `eda-harness chaos --help`' });
    }
    throw err;
  }
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseFlags({ args: argv, options: { json: { type: 'boolean' }, service: { type: 'string' } }, strict: true });
  if (values.service?.trim() === '') throw new ConfigError('--service must name a service config file', { hint: 'e.g. eda-harness chaos list --service ./chaos.config.js' });
  // With --service: the scenarios of the services the config describes, as `chaos run --service` runs them.
  const suts = values.service === undefined ? [] : await loadSuts(values.service, DEFAULT_REPORT_DIR);
  const scenarios = values.service === undefined ? SCENARIO_NAMES.map((name) => ({ name, build: () => scenarioByName(name) })) : selectSuiteScenarios(suts, []).map(({ sut, name }) => ({ name, build: () => serviceScenario(sut, name) }));
  const rows = scenarios.map(({ name, build }) => {
    const s = build();
    const needs = s.needs();
    return { name, system: s.system, needs, environment: describeNeeds(needs), summary: s.summary() };
  });
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  const w = (pick: (r: (typeof rows)[number]) => string): number => Math.max(...rows.map((r) => pick(r).length));
  const [wn, ws, we] = [w((r) => r.name), w((r) => r.system), w((r) => r.environment)];
  for (const r of rows) console.log(`${r.name.padEnd(wn)}  ${r.system.padEnd(ws)}  ${r.environment.padEnd(we)}  ${r.summary}`);
  return 0;
}

const TIMING_FLAGS = {
  warmup: 'warmupMs',
  fault: 'faultMs',
  recovery: 'recoveryMs',
  'drain-timeout': 'drainTimeoutMs',
} as const satisfies Record<string, keyof ScenarioTiming>;

type TimingFlag = keyof typeof TIMING_FLAGS;

/**
 * parseArgs refuses `--fault -3` as ambiguous; joining it into `--fault=-3` lets the value reach
 * the validation below, which says what is wrong with it.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg.startsWith('--') && arg.slice(2) in TIMING_FLAGS && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** A day: longer is a typo, and past about 24.8 days Node's timers overflow and fire at once. */
const MAX_SECONDS = 86_400;

function secondsToMs(flag: TimingFlag, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ConfigError(`--${flag} must be a number of seconds, 0 or more (got "${value}")`, { hint: `for example --${flag} 2.5` });
  }
  if (n > MAX_SECONDS) throw new ConfigError(`--${flag} must be at most ${MAX_SECONDS} seconds (a day), got "${value}"`, { hint: `for example --${flag} 2.5` });
  return Math.round(n * 1000);
}

export interface RunFlags {
  readonly patterns: string[];
  readonly reportDir: string;
  readonly timing: Partial<ScenarioTiming>;
  readonly json: boolean;
  /** The Kafka each Kafka scenario starts: plaintext only, or with a SASL_SSL listener its clients use. */
  readonly kafkaSecurity: KafkaSecurityMode | undefined;
  /** A service config (chaos.config.js): run that service's scenarios instead of the catalog's. */
  readonly service: string | undefined;
  /** Where the traces invariant reads its spans: Jaeger, or (undefined) the harness's own recording. */
  readonly traces: 'jaeger' | undefined;
}

export function parseRunFlags(argv: string[]): RunFlags {
  const { values, positionals } = parseFlags({
    args: joinNegativeValues(argv),
    options: {
      'report-dir': { type: 'string' },
      warmup: { type: 'string' },
      fault: { type: 'string' },
      recovery: { type: 'string' },
      'drain-timeout': { type: 'string' },
      json: { type: 'boolean' },
      'kafka-security': { type: 'string' },
      service: { type: 'string' },
      traces: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const timing: Partial<Record<keyof ScenarioTiming, number>> = {};
  for (const flag of Object.keys(TIMING_FLAGS) as TimingFlag[]) {
    const value = values[flag];
    if (value !== undefined) timing[TIMING_FLAGS[flag]] = secondsToMs(flag, value);
  }
  const reportDir = values['report-dir'];
  if (reportDir?.trim() === '') throw new ConfigError('--report-dir must name a directory');
  const kafkaSecurity = values['kafka-security'] === undefined ? undefined : checkKafkaSecurity(values['kafka-security'], '--kafka-security');
  const service = values.service;
  if (service?.trim() === '') throw new ConfigError('--service must name a service config file', { hint: 'e.g. --service ./chaos.config.js (see "A service under test" in docs/chaos.md)' });
  const traces = values.traces;
  if (traces !== undefined && traces !== 'jaeger' && traces !== 'recorded') throw new ConfigError(`--traces must be recorded or jaeger (got "${traces}")`, { hint: 'e.g. --traces jaeger: the spans are exported to a Jaeger the scenario starts and read back from it' });
  return { patterns: positionals, reportDir: resolve(reportDir ?? DEFAULT_REPORT_DIR), timing, json: values.json ?? false, kafkaSecurity, service, traces: traces === 'jaeger' ? 'jaeger' : undefined };
}

async function loadSuts(config: string, reportDir: string): Promise<ServiceUnderTest[]> {
  const configs = await loadServiceConfigs(config);
  return configs.map((c) => serviceUnderTest(c, { logDir: join(resolve(reportDir), 'service-logs'), progress: stderrProgress }));
}

/** The service the report names: the one whose scenarios ran, or all of them joined (`a + b`, with their versions). */
function reportedService(suts: readonly ServiceUnderTest[]): { name: string; version: string } | undefined {
  const distinct = suts.filter((s, i) => suts.findIndex((t) => t.config.name === s.config.name) === i).map((s) => s.config);
  if (distinct.length === 0) return undefined;
  if (distinct.length === 1) return { name: distinct[0]!.name, version: distinct[0]!.version };
  const versions = [...new Set(distinct.map((c) => c.version))];
  return { name: distinct.map((c) => c.name).join(' + '), version: versions.length === 1 ? versions[0]! : distinct.map((c) => c.version).join(' + ') };
}

async function run(argv: string[]): Promise<number> {
  const flags = parseRunFlags(argv);
  // The services under test (one config may describe several): loaded and checked before anything starts.
  const suts = flags.service === undefined ? [] : await loadSuts(flags.service, flags.reportDir);
  const selected = flags.service === undefined ? selectScenarios(flags.patterns).map((name) => ({ name, sut: undefined })) : selectSuiteScenarios(suts, flags.patterns);
  const names = selected.map((s) => s.name);
  const build = (i: number): ChaosScenario => {
    const { name, sut } = selected[i]!;
    const scenario = sut ? serviceScenario(sut, name) : scenarioByName(name);
    return flags.traces === 'jaeger' ? scenario.withTraceBackend(jaegerTraces()) : scenario;
  };
  const reported = reportedService(selected.flatMap((s) => (s.sut ? [s.sut] : [])));
  // TLS / SASL settings of a Kafka the user runs: checked, and their files read, before any scenario starts.
  const clientSecurity: KafkaSecuritySettings | undefined = kafkaClientSecurityFromEnv(process.env);
  if (clientSecurity) kafkaClientSecurity(clientSecurity, { field: (f) => KAFKA_SECURITY_VARIABLES[f] });
  const securityOptions = { ...(flags.kafkaSecurity ? { kafkaSecurity: flags.kafkaSecurity } : {}), ...(clientSecurity ? { kafkaClientSecurity: clientSecurity } : {}) };
  // Before any scenario starts a broker: a report folder that cannot be written fails now.
  prepareReportDir(flags.reportDir);
  const started = Date.now();
  const results: ScenarioResult[] = [];
  const reportOf = (): HtmlReport => ({
    tool: `eda-harness ${packageVersion()}`,
    ...(reported ? { service: reported } : {}),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    passed: results.every((r) => r.passed),
    scenarios: [...results],
  });
  for (const [i, name] of names.entries()) {
    stderrProgress(`scenario ${i + 1}/${names.length}: ${name}`);
    const historyPath = join(flags.reportDir, historyFileName(name));
    const result = await build(i).withTiming(flags.timing).run({ progress: stderrProgress, ...securityOptions, historyPath, harnessVersion: `eda-harness ${packageVersion()}` });
    const why = result.error === undefined ? '' : ` (${result.error})`;
    stderrProgress(`scenario ${i + 1}/${names.length}: ${name} ${result.passed ? 'passed' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s${why}`);
    results.push(result);
    // Written after every scenario: a run interrupted by Ctrl-C (the environment layer stops the
    // brokers and exits) still leaves the report of the scenarios that finished.
    if (i < names.length - 1) writeReports(reportOf(), flags.reportDir);
  }
  const report = reportOf();
  const paths = writeReports(report, flags.reportDir);
  if (flags.json) process.stdout.write(renderJson(report));
  else console.log(summarize(report));
  const histories = results.flatMap((r) => (r.history === undefined ? [] : [r.history]));
  console.error(`Reports:\n  ${[paths.json, paths.junit, paths.html, ...histories].join('\n  ')}`);
  return report.passed ? 0 : 1;
}

/** `chaos check <history.jsonl …>`: every file is read first, so a bad one fails before any verdict. */
function check(argv: string[]): number {
  const { values, positionals } = parseFlags({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) {
    throw new ConfigError('chaos check needs the history files to check', { hint: 'e.g. eda-harness chaos check chaos-report/kafka-broker-restart.history.jsonl (chaos run writes one per scenario into --report-dir)' });
  }
  for (const p of positionals) if (p.trim() === '') throw new ConfigError("chaos check: a history path is ''", { hint: 'name a <scenario>.history.jsonl file' });
  const checks: HistoryCheck[] = positionals.map((p) => checkHistoryFile(p));
  if (values.json) process.stdout.write(checksJson(checks));
  else console.log(summarizeChecks(checks));
  return checks.every((c) => c.passed) ? 0 : 1;
}

export async function chaosCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    console.log(CHAOS_HELP);
    return 0;
  }
  switch (sub) {
    case 'list':
      return await list(rest);
    case 'run':
      return run(rest);
    case 'check':
      return check(rest);
    default:
      console.error(sub ? `unknown chaos subcommand "${sub}"\n\n${CHAOS_HELP}` : CHAOS_HELP);
      return 2;
  }
}
