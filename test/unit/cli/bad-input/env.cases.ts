import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BadInputCase } from '../../../support/bad-input';

/**
 * `env up | status | down | provision`. No case may provision or start anything: each fails in
 * flag or variable checks, which come before any install. Where a regressed check could let a
 * case through to provisioning, a second bad input that also fails before it is added as a safety
 * net (`--run-dir /proc/forbidden`: the run directory is made before anything is installed; or
 * the external provider on a closed port, which installs nothing).
 */

/** A second failure before any install, should the check a case is about ever regress. */
const NET = ['--run-dir', '/proc/forbidden'];
/** The external provider on ports nobody listens on: never installs or starts anything. */
const EXTERNAL = { EDA_HARNESS_PROVIDER: 'external', KAFKA_BROKERS: '127.0.0.1:1', AMQP_URL: 'amqp://127.0.0.1:1', PROMETHEUS_URL: 'http://127.0.0.1:1' };

/** Plants `content` as the state file in a private runs directory ($TMPDIR/eda-harness). */
const stateFile =
  (content: string) =>
  (dir: string): void => {
    const runs = join(dir, 'tmp', 'eda-harness');
    mkdirSync(runs, { recursive: true, mode: 0o700 });
    chmodSync(runs, 0o700);
    writeFileSync(join(runs, 'current.json'), content, { mode: 0o600 });
  };

const CORRUPT = '{"format": 2, "runDir": ';

