import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BadInputCase } from '../../../support/bad-input';

/**
 * `eda-harness exporter`: every flag, the environment variables and the config file. Each case is
 * refused before the exporter connects to a broker (an exporter given valid input would serve
 * until stopped, so there is no such case here). A broker address nothing listens on stands in
 * where a case needs a target: 127.0.0.1:9 is never contacted.
 */
const KAFKA = ['--kafka-brokers', '127.0.0.1:9'];
const config = (json: unknown): Record<string, string> => ({ 'exporter.json': JSON.stringify(json) });
const CONFIG = ['--config', '{dir}/exporter.json'];

/** A listener on a free port, and a config file that asks the exporter for that port. */
async function busyPort(dir: string): Promise<() => void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  writeFileSync(join(dir, 'busy.json'), JSON.stringify({ port, host: '127.0.0.1', kafka: { brokers: ['127.0.0.1:9'] } }));
  return () => server.close();
}

const exporterCases: readonly BadInputCase[] = [
  // No target, unknown flags, no positionals, --help.
  { name: 'no target at all', argv: [], exit: 2, message: 'nothing to export: no Kafka brokers and no RabbitMQ URL' },
  { name: '--once without a target', argv: ['--once'], exit: 2, message: 'nothing to export' },
  { name: '--once=yes (a switch takes no value)', argv: ['--once=yes', ...KAFKA], exit: 2, message: "Option '--once' does not take an argument" },
  { name: 'an unknown flag', argv: ['--kafka', '127.0.0.1:9'], exit: 2, message: "Unknown option '--kafka'" },
  { name: 'a positional argument', argv: ['now', ...KAFKA], exit: 2, message: "Unexpected argument 'now'" },
  { name: '--help prints the options, exit 0', argv: ['--help'], exit: 0, message: 'Usage: eda-harness exporter [options]' },

  // --kafka-brokers and KAFKA_BROKERS: host:port, each one.
  { name: "--kafka-brokers 'not a host'", argv: ['--kafka-brokers', 'not a host'], exit: 2, message: '--kafka-brokers: "not a host" is not host:port' },
  { name: '--kafka-brokers without a port', argv: ['--kafka-brokers', 'localhost'], exit: 2, message: '--kafka-brokers: "localhost" is not host:port' },
  { name: '--kafka-brokers with port 0', argv: ['--kafka-brokers', 'localhost:0'], exit: 2, message: '"localhost:0" is not host:port' },
  { name: '--kafka-brokers with port 99999', argv: ['--kafka-brokers', 'localhost:99999'], exit: 2, message: '"localhost:99999" is not host:port' },
  { name: '--kafka-brokers with an IPv6 literal (kafkajs cannot read it)', argv: ['--kafka-brokers', '[::1]:9092'], exit: 2, message: '"[::1]:9092" is not host:port' },
  { name: '--kafka-brokers: one bad entry among good ones', argv: ['--kafka-brokers', 'a:9092,b:x,c:9092'], exit: 2, message: '--kafka-brokers: "b:x" is not host:port' },
  { name: "--kafka-brokers ''", argv: ['--kafka-brokers', ''], exit: 2, message: '--kafka-brokers is empty (got "")' },
  { name: "--kafka-brokers ' , '", argv: ['--kafka-brokers', ' , '], exit: 2, message: '--kafka-brokers is empty' },
  { name: '--kafka-brokers without a value', argv: ['--kafka-brokers'], exit: 2, message: "Option '--kafka-brokers <value>' argument missing" },
  { name: 'KAFKA_BROKERS=garbage', argv: [], env: { KAFKA_BROKERS: 'garbage' }, exit: 2, message: 'KAFKA_BROKERS: "garbage" is not host:port' },
  { name: "KAFKA_BROKERS='a:1, ,not a host:abc'", argv: [], env: { KAFKA_BROKERS: 'a:1, ,not a host:abc' }, exit: 2, message: 'KAFKA_BROKERS: "not a host:abc" is not host:port' },
  { name: 'a flag wins over a bad variable only if the variable is valid too', argv: KAFKA, env: { KAFKA_BROKERS: 'garbage' }, exit: 2, message: 'KAFKA_BROKERS: "garbage"' },

  // RabbitMQ URLs: the right scheme, parseable, passwords never echoed.
  { name: "--rabbitmq-management-url 'not a url'", argv: ['--rabbitmq-management-url', 'not a url'], exit: 2, message: '--rabbitmq-management-url must be an http:// or https:// URL (got "not a url")' },
  { name: '--rabbitmq-management-url with an amqp:// scheme', argv: ['--rabbitmq-management-url', 'amqp://localhost:5672'], exit: 2, message: '--rabbitmq-management-url must be an http:// or https:// URL' },
  { name: "--rabbitmq-management-url ''", argv: ['--rabbitmq-management-url', ''], exit: 2, message: '--rabbitmq-management-url must be an http:// or https:// URL (got "")' },
  { name: 'RABBITMQ_MANAGEMENT_URL=::', argv: [], env: { RABBITMQ_MANAGEMENT_URL: '::' }, exit: 2, message: 'RABBITMQ_MANAGEMENT_URL must be an http:// or https:// URL (got "::")' },
  { name: '--amqp-url with an http:// scheme', argv: ['--amqp-url', 'http://localhost:5672'], exit: 2, message: '--amqp-url must be an amqp:// or amqps:// URL' },
  {
    name: '--amqp-url that does not parse: the password is masked',
    argv: ['--amqp-url', 'amqp://monitor:s3cret@rabbit mq:5672'],
    exit: 2,
    message: /^(?![\s\S]*s3cret)[\s\S]*--amqp-url must be an amqp:\/\/ or amqps:\/\/ URL \(got "amqp:\/\/monitor:\*\*\*@rabbit mq:5672"\)/,
  },
  { name: 'AMQP_URL=garbage', argv: [], env: { AMQP_URL: 'garbage' }, exit: 2, message: 'AMQP_URL must be an amqp:// or amqps:// URL (got "garbage")' },
  { name: "RABBITMQ_MANAGEMENT_USER='' is unset, a user in the file may not be empty", argv: CONFIG, files: config({ rabbitmq: { managementUrl: 'http://127.0.0.1:9', managementUser: '' } }), exit: 2, message: 'rabbitmq.managementUser must be a non-empty string (got "")' },
  { name: "--vhost ''", argv: ['--vhost', '', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--vhost must be a non-empty string (got "")' },

  // --port and --host: refused before listening; a busy port, an address not of this machine.
  { name: "--port ''", argv: ['--port', '', ...KAFKA], exit: 2, message: '--port must be an integer from 0 to 65535 (got "")' },
  { name: '--port abc', argv: ['--port', 'abc', ...KAFKA], exit: 2, message: '--port must be an integer from 0 to 65535 (got "abc")' },
  { name: '--port 70000', argv: ['--port', '70000', ...KAFKA], exit: 2, message: '--port must be an integer from 0 to 65535 (got "70000")' },
  { name: '--port=-1', argv: ['--port=-1', ...KAFKA], exit: 2, message: '--port must be an integer from 0 to 65535 (got "-1")' },
  { name: '--port 9464.5', argv: ['--port', '9464.5', ...KAFKA], exit: 2, message: '(got "9464.5")' },
  { name: '--port 0x10 (decimal only)', argv: ['--port', '0x10', ...KAFKA], exit: 2, message: '(got "0x10")' },
  { name: '--port followed by another flag', argv: ['--port', '--once', ...KAFKA], exit: 2, message: "Option '--port' argument is ambiguous" },
  { name: 'EDA_EXPORTER_PORT=abc', argv: KAFKA, env: { EDA_EXPORTER_PORT: 'abc' }, exit: 2, message: 'EDA_EXPORTER_PORT must be an integer from 0 to 65535 (got "abc")' },
  { name: 'a busy port', argv: ['--config', '{dir}/busy.json'], before: busyPort, exit: 1, message: /cannot listen on 127\.0\.0\.1:\d+ \(\S+busy\.json: port\): the port is already in use/ },
  { name: "--host 'bad host'", argv: ['--host', 'bad host', ...KAFKA], exit: 2, message: '--host must be a host name or IP address (got "bad host")' },
  { name: "--host ''", argv: ['--host', '', ...KAFKA], exit: 2, message: '--host must be a host name or IP address (got "")' },
  { name: '--host: an address that is not this machine’s', argv: ['--host', '192.0.2.1', '--port', '0', ...KAFKA], exit: 2, message: 'cannot listen on 192.0.2.1:0 (--host): 192.0.2.1 is not an address of this machine' },
  { name: "EDA_EXPORTER_HOST='bad host'", argv: KAFKA, env: { EDA_EXPORTER_HOST: 'bad host' }, exit: 2, message: 'EDA_EXPORTER_HOST must be a host name or IP address' },

  // Durations: in range, so Node's timers never overflow (2147484 s would fire every millisecond).
  { name: '--interval 2147484 (beyond Node timers)', argv: ['--interval', '2147484', ...KAFKA], exit: 2, message: '--interval must be a number of seconds from 0.1 to 86400 (got "2147484")' },
  { name: '--interval 0', argv: ['--interval', '0', ...KAFKA], exit: 2, message: '--interval must be a number of seconds from 0.1 to 86400 (got "0")' },
  { name: "--interval ''", argv: ['--interval', '', ...KAFKA], exit: 2, message: '--interval must be a number of seconds from 0.1 to 86400 (got "")' },
  { name: '--interval 1e999', argv: ['--interval', '1e999', ...KAFKA], exit: 2, message: '(got "1e999")' },
  { name: '--interval soon', argv: ['--interval', 'soon', ...KAFKA], exit: 2, message: '(got "soon")' },
  { name: 'EDA_EXPORTER_INTERVAL_SECONDS=86401', argv: KAFKA, env: { EDA_EXPORTER_INTERVAL_SECONDS: '86401' }, exit: 2, message: 'EDA_EXPORTER_INTERVAL_SECONDS must be a number of seconds from 0.1 to 86400 (got "86401")' },
  { name: '--status-window 0', argv: ['--status-window', '0', ...KAFKA], exit: 2, message: '--status-window must be a number of seconds from 1 to 604800 (got "0")' },
  { name: '--status-window 1e9 digits', argv: ['--status-window', '1000000000', ...KAFKA], exit: 2, message: '--status-window must be a number of seconds from 1 to 604800' },
  { name: 'EDA_EXPORTER_STATUS_WINDOW_SECONDS=-5', argv: KAFKA, env: { EDA_EXPORTER_STATUS_WINDOW_SECONDS: '-5' }, exit: 2, message: 'EDA_EXPORTER_STATUS_WINDOW_SECONDS must be a number of seconds from 1 to 604800 (got "-5")' },

  // --granularity.
  { name: '--granularity group', argv: ['--granularity', 'group', ...KAFKA], exit: 2, message: '--granularity must be "partition" or "topic" (got "group")' },
  { name: 'EDA_EXPORTER_GRANULARITY=Topic', argv: KAFKA, env: { EDA_EXPORTER_GRANULARITY: 'Topic' }, exit: 2, message: 'EDA_EXPORTER_GRANULARITY must be "partition" or "topic" (got "Topic")' },

  // Filters and dead-letter patterns: an empty one would silently mean "everything".
  { name: "--group-allow ''", argv: ['--group-allow', '', ...KAFKA], exit: 2, message: '--group-allow is empty (got "")' },
  { name: "--group-deny ' , '", argv: ['--group-deny', ' , ', ...KAFKA], exit: 2, message: '--group-deny is empty' },
  { name: "--topic-allow: the second occurrence ''", argv: ['--topic-allow', 'orders-*', '--topic-allow', '', ...KAFKA], exit: 2, message: '--topic-allow is empty' },
  { name: "--topic-deny ''", argv: ['--topic-deny', '', ...KAFKA], exit: 2, message: '--topic-deny is empty' },
  { name: "--queue-allow ''", argv: ['--queue-allow', '', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--queue-allow is empty' },
  { name: "--queue-deny ''", argv: ['--queue-deny', '', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--queue-deny is empty' },
  { name: "--kafka-dlq-pattern ''", argv: ['--kafka-dlq-pattern', '', ...KAFKA], exit: 2, message: '--kafka-dlq-pattern is empty' },
  { name: "--rabbitmq-dlq-pattern ''", argv: ['--rabbitmq-dlq-pattern', '', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--rabbitmq-dlq-pattern is empty' },
  { name: "EDA_EXPORTER_GROUP_ALLOW=','", argv: KAFKA, env: { EDA_EXPORTER_GROUP_ALLOW: ',' }, exit: 2, message: 'EDA_EXPORTER_GROUP_ALLOW is empty' },

  // The config file: readable JSON, known keys only, the right types, named by their path.
  { name: '--config: a missing file', argv: ['--config', '{dir}/missing.json'], exit: 2, message: 'cannot read the exporter config file {dir}/missing.json (--config): ENOENT' },
  { name: "--config ''", argv: ['--config', ''], exit: 2, message: '--config must be a file name (got "")' },
  { name: '--config: a folder', argv: ['--config', '{dir}'], exit: 2, message: 'cannot read the exporter config file {dir} (--config): EISDIR' },
  { name: 'EDA_EXPORTER_CONFIG: a missing file', argv: [], env: { EDA_EXPORTER_CONFIG: '{dir}/missing.json' }, exit: 2, message: '(EDA_EXPORTER_CONFIG): ENOENT' },
  { name: '--config: invalid JSON', argv: CONFIG, files: { 'exporter.json': '{"kafka": ' }, exit: 2, message: '{dir}/exporter.json is not valid JSON' },
  { name: '--config: a JSON array', argv: CONFIG, files: config([]), exit: 2, message: '{dir}/exporter.json must hold a JSON object (got [])' },
  { name: '--config: a misspelt groups.alow (would export every group)', argv: CONFIG, files: config({ kafka: { brokers: ['127.0.0.1:9'], groups: { alow: ['orders-*'] } } }), exit: 2, message: /unknown key kafka\.groups\.alow\n.*Known keys of kafka\.groups: allow, deny/ },
  { name: '--config: an unknown top-level key', argv: CONFIG, files: config({ kafak: { brokers: ['127.0.0.1:9'] } }), exit: 2, message: /unknown key kafak\n.*Known top-level keys: kafka, rabbitmq, port, host, intervalSeconds, granularity/ },
  { name: '--config: kafka.brokers as a string', argv: CONFIG, files: config({ kafka: { brokers: '127.0.0.1:9' } }), exit: 2, message: '{dir}/exporter.json: kafka.brokers must be a list of strings (got "127.0.0.1:9")' },
  { name: '--config: a bad broker, named kafka.brokers', argv: CONFIG, files: config({ kafka: { brokers: ['garbage'] } }), exit: 2, message: '{dir}/exporter.json: kafka.brokers: "garbage" is not host:port' },
  { name: '--config: port as a string', argv: CONFIG, files: config({ port: '9464', kafka: { brokers: ['127.0.0.1:9'] } }), exit: 2, message: '{dir}/exporter.json: port must be a number (got "9464")' },
  { name: '--config: intervalSeconds 1e999', argv: CONFIG, files: { 'exporter.json': '{"intervalSeconds": 1e999, "kafka": {"brokers": ["127.0.0.1:9"]}}' }, exit: 2, message: 'intervalSeconds must be a number of seconds from 0.1 to 86400 (got Infinity)' },
  { name: '--config: kafka.groups as a list', argv: CONFIG, files: config({ kafka: { brokers: ['127.0.0.1:9'], groups: ['a'] } }), exit: 2, message: '{dir}/exporter.json: kafka.groups must be an object (got ["a"])' },
  { name: '--config: an empty glob in rabbitmq.queues.allow', argv: CONFIG, files: config({ rabbitmq: { amqpUrl: 'amqp://127.0.0.1:9', queues: { allow: [''] } } }), exit: 2, message: 'rabbitmq.queues.allow: "" is not a non-empty glob' },

  // Kafka TLS and SASL: secrets from files, settings that fit together, refused before connecting.
  { name: '--kafka-sasl-password (a secret on the command line)', argv: [...KAFKA, '--kafka-sasl-password', 'hunter2'], exit: 2, message: '--kafka-sasl-password is refused: a password on the command line is visible to every user of the machine (ps)' },
  { name: '--kafka-sasl-mechanism gssapi', argv: [...KAFKA, '--kafka-sasl-mechanism', 'gssapi'], exit: 2, message: '--kafka-sasl-mechanism must be one of plain, scram-sha-256, scram-sha-512, oauthbearer (got "gssapi")' },
  { name: '--kafka-sasl-mechanism without a user', argv: [...KAFKA, '--kafka-sasl-mechanism', 'SCRAM-SHA-512', '--kafka-sasl-password-file', '{dir}/pw'], files: { pw: 'secret\n' }, exit: 2, message: 'SASL mechanism SCRAM-SHA-512 needs a user name: give kafka.sasl.username (--kafka-sasl-username, KAFKA_SASL_USERNAME)' },
  { name: '--kafka-sasl-username without a mechanism', argv: [...KAFKA, '--kafka-sasl-username', 'u'], exit: 2, message: 'is set but no SASL mechanism is' },
  { name: '--kafka-sasl-password-file: a missing file', argv: [...KAFKA, '--kafka-sasl-mechanism', 'plain', '--kafka-sasl-username', 'u', '--kafka-sasl-password-file', '{dir}/absent'], exit: 2, message: 'cannot read the Kafka SASL password file (kafka.sasl.passwordFile (--kafka-sasl-password-file, KAFKA_SASL_PASSWORD_FILE)) {dir}/absent: no such file' },
  { name: 'KAFKA_SASL_PASSWORD_FILE: a folder', argv: [...KAFKA, '--kafka-sasl-mechanism', 'plain', '--kafka-sasl-username', 'u'], env: { KAFKA_SASL_PASSWORD_FILE: '{dir}' }, exit: 2, message: '{dir}: it is a directory' },
  { name: '--kafka-sasl-token-file: an empty file', argv: [...KAFKA, '--kafka-sasl-mechanism', 'oauthbearer', '--kafka-sasl-token-file', '{dir}/token'], files: { token: '' }, exit: 2, message: 'kafka.sasl.tokenFile (--kafka-sasl-token-file, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE) {dir}/token is empty' },
  { name: '--kafka-sasl-token-command with SCRAM', argv: [...KAFKA, '--kafka-sasl-mechanism', 'scram-sha-256', '--kafka-sasl-token-command', 'get-token'], exit: 2, message: 'is for OAUTHBEARER, not SCRAM-SHA-256' },
  { name: '--kafka-security-protocol tls', argv: [...KAFKA, '--kafka-security-protocol', 'tls'], exit: 2, message: '--kafka-security-protocol must be one of plaintext, ssl, sasl_plaintext, sasl_ssl (got "tls")' },
  { name: '--kafka-tls-ca-file: not a PEM file', argv: [...KAFKA, '--kafka-tls-ca-file', '{dir}/ca.jks'], files: { 'ca.jks': 'binary' }, exit: 2, message: 'holds no PEM certificate' },
  { name: '--kafka-tls-cert-file without a key', argv: [...KAFKA, '--kafka-tls-cert-file', '{dir}/cert.pem'], files: { 'cert.pem': 'x' }, exit: 2, message: 'is set but kafka.tls.keyFile (--kafka-tls-key-file, KAFKA_TLS_KEY_FILE) is not' },
  { name: '--kafka-tls-key-file: a missing file', argv: [...KAFKA, '--kafka-tls-cert-file', '{dir}/cert.pem', '--kafka-tls-key-file', '{dir}/absent.key'], files: { 'cert.pem': 'x' }, exit: 2, message: '{dir}/absent.key: no such file' },
  { name: "--kafka-tls-servername 'not a host'", argv: [...KAFKA, '--kafka-tls-servername', 'not a host'], exit: 2, message: '--kafka-tls-servername must be a host name or IP address' },

  { name: '--rabbitmq-management-password-file: a missing file', argv: ['--rabbitmq-management-url', 'http://127.0.0.1:9', '--rabbitmq-management-password-file', '{dir}/absent'], exit: 2, message: 'cannot read rabbitmq.managementPasswordFile (--rabbitmq-management-password-file, RABBITMQ_MANAGEMENT_PASSWORD_FILE) {dir}/absent: no such file' },

  // Timeouts, concurrency, the client id and the per-group allowed lag.
  { name: '--collect-timeout 0', argv: ['--collect-timeout', '0', ...KAFKA], exit: 2, message: '--collect-timeout must be a positive number of seconds up to 2147483 (got "0")' },
  { name: 'EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS=never', argv: KAFKA, env: { EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS: 'never' }, exit: 2, message: 'EDA_EXPORTER_COLLECT_TIMEOUT_SECONDS must be a positive number of seconds' },
  { name: '--kafka-concurrency 0', argv: ['--kafka-concurrency', '0', ...KAFKA], exit: 2, message: '--kafka-concurrency must be an integer from 1 to 1000 (got "0")' },
  { name: '--kafka-request-timeout-ms 5s', argv: ['--kafka-request-timeout-ms', '5s', ...KAFKA], exit: 2, message: '--kafka-request-timeout-ms must be an integer number of milliseconds from 100 to 2147483000 (got "5s")' },
  { name: "--kafka-client-id ''", argv: ['--kafka-client-id', '', ...KAFKA], exit: 2, message: '--kafka-client-id must be a non-empty string (got "")' },
  { name: '--kafka-allowed-lag without a count', argv: ['--kafka-allowed-lag', 'etl-*', ...KAFKA], exit: 2, message: '--kafka-allowed-lag: "etl-*" is not group-glob=messages' },
  { name: 'KAFKA_ALLOWED_LAG with a negative count', argv: KAFKA, env: { KAFKA_ALLOWED_LAG: 'etl-*=100000,reporting=-1' }, exit: 2, message: 'KAFKA_ALLOWED_LAG: "reporting=-1" is not group-glob=messages' },
  { name: '--config: kafka.allowedLag in the flag form', argv: CONFIG, files: config({ kafka: { brokers: ['127.0.0.1:9'], allowedLag: 'etl-*=5' } }), exit: 2, message: 'kafka.allowedLag must be a list of { "groups": glob, "messages": count } (got "etl-*=5")' },

  // RabbitMQ collector settings: timeouts, pages, DLQ deny and retry patterns, TLS, the Prometheus endpoint.
  { name: '--rabbitmq-request-timeout-ms 0', argv: ['--rabbitmq-request-timeout-ms', '0', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--rabbitmq-request-timeout-ms must be an integer number of milliseconds from 100' },
  { name: '--rabbitmq-management-page-size 1000', argv: ['--rabbitmq-management-page-size', '1000', '--rabbitmq-management-url', 'http://127.0.0.1:9'], exit: 2, message: '--rabbitmq-management-page-size must be an integer from 1 to 500 (got "1000")' },
  { name: "--rabbitmq-dlq-deny ''", argv: ['--rabbitmq-dlq-deny', '', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--rabbitmq-dlq-deny is empty' },
  { name: "--rabbitmq-retry-queue-pattern ' , '", argv: ['--rabbitmq-retry-queue-pattern', ' , ', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--rabbitmq-retry-queue-pattern is empty' },
  { name: '--rabbitmq-prometheus-url without a scheme', argv: ['--rabbitmq-prometheus-url', '127.0.0.1:15692', '--amqp-url', 'amqp://127.0.0.1:9'], exit: 2, message: '--rabbitmq-prometheus-url must be an http:// or https:// URL (got "127.0.0.1:15692")' },
  { name: '--rabbitmq-management-ca-file: a missing file', argv: ['--rabbitmq-management-url', 'https://127.0.0.1:9', '--rabbitmq-management-ca-file', '{dir}/absent.pem'], exit: 2, message: 'cannot read rabbitmq.managementCaFile (--rabbitmq-management-ca-file, RABBITMQ_MANAGEMENT_CA_FILE) {dir}/absent.pem: no such file' },
  { name: '--rabbitmq-management-ca-file with an http:// URL', argv: ['--rabbitmq-management-url', 'http://127.0.0.1:9', '--rabbitmq-management-ca-file', '{dir}/ca.pem'], files: { 'ca.pem': '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' }, exit: 2, message: 'is not https: the CA is only used over TLS' },
  { name: 'RABBITMQ_MANAGEMENT_CA_FILE: not a PEM file', argv: ['--rabbitmq-management-url', 'https://127.0.0.1:9'], env: { RABBITMQ_MANAGEMENT_CA_FILE: '{dir}/ca.jks' }, files: { 'ca.jks': 'binary' }, exit: 2, message: '{dir}/ca.jks holds no PEM certificate' },

  // Several clusters: names, the label, the file's lists.
  { name: "--kafka-cluster-name ''", argv: [...KAFKA, '--kafka-cluster-name', ''], exit: 2, message: '--kafka-cluster-name must be a non-empty string (got "")' },
  { name: "--rabbitmq-server-name ''", argv: ['--amqp-url', 'amqp://127.0.0.1:9', '--rabbitmq-server-name', ''], exit: 2, message: '--rabbitmq-server-name must be a non-empty string (got "")' },
  { name: '--cluster-label 2nd', argv: [...KAFKA, '--cluster-label', '2nd'], exit: 2, message: '--cluster-label must be a Prometheus label name' },
  { name: '--cluster-label group (a label the exporter uses)', argv: [...KAFKA, '--cluster-label', 'group'], exit: 2, message: 'must not be a label the exporter already uses (got "group")' },
  { name: '--config: a Kafka cluster without a name', argv: CONFIG, files: config({ kafkaClusters: [{ brokers: ['127.0.0.1:9'] }] }), exit: 2, message: 'kafkaClusters[0].name is missing: every item of kafkaClusters needs a name' },
  { name: '--config: two clusters of one name', argv: CONFIG, files: config({ kafka: { brokers: ['127.0.0.1:9'] }, kafkaClusters: [{ name: 'default', brokers: ['127.0.0.1:9'] }] }), exit: 2, message: 'two Kafka clusters are named "default": their series would collide' },
  { name: '--config: a bad broker in a list item', argv: CONFIG, files: config({ kafkaClusters: [{ name: 'a', brokers: ['garbage'] }] }), exit: 2, message: '{dir}/exporter.json: kafkaClusters[0].brokers: "garbage" is not host:port' },
  { name: '--config: an unknown key in a list item', argv: CONFIG, files: config({ rabbitmqServers: [{ name: 'a', amqpUrl: 'amqp://127.0.0.1:9', vhosts: [] }] }), exit: 2, message: 'unknown key rabbitmqServers[0].vhosts' },
  { name: 'a flag does not hide a bad config file', argv: [...CONFIG, '--port', '9000'], files: config({ port: -1 }), exit: 2, message: '{dir}/exporter.json: port must be an integer from 0 to 65535 (got -1)' },
];

/** Each case's argv follows the command word. */
export const cases: readonly BadInputCase[] = exporterCases.map((c) => ({ ...c, argv: ['exporter', ...c.argv] }));
