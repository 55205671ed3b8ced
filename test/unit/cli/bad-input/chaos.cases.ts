import type { BadInputCase } from '../../../support/bad-input';

/**
 * `eda-harness chaos`: only input that must fail before any broker starts. Should one of these
 * ever get past its check, the environment below makes the scenario look for brokers that are not
 * there (an external provider on closed ports) instead of starting any.
 */
const noBrokers = { EDA_HARNESS_PROVIDER: 'external', KAFKA_BROKERS: '127.0.0.1:1', AMQP_URL: 'amqp://127.0.0.1:1' };
const run = (...args: string[]): string[] => ['chaos', 'run', 'rabbitmq-restart', ...args];

const cases0: readonly Omit<BadInputCase, 'env'>[] = [
  { name: 'no subcommand prints the usage', argv: ['chaos'], exit: 2, message: 'Usage: eda-harness chaos <list|run|check>' },
  { name: 'an unknown subcommand', argv: ['chaos', 'explode'], exit: 2, message: 'unknown chaos subcommand "explode"' },
  // list
  { name: 'list --bogus', argv: ['chaos', 'list', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'list with an argument', argv: ['chaos', 'list', 'kafka'], exit: 2, message: "Unexpected argument 'kafka'" },
  { name: 'list --json with a value', argv: ['chaos', 'list', '--json=yes'], exit: 2, message: "Option '--json' does not take an argument" },
  { name: 'list --json prints JSON', argv: ['chaos', 'list', '--json'], exit: 0, message: '"name": "kafka-broker-kill"' },
  // run: scenarios and flags
  { name: 'run an unknown scenario', argv: ['chaos', 'run', 'no-such'], exit: 2, message: 'no chaos scenario matches "no-such"' },
  { name: 'run a glob that matches nothing', argv: ['chaos', 'run', 'kafka-*', 'zookeeper-*'], exit: 2, message: 'no chaos scenario matches "zookeeper-*"' },
  { name: "run ''", argv: ['chaos', 'run', ''], exit: 2, message: 'no chaos scenario matches ""' },
  { name: 'run --bogus', argv: run('--bogus'), exit: 2, message: "Unknown option '--bogus'" },
  { name: '--traces zipkin', argv: run('--traces', 'zipkin'), exit: 2, message: '--traces must be recorded or jaeger (got "zipkin")' },
  { name: "--traces ''", argv: run('--traces', ''), exit: 2, message: '--traces must be recorded or jaeger (got "")' },
  { name: 'run --json with a value', argv: run('--json=1'), exit: 2, message: "Option '--json' does not take an argument" },
  { name: '--warmup a word', argv: run('--warmup', 'soon'), exit: 2, message: '--warmup must be a number of seconds, 0 or more (got "soon")' },
  { name: '--warmup without a value', argv: run('--warmup'), exit: 2, message: "Option '--warmup <value>' argument missing" },
  { name: '--fault negative', argv: run('--fault', '-3'), exit: 2, message: '--fault must be a number of seconds, 0 or more (got "-3")' },
  { name: '--fault over a day (Node timers would overflow)', argv: run('--fault', '9999999999'), exit: 2, message: '--fault must be at most 86400 seconds (a day), got "9999999999"' },
  { name: "--recovery ''", argv: run('--recovery', ''), exit: 2, message: '--recovery must be a number of seconds, 0 or more (got "")' },
  { name: '--drain-timeout Infinity', argv: run('--drain-timeout', 'Infinity'), exit: 2, message: '--drain-timeout must be a number of seconds, 0 or more (got "Infinity")' },
  { name: '--drain-timeout=NaN', argv: run('--drain-timeout=NaN'), exit: 2, message: '--drain-timeout must be a number of seconds, 0 or more (got "NaN")' },
  // run: the report folder, checked before any scenario starts
  { name: '--report-dir /proc/forbidden fails before any broker starts', argv: run('--report-dir', '/proc/forbidden'), exit: 2, message: 'Cannot create the report folder /proc/forbidden', deadlineMs: 10_000 },
  { name: '--report-dir /proc (exists, takes no files)', argv: run('--report-dir', '/proc'), exit: 2, message: 'Cannot write into the report folder /proc', deadlineMs: 10_000 },
  { name: 'all scenarios with an unwritable --report-dir', argv: ['chaos', 'run', '--json', '--report-dir', '/proc/forbidden/x'], exit: 2, message: 'Cannot create the report folder /proc/forbidden/x', deadlineMs: 10_000 },
  { name: '--report-dir naming a file', argv: run('--report-dir', '{dir}/file'), files: { file: '' }, exit: 2, message: 'Cannot use {dir}/file for the report folder' },
  { name: '--report-dir where a report is a folder', argv: run('--report-dir', '{dir}/out'), files: { 'out/chaos-report.html/keep': '' }, exit: 2, message: 'Cannot write the report {dir}/out/chaos-report.html: it is a folder' },
  { name: '--kafka-security tls', argv: run('--kafka-security', 'tls'), exit: 2, message: '--kafka-security must be one of plaintext, sasl_ssl (got "tls")' },
  { name: '--kafka-security without a value', argv: run('--kafka-security'), exit: 2, message: "Option '--kafka-security <value>' argument missing" },
  { name: "--report-dir ''", argv: run('--report-dir', ''), exit: 2, message: '--report-dir must name a directory' },
  { name: '--report-dir without a value', argv: run('--report-dir'), exit: 2, message: "Option '--report-dir <value>' argument missing" },
  // run --service: the service config, loaded and checked before any broker starts
  { name: "--service ''", argv: ['chaos', 'run', '--service', ''], exit: 2, message: '--service must name a service config file' },
  { name: '--service a missing file', argv: ['chaos', 'run', '--service', '{dir}/chaos.config.js'], exit: 2, message: 'service config {dir}/chaos.config.js: no such file' },
  { name: '--service a module that throws', argv: ['chaos', 'run', '--service', '{dir}/chaos.config.cjs'], files: { 'chaos.config.cjs': "throw new Error('no database');\n" }, exit: 2, message: 'could not be loaded: no database', deadlineMs: 10_000 },
  {
    name: '--service a config missing start and inputs',
    argv: ['chaos', 'run', '--service', '{dir}/chaos.config.cjs'],
    files: { 'chaos.config.cjs': "module.exports = { name: 'svc', version: '1' };\n" },
    exit: 2,
    message: 'service config {dir}/chaos.config.cjs: 2 problems:\n  - start is missing: write a factory',
    deadlineMs: 10_000,
  },
  {
    name: '--service a scenario the service does not have',
    argv: ['chaos', 'run', '--service', '{dir}/chaos.config.cjs', 'svc-disk-full'],
    files: { 'chaos.config.cjs': "module.exports = { name: 'svc', version: '1', start: { command: 'node' }, inputs: [{ topic: 't', message: (id) => ({ value: id }) }] };\n" },
    exit: 2,
    message: 'no scenario of service svc matches "svc-disk-full"',
    deadlineMs: 10_000,
  },
];

/** A one-message history (header, send, ack, delivery, end) for the `chaos check` cases; `drop` leaves a record type out. */
function history(o: { version?: number; drop?: string; extra?: string } = {}): string {
  const t = 1_700_000_000_000;
  const header = {
    type: 'header',
    format: 'eda-harness.chaos-history',
    version: o.version ?? 1,
    scenario: 'hand-made',
    description: 'one message',
    system: 'kafka',
    startedAt: new Date(t).toISOString(),
    config: { timing: { warmupMs: 0, faultMs: 0, recoveryMs: 0, drainTimeoutMs: 0 }, recoveryLimitMs: 45_000, workload: 'w', faults: [], invariants: [{ name: 'no acknowledged message lost', spec: { factory: 'noAckedLoss', args: [] } }], alertPack: false },
    environment: { needs: { kafkaNodes: 1 }, provided: 'own' },
    harness: { version: 'test', node: 'v20', platform: 'linux' },
  };
  const records = [
    { type: 'scenario-start', t },
    { type: 'send', t: t + 1, id: 'msg-1', key: 'k0', seq: 0, poison: false, destination: 'orders' },
    { type: 'send-ack', t: t + 2, id: 'msg-1', partition: 0, offset: '0' },
    { type: 'delivery', t: t + 3, id: 'msg-1', key: 'k0', seq: 0, consumer: 'g', partition: 0, offset: '0', redelivered: false, deadLettered: false },
    { type: 'scenario-end', t: t + 4, alertsWatched: false },
  ].filter((r) => r.type !== o.drop);
  return [header, ...records].map((r) => JSON.stringify(r)).join('\n') + '\n' + (o.extra ?? '');
}

const checkCases: readonly Omit<BadInputCase, 'env'>[] = [
  { name: 'check with no history', argv: ['chaos', 'check'], exit: 2, message: 'chaos check needs the history files to check' },
  { name: "check ''", argv: ['chaos', 'check', ''], exit: 2, message: "chaos check: a history path is ''" },
  { name: 'check --bogus', argv: ['chaos', 'check', 'h.jsonl', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'check --json with a value', argv: ['chaos', 'check', '--json=1', 'h.jsonl'], exit: 2, message: "Option '--json' does not take an argument" },
  { name: 'check a missing file', argv: ['chaos', 'check', '{dir}/nope.history.jsonl'], exit: 2, message: 'Cannot read the history {dir}/nope.history.jsonl: no such file' },
  { name: 'check a folder', argv: ['chaos', 'check', '{dir}/out'], files: { 'out/keep': '' }, exit: 2, message: 'Cannot read the history {dir}/out: it is a folder' },
  { name: 'check an empty file', argv: ['chaos', 'check', '{dir}/h.jsonl'], files: { 'h.jsonl': '' }, exit: 2, message: '{dir}/h.jsonl is empty: it is not a chaos history' },
  { name: 'check a file that is not a history', argv: ['chaos', 'check', '{dir}/report.json'], files: { 'report.json': '{"tool":"eda-harness"}\n' }, exit: 2, message: '{dir}/report.json, line 1: the first line must be the history header' },
  { name: 'check a truncated line', argv: ['chaos', 'check', '{dir}/h.jsonl'], files: { 'h.jsonl': history({ extra: '{"type":"delivery","t":17' }) }, exit: 2, message: '{dir}/h.jsonl, line 7: not valid JSON' },
  { name: 'check a record with a field of the wrong type', argv: ['chaos', 'check', '{dir}/h.jsonl'], files: { 'h.jsonl': history({ extra: '{"type":"send-ack","t":"soon","id":"m"}\n' }) }, exit: 2, message: '{dir}/h.jsonl, line 7: send-ack record: field "t" must be a number, got a string' },
  { name: 'check an unknown format version', argv: ['chaos', 'check', '{dir}/h.jsonl'], files: { 'h.jsonl': history({ version: 7 }) }, exit: 2, message: '{dir}/h.jsonl, line 1: unknown history format version 7 (this eda-harness reads version 1)' },
  { name: 'check one good and one missing file fails before any verdict', argv: ['chaos', 'check', '{dir}/h.jsonl', '{dir}/gone.jsonl'], files: { 'h.jsonl': history() }, exit: 2, message: 'Cannot read the history {dir}/gone.jsonl: no such file' },
  { name: 'check a history that passes', argv: ['chaos', 'check', '{dir}/h.jsonl'], files: { 'h.jsonl': history() }, exit: 0, message: '✓ no acknowledged message lost: all 1 acknowledged messages were consumed' },
  { name: 'check --json', argv: ['chaos', 'check', '--json', '{dir}/h.jsonl'], files: { 'h.jsonl': history() }, exit: 0, message: '"passed": true' },
  { name: 'check a history with a delivery removed', argv: ['chaos', 'check', '{dir}/h.jsonl'], files: { 'h.jsonl': history({ drop: 'delivery' }) }, exit: 1, message: '- msg-1 (key k0, seq 0, sent at +1 ms)' },
];

/** The Kafka TLS / SASL variables of a cluster the user runs, checked (files read) before any scenario starts. */
const securityCases: readonly BadInputCase[] = [
  { name: 'KAFKA_SECURITY_PROTOCOL=tls', argv: run(), env: { ...noBrokers, KAFKA_SECURITY_PROTOCOL: 'tls' }, exit: 2, message: 'KAFKA_SECURITY_PROTOCOL must be one of plaintext, ssl, sasl_plaintext, sasl_ssl (got "tls")' },
  {
    name: 'KAFKA_SASL_PASSWORD_FILE that does not exist',
    argv: run(),
    env: { ...noBrokers, KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: '/no/such/password' },
    exit: 2,
    message: 'cannot read the Kafka SASL password file (KAFKA_SASL_PASSWORD_FILE) /no/such/password: no such file',
  },
  {
    name: 'KAFKA_SECURITY_PROTOCOL without KAFKA_BROKERS',
    argv: run(),
    env: { EDA_HARNESS_PROVIDER: 'external', AMQP_URL: 'amqp://127.0.0.1:1', KAFKA_SECURITY_PROTOCOL: 'ssl' },
    exit: 2,
    message: 'KAFKA_SECURITY_PROTOCOL is set but KAFKA_BROKERS is not',
  },
];

export const cases: readonly BadInputCase[] = [...[...cases0, ...checkCases].map((c) => ({ ...c, env: noBrokers })), ...securityCases];