export const cases: readonly BadInputCase[] = [
  // The command and its subcommands.
  { name: 'env with no subcommand prints its help, exit 2', argv: ['env'], exit: 2, message: 'Usage: eda-harness env <up|status|down|provision>' },
  { name: 'an unknown subcommand', argv: ['env', 'bogus'], exit: 2, message: 'unknown env subcommand "bogus"' },
  { name: 'env down --bogus', argv: ['env', 'down', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'env down with an argument', argv: ['env', 'down', 'now'], exit: 2, message: "Unexpected argument 'now'" },
  { name: 'env status --bogus', argv: ['env', 'status', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'env provision --bogus installs nothing', argv: ['env', 'provision', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'env up --bogus', argv: ['env', 'up', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },

  // Flags of env up.
  { name: '--kafka lots', argv: ['env', 'up', '--kafka', 'lots'], exit: 2, message: '--kafka must be a node count from 0 to 9 (got "lots")' },
  { name: "--kafka ''", argv: ['env', 'up', '--kafka', ''], exit: 2, message: '--kafka must be a node count from 0 to 9 (got "")' },
  { name: '--kafka 10', argv: ['env', 'up', '--kafka', '10'], exit: 2, message: '--kafka must be a node count from 0 to 9 (got "10")' },
  { name: '--kafka -1', argv: ['env', 'up', '--kafka=-1'], exit: 2, message: '--kafka must be a node count' },
  { name: '--kafka without a value', argv: ['env', 'up', '--kafka'], exit: 2, message: "Option '--kafka <value>' argument missing" },
  { name: '--kafka 0 alone starts nothing', argv: ['env', 'up', '--kafka', '0'], exit: 2, message: 'nothing to start: --kafka 0 needs --rabbitmq, --prometheus or --jaeger' },
  { name: '--rabbitmq=yes', argv: ['env', 'up', '--rabbitmq=yes'], exit: 2, message: "Option '--rabbitmq' does not take an argument" },
  { name: '--prometheus=1', argv: ['env', 'up', '--prometheus=1'], exit: 2, message: "Option '--prometheus' does not take an argument" },
  { name: '--jaeger=1', argv: ['env', 'up', '--jaeger=1'], exit: 2, message: "Option '--jaeger' does not take an argument" },
  { name: 'JAEGER_QUERY_URL without OTEL_EXPORTER_OTLP_ENDPOINT', argv: ['env', 'up', '--kafka', '0', '--jaeger'], env: { JAEGER_QUERY_URL: 'http://127.0.0.1:1' }, exit: 2, message: 'an external Jaeger needs both JAEGER_QUERY_URL' },
  { name: '--toxiproxy with --no-toxiproxy', argv: ['env', 'up', '--toxiproxy', '--no-toxiproxy'], exit: 2, message: '--toxiproxy and --no-toxiproxy contradict each other' },
  { name: '--no-toxiproxy=false', argv: ['env', 'up', '--no-toxiproxy=false'], exit: 2, message: "Option '--no-toxiproxy' does not take an argument" },
  { name: '--provider bogus', argv: ['env', 'up', '--prometheus', '--provider', 'bogus'], exit: 2, message: '--provider must be one of auto, external, containers, native (got "bogus")' },
  { name: "--provider ''", argv: ['env', 'up', '--provider', ''], exit: 2, message: '--provider must be one of auto, external, containers, native (got "")' },
  { name: '--kafka-version with a path in it', argv: ['env', 'up', '--kafka-version', '../../etc'], exit: 2, message: '--kafka-version must be a Kafka release such as 4.4.0 or 3.9.1 (got "../../etc")' },
  { name: '--kafka-version latest', argv: ['env', 'up', '--kafka-version', 'latest'], exit: 2, message: '--kafka-version must be a Kafka release' },
  { name: '--kafka-security tls', argv: ['env', 'up', '--kafka-security', 'tls'], exit: 2, message: '--kafka-security must be one of plaintext, sasl_ssl (got "tls")' },
  { name: '--kafka-security SASL_SSL (case matters)', argv: ['env', 'up', '--kafka-security', 'SASL_SSL', ...NET], exit: 2, message: '--kafka-security must be one of plaintext, sasl_ssl (got "SASL_SSL")' },
  { name: "--kafka-security ''", argv: ['env', 'up', '--kafka-security', ''], exit: 2, message: '--kafka-security must be one of plaintext, sasl_ssl (got "")' },
  { name: '--rabbitmq-management-tls=yes (a switch takes no value)', argv: ['env', 'up', '--rabbitmq-management-tls=yes'], exit: 2, message: "Option '--rabbitmq-management-tls' does not take an argument" },
  {
    name: '--rabbitmq-management-tls with an external RabbitMQ (AMQP_URL set)',
    argv: ['env', 'up', '--rabbitmq-management-tls', '--provider', 'external'],
    env: { AMQP_URL: 'amqp://127.0.0.1:9' },
    exit: 2,
    message: 'withRabbitMq({ managementTls, statistics }) needs the native provider, but RabbitMQ would come from the external provider',
  },
  { name: '--rabbitmq-no-statistics=1 (a switch takes no value)', argv: ['env', 'up', '--rabbitmq-no-statistics=1'], exit: 2, message: "Option '--rabbitmq-no-statistics' does not take an argument" },
  {
    name: '--rabbitmq-no-statistics with an external RabbitMQ (AMQP_URL set)',
    argv: ['env', 'up', '--rabbitmq-no-statistics', '--provider', 'external'],
    env: { AMQP_URL: 'amqp://127.0.0.1:9' },
    exit: 2,
    message: 'needs the native provider, but RabbitMQ would come from the external provider',
  },
  { name: '--kafka-security without a value', argv: ['env', 'up', '--kafka-security'], exit: 2, message: "Option '--kafka-security <value>' argument missing" },
  { name: '--kafka-security with --kafka 0', argv: ['env', 'up', '--kafka', '0', '--rabbitmq', '--kafka-security', 'sasl_ssl'], exit: 2, message: '--kafka-security sasl_ssl needs Kafka, but --kafka 0 starts none' },
  {
    name: '--kafka-security sasl_ssl with an external Kafka (nothing installed)',
    argv: ['env', 'up', '--kafka-security', 'sasl_ssl', ...NET],
    env: EXTERNAL,
    exit: 2,
    message: "withKafka({ security: 'sasl_ssl' }) needs the native provider, but Kafka would come from the external provider",
  },
  { name: "--run-dir ''", argv: ['env', 'up', '--run-dir', ''], exit: 2, message: '--run-dir must name a folder' },
  { name: '--run-dir that cannot be created (no hang)', argv: ['env', 'up', '--kafka', '1', '--run-dir', '/proc/forbidden'], env: EXTERNAL, exit: 2, message: 'Cannot create the run directory /proc/forbidden' },
  { name: '--run-dir that is a file', argv: ['env', 'up', '--kafka', '1', '--run-dir', '{dir}/a-file'], env: EXTERNAL, files: { 'a-file': 'x' }, exit: 2, message: 'it exists and is not a folder' },
  { name: '--foreground with a bad provider', argv: ['env', 'up', '--foreground', '--provider', 'dockr'], exit: 2, message: '--provider must be one of' },
  { name: '--foreground=yes', argv: ['env', 'up', '--foreground=yes'], exit: 2, message: "Option '--foreground' does not take an argument" },
  { name: '--json with a bad --kafka', argv: ['env', 'up', '--json', '--kafka', 'x'], exit: 2, message: '--kafka must be a node count' },

  // Variables (item 6: a typo must not provision native brokers).
  { name: 'EDA_HARNESS_PROVIDER=bogus', argv: ['env', 'up', '--rabbitmq', ...NET], env: { EDA_HARNESS_PROVIDER: 'bogus' }, exit: 2, message: 'EDA_HARNESS_PROVIDER must be one of auto, external, containers, native (got "bogus")' },
  {
    name: "KAFKA_BROKERS='garbage, ,not a host:abc' with the external provider",
    argv: ['env', 'up', '--kafka', '1'],
    env: { EDA_HARNESS_PROVIDER: 'external', KAFKA_BROKERS: 'garbage, ,not a host:abc' },
    exit: 2,
    message: /KAFKA_BROKERS has invalid entries: "garbage": expected host:port; "not a host:abc": "not a host" is not a host name or IP address/,
  },
  { name: 'KAFKA_BROKERS with a bad port (auto provider)', argv: ['env', 'up', '--kafka', '1', ...NET], env: { KAFKA_BROKERS: '127.0.0.1:99999' }, exit: 2, message: 'KAFKA_BROKERS has an invalid entry: "127.0.0.1:99999": the port "99999" is not a number from 1 to 65535' },
  { name: 'KAFKA_BROKERS with a scheme', argv: ['env', 'up', '--kafka', '1', ...NET], env: { KAFKA_BROKERS: 'kafka://host:9092' }, exit: 2, message: 'KAFKA_BROKERS has an invalid entry: "kafka://host:9092"' },
  { name: '--provider external without KAFKA_BROKERS', argv: ['env', 'up', '--kafka', '1', '--provider', 'external'], exit: 2, message: 'provider "external" needs KAFKA_BROKERS to name the kafka service' },
  { name: 'AMQP_URL that is not a URL', argv: ['env', 'up', '--rabbitmq', '--provider', 'external'], env: { AMQP_URL: 'not a url' }, exit: 2, message: 'AMQP_URL "not a url": it is not a URL' },
  { name: 'AMQP_URL with an http scheme (password hidden)', argv: ['env', 'up', '--rabbitmq', '--provider', 'external'], env: { AMQP_URL: 'http://me:secret@host:5672' }, exit: 2, message: /AMQP_URL "http:\/\/me:\*\*\*@host:5672": its scheme is http, not amqp or amqps/ },
  { name: 'RABBITMQ_MANAGEMENT_URL that is not http', argv: ['env', 'up', '--rabbitmq', '--provider', 'external'], env: { AMQP_URL: 'amqp://127.0.0.1:1', RABBITMQ_MANAGEMENT_URL: 'ftp://host' }, exit: 2, message: 'RABBITMQ_MANAGEMENT_URL "ftp://host": its scheme is ftp, not http or https' },
  { name: 'PROMETHEUS_URL that is not a URL', argv: ['env', 'up', '--prometheus', '--provider', 'external'], env: { PROMETHEUS_URL: 'localhost:9090:x' }, exit: 2, message: 'PROMETHEUS_URL "localhost:9090:x"' },
  { name: 'EDA_HARNESS_KAFKA_VERSION with a path in it', argv: ['env', 'up', '--kafka', '1', '--provider', 'native', ...NET], env: { EDA_HARNESS_KAFKA_VERSION: '../../x' }, exit: 2, message: 'EDA_HARNESS_KAFKA_VERSION must be a Kafka release such as 4.4.0 or 3.9.1 (got "../../x")' },
  { name: 'DOCKER_HOST that is not an address', argv: ['env', 'up', '--rabbitmq', ...NET], env: { DOCKER_HOST: 'tcp://' }, exit: 2, message: 'DOCKER_HOST "tcp://" is not a tcp://host:port address' },
  { name: 'EDA_HARNESS_RUNS that cannot be created (no hang)', argv: ['env', 'up', '--kafka', '1'], env: { ...EXTERNAL, EDA_HARNESS_RUNS: '/proc/forbidden' }, exit: 2, message: 'Cannot create the runs directory (EDA_HARNESS_RUNS, default $TMPDIR/eda-harness) /proc/forbidden' },
  {
    name: 'EDA_HARNESS_RUNS that other users may write to',
    argv: ['env', 'up', '--kafka', '1'],
    env: { ...EXTERNAL, EDA_HARNESS_RUNS: '{dir}/shared' },
    before: (dir) => {
      mkdirSync(join(dir, 'shared'));
      chmodSync(join(dir, 'shared'), 0o777);
    },
    exit: 2,
    message: 'Refusing to use the runs directory {dir}/shared: other users may write to it (mode 777)',
  },

  // Nothing up, and a state file that cannot be read (item 6).
  { name: 'env status with nothing up', argv: ['env', 'status'], exit: 3, message: 'No environment is up' },
  { name: 'env status --json with nothing up prints JSON', argv: ['env', 'status', '--json'], exit: 3, message: /^\{\n {2}"up": false,\n {2}"stateFile": ".*current\.json"\n\}\n$/ },
  { name: 'env status --json=1', argv: ['env', 'status', '--json=1'], exit: 2, message: "Option '--json' does not take an argument" },
  { name: 'env down with nothing up', argv: ['env', 'down'], exit: 3, message: 'No environment is up.' },
  {
    name: 'env status with a corrupt current.json: unreadable, brokers may still run, what to do',
    argv: ['env', 'status'],
    before: stateFile(CORRUPT),
    exit: 2,
    message: /current\.json is unreadable \(it is not valid JSON[^)]*\): eda-harness cannot tell which environment is up, and its brokers may still be running\. Nothing was signalled or deleted\.\n {2}→ Stop leftover brokers yourself .* then delete .*current\.json/,
  },
  { name: 'env status --json with a corrupt current.json prints JSON too', argv: ['env', 'status', '--json'], before: stateFile(CORRUPT), exit: 2, message: /"up": null,\n {2}"stateFile": ".*current\.json",\n {2}"error": ".*is unreadable/ },
  { name: 'env down with a corrupt current.json refuses', argv: ['env', 'down'], before: stateFile(CORRUPT), exit: 2, message: /is unreadable .*brokers may still be running\. Nothing was signalled or deleted/ },
  { name: 'env down with a current.json of no known shape', argv: ['env', 'down'], before: stateFile('[1, 2, 3]'), exit: 2, message: 'is unreadable (it names no run directory)' },
  { name: 'env up with a corrupt current.json does not overwrite it', argv: ['env', 'up', '--kafka', '1'], env: EXTERNAL, before: stateFile(CORRUPT), exit: 2, message: 'is unreadable' },
  // (States naming pids 0 and 1, foreign processes and folders: test/unit/environment/planted-state.test.ts.)
];
